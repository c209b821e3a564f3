/**
 * What a node publishes over NATS goes out once per turn of the event loop
 * (lib/nats-transporter.ts `coalesceWrites`): calls made from separate callbacks of one turn —
 * as a gateway makes them, one per HTTP request — leave in one socket write, every call is
 * answered with its own answer, and messages keep the order they were published in. Two
 * brokers of the project's configuration over the real NATS server.
 */
import { ServiceBroker } from "moleculer";
import { connect, type NatsConnection } from "nats";
import { brokerOptions } from "../../moleculer.config";
import { config } from "../../lib/config";
import { coalesceWrites } from "../../lib/nats-transporter";

/** The nats.js connection of a broker's transporter, and its socket writes counted. */
function countWrites(broker: ServiceBroker): { client: NatsConnection; writes: () => number } {
  const client = (broker.transit!.tx as unknown as { client: NatsConnection }).client;
  const transport = (
    client as unknown as { protocol: { transport: { send(b: Uint8Array): void } } }
  ).protocol.transport;
  const send = transport.send.bind(transport);
  let writes = 0;
  transport.send = (frame: Uint8Array) => {
    writes += 1;
    return send(frame);
  };
  return { client, writes: () => writes };
}

/** `n` calls, each from its own setImmediate callback of one turn. */
function callsFromSeparateCallbacks(broker: ServiceBroker, n: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<number>((resolve, reject) => {
          setImmediate(() => {
            broker.call<number, { i: number }>("counter.double", { i }).then(resolve, reject);
          });
        }),
    ),
  );
}

describe("NATS writes, once per turn of the event loop", () => {
  const namespace = `nw${process.pid}`;
  const options = (nodeID: string) => ({
    ...brokerOptions({ ...config(), cacher: undefined, namespace, nodeId: nodeID }),
    metrics: { enabled: false },
    logger: false,
  });
  const caller = new ServiceBroker(options(`${namespace}-caller`));
  const callee = new ServiceBroker(options(`${namespace}-callee`));
  callee.createService({
    name: "counter",
    actions: { double: (ctx) => (ctx.params as { i: number }).i * 2 },
  });

  beforeAll(async () => {
    expect(process.env.TRANSPORTER).toMatch(/^nats:/);
    await Promise.all([caller.start(), callee.start()]);
    await caller.waitForServices(["counter"], 20_000);
  });
  afterAll(() => Promise.all([caller.stop(), callee.stop()]));

  it("sends the calls of separate callbacks of one turn in one write, each answered", async () => {
    const { writes } = countWrites(caller);
    // Heartbeats and discovery may add a write in between: repeat and take the fewest.
    let fewest = Infinity;
    for (let round = 0; round < 5; round++) {
      const before = writes();
      const answers = await callsFromSeparateCallbacks(caller, 20);
      expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
      fewest = Math.min(fewest, writes() - before);
    }
    // nats.js alone writes once per callback: 20 writes for 20 calls.
    expect(fewest).toBeLessThanOrEqual(2);
  });

  it("keeps the order of publishing, also past nats.js's inline-flush limit", async () => {
    const { client } = countWrites(caller);
    const probe = await connect({ servers: new URL(process.env.TRANSPORTER!).host });
    try {
      const subject = `${namespace}.order`;
      const got: number[] = [];
      const sub = probe.subscribe(subject, { max: 3000 });
      const done = (async () => {
        for await (const m of sub) got.push(parseInt(new TextDecoder().decode(m.data), 10));
      })();
      await probe.flush();
      // In separate callbacks, every 100th message large enough (40 kB) that nats.js writes
      // its buffer at once instead of at the end of the turn.
      const large = " ".repeat(40_000);
      await new Promise<void>((resolve) => {
        let i = 0;
        const next = () => {
          for (let k = 0; k < 100; k++, i++)
            client.publish(subject, k === 99 ? `${i}${large}` : `${i}`);
          if (i < 3000) setImmediate(next);
          else resolve();
        };
        setImmediate(next);
      });
      await done;
      expect(got).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    } finally {
      await probe.close();
    }
  });

  it("leaves a client alone when its writer is not the expected one", () => {
    expect(coalesceWrites({} as NatsConnection)).toBe(false);
    expect(coalesceWrites({ protocol: { sendCommand() {} } } as unknown as NatsConnection)).toBe(
      false,
    );
  });
});
