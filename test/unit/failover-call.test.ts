/**
 * lib/failover-call.ts: a read whose replica stops answering is answered by another replica
 * within about one hedge delay, and a replica that is only slow still answers. Brokers on
 * moleculer's in-process transporter (the real protocol, one process): a caller and replicas
 * of `users.resolveToken`, one of which never answers. The callers' balancer picks at random,
 * so a second try sent without a node id would meet the silent replica again about half the
 * time.
 */
import { ServiceBroker } from "moleculer";
import { callWithFailover } from "../../lib/failover-call";

const HEDGE_MS = 200;

type Answer = () => Promise<unknown>;
const never: Answer = () => new Promise(() => undefined);
const after =
  (ms: number, nodeID: string): Answer =>
  () =>
    new Promise((resolve) => setTimeout(() => resolve({ answeredBy: nodeID }), ms));

/** A broker on `namespace`; with `answer`, a replica of users.resolveToken that answers so. */
function node(nodeID: string, namespace: string, answer?: Answer): ServiceBroker {
  const broker = new ServiceBroker({
    nodeID,
    namespace: `failover-${namespace}-${process.pid}`,
    transporter: "Fake",
    logger: false,
    registry: { strategy: "Random" },
  });
  if (answer) broker.createService({ name: "users", actions: { resolveToken: answer } });
  return broker;
}

describe("callWithFailover", () => {
  const caller = node("caller", "a");
  const silent = node("silent", "a", never);
  const live = node("live", "a", after(0, "live"));

  // A slow replica (answers after 1.5 hedge delays, as a live one on a busy box can) and a
  // silent one, on their own namespace.
  const slowCaller = node("caller", "b");
  const slowSilent = node("silent", "b", never);
  const slow = node("slow", "b", after(HEDGE_MS * 1.5, "slow"));
  const all = [caller, silent, live, slowCaller, slowSilent, slow];

  async function bothReplicasSeen(broker: ServiceBroker) {
    await broker.waitForServices("users");
    for (
      let i = 0;
      i < 50 && broker.registry.getActionEndpoints("users.resolveToken")?.count() !== 2;
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 20));
  }

  beforeAll(async () => {
    await Promise.all(all.map((b) => b.start()));
    await Promise.all([bothReplicasSeen(caller), bothReplicasSeen(slowCaller)]);
  });
  afterAll(() => Promise.all(all.map((b) => b.stop())));

  it("answers from the live replica when the one it was sent to is silent, every time", async () => {
    for (let i = 0; i < 16; i++) {
      const started = Date.now();
      const answer = await callWithFailover<{ answeredBy: string }, { token: string }>(
        caller,
        "users.resolveToken",
        { token: "t" },
        HEDGE_MS,
      );
      expect(answer.answeredBy).toBe("live");
      // One hedge delay on the silent replica at most, then the live one.
      expect(Date.now() - started).toBeLessThan(HEDGE_MS + 150);
    }
  });

  it("takes the slow replica's late answer when the other one is silent", async () => {
    // A try that timed out on the slow replica would be retried on the silent one and fail.
    for (let i = 0; i < 4; i++) {
      const answer = await callWithFailover<{ answeredBy: string }, { token: string }>(
        slowCaller,
        "users.resolveToken",
        { token: "t" },
        HEDGE_MS,
      );
      expect(answer.answeredBy).toBe("slow");
    }
  });

  it("passes on an answer from the service without asking the other replica", async () => {
    let calls = 0;
    const refuse: Answer = () => (calls++, Promise.reject(new Error("bad token")));
    const asker = node("caller", "c");
    const failing = node("failing", "c", refuse);
    const other = node("other", "c", refuse);
    await Promise.all([failing.start(), other.start(), asker.start()]);
    try {
      await bothReplicasSeen(asker);
      for (let i = 0; i < 4; i++) {
        await expect(
          callWithFailover(asker, "users.resolveToken", { token: "t" }, HEDGE_MS),
        ).rejects.toThrow("bad token");
      }
      // One call each: none was repeated on the other replica.
      expect(calls).toBe(4);
    } finally {
      await Promise.all([failing.stop(), other.stop(), asker.stop()]);
    }
  });

  it("refuses an action that is not safe to repeat", async () => {
    await expect(callWithFailover(caller, "orders.create", {}, HEDGE_MS)).rejects.toThrow(
      /not safe to repeat/,
    );
  });
});
