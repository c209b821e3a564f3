/**
 * lib/failover-call.ts: a read whose replica stops answering is answered by another replica,
 * once, within about two timeouts. Three brokers on moleculer's in-process transporter (the
 * real protocol, one process): a caller and two replicas of `users.resolveToken`, one of which
 * never answers. The callers' balancer picks at random, so a second try sent without a node id
 * would meet the silent replica again about half the time.
 */
import { ServiceBroker } from "moleculer";
import { callWithFailover } from "../../lib/failover-call";

const TIMEOUT_MS = 200;

function node(nodeID: string, silent: boolean): ServiceBroker {
  const broker = new ServiceBroker({
    nodeID,
    namespace: `failover-${process.pid}`,
    transporter: "Fake",
    logger: false,
    registry: { strategy: "Random" },
  });
  if (nodeID !== "caller") {
    broker.createService({
      name: "users",
      actions: {
        resolveToken: () => (silent ? new Promise(() => undefined) : { answeredBy: nodeID }),
      },
    });
  }
  return broker;
}

describe("callWithFailover", () => {
  const caller = node("caller", false);
  const silent = node("silent", true);
  const live = node("live", false);

  beforeAll(async () => {
    await Promise.all([caller.start(), silent.start(), live.start()]);
    await caller.waitForServices("users");
    for (
      let i = 0;
      i < 50 && caller.registry.getActionEndpoints("users.resolveToken")?.count() !== 2;
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 20));
  });
  afterAll(() => Promise.all([caller.stop(), silent.stop(), live.stop()]));

  it("answers from the live replica when the one it was sent to is silent, every time", async () => {
    for (let i = 0; i < 16; i++) {
      const started = Date.now();
      const answer = await callWithFailover<{ answeredBy: string }, { token: string }>(
        caller,
        "users.resolveToken",
        { token: "t" },
        TIMEOUT_MS,
      );
      expect(answer.answeredBy).toBe("live");
      // One timeout on the silent replica at most, then the live one.
      expect(Date.now() - started).toBeLessThan(2 * TIMEOUT_MS + 150);
    }
  });

  it("refuses an action that is not safe to repeat", async () => {
    await expect(callWithFailover(caller, "orders.create", {}, TIMEOUT_MS)).rejects.toThrow(
      /not safe to repeat/,
    );
  });
});
