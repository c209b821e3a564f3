/**
 * A write's clean is never undone by a read that was running when the write landed
 * (lib/cache-guard.ts). The broker's own cacher from moleculer.config.ts: in memory in the plain
 * run, Redis in the stack run.
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { config } from "../../lib/config";
import { waitFor } from "../helpers/wait";

describe("the cache after a write that races a read", () => {
  let broker: ServiceBroker;
  const db = new Map<string, string>();
  let handlerRuns = 0;
  /** When set, a read waits here after it has read the "database". */
  let gate: Promise<void> | null = null;

  beforeAll(async () => {
    broker = new ServiceBroker({
      ...brokerOptions(config()),
      transporter: null,
      nodeID: `cache-race-${process.pid}`,
      logger: false,
    });
    broker.createService({
      name: "racer",
      actions: {
        read: {
          cache: { keys: ["id"] },
          async handler(ctx) {
            handlerRuns++;
            const value = db.get(ctx.params.id);
            if (gate) await gate;
            return { value };
          },
        },
        async write(ctx) {
          db.set(ctx.params.id, ctx.params.value);
          await this.broker.cacher!.clean("racer.**");
        },
      },
    });
    await broker.start();
    // Redis connects after the start; until then moleculer calls the actions uncached.
    await waitFor(
      async () => (broker.cacher as unknown as { connected: boolean | null }).connected,
      (connected) => connected !== false,
    );
  });
  afterAll(() => broker.stop());

  const read = (id: string) => broker.call<{ value: string }, { id: string }>("racer.read", { id });

  it("keeps serving hits when nothing was written meanwhile", async () => {
    db.set("a", "one");
    const before = handlerRuns;
    expect(await read("a")).toEqual({ value: "one" });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the store lands
    expect(await read("a")).toEqual({ value: "one" });
    expect(await read("a")).toEqual({ value: "one" });
    expect(handlerRuns - before).toBe(1);
  });

  it("does not store what a read saw before a write that cleaned meanwhile", async () => {
    db.set("b", "old");
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const started = handlerRuns;
    const slow = read("b"); // misses, reads "old", waits at the gate
    await waitFor(
      async () => handlerRuns,
      (runs) => runs > started,
    );

    await broker.call("racer.write", { id: "b", value: "new" });
    gate = null;
    open();
    expect(await slow).toEqual({ value: "old" }); // it began before the write: fine

    // Every read that follows the write's answer sees the write, including after the slow
    // read's store would have landed.
    for (let i = 0; i < 5; i++) {
      expect(await read("b")).toEqual({ value: "new" });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});
