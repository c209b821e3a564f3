/**
 * lib/deferred-metrics.ts: moleculer's metric updates gathered and applied once a second and
 * before every read. Two caller/callee pairs on moleculer's in-process transporter make the same
 * calls, one pair with the deferral, one with moleculer as it is; what an operator reads must be
 * the same, except `moleculer.transit.requests.active`, which moleculer only grows.
 */
import { METRIC, ServiceBroker, type BrokerOptions } from "moleculer";
import { DeferredMetricsMiddleware, FLUSH_MS } from "../../lib/deferred-metrics";

interface Listed {
  name: string;
  values: Array<{
    key: string;
    value?: number;
    count?: number;
    sum?: number;
    buckets?: Record<string, number>;
    quantiles?: Record<string, number>;
  }>;
}

function pair(tag: string, deferred: boolean) {
  const opts = (nodeID: string): BrokerOptions => ({
    nodeID,
    namespace: `${tag}-${process.pid}`,
    transporter: "Fake",
    logger: false,
    metrics: { enabled: true },
    middlewares: deferred ? [DeferredMetricsMiddleware] : [],
  });
  const caller = new ServiceBroker(opts("caller"));
  const callee = new ServiceBroker(opts("callee"));
  callee.createService({
    name: "math",
    actions: {
      half: (ctx) => {
        const n = (ctx.params as { n: number }).n;
        if (n % 2) throw new Error("odd");
        return n / 2;
      },
    },
  });
  caller.createService({ name: "local", actions: { ping: () => "pong" } });
  return { caller, callee };
}

/** The same calls on both pairs: 40 remote (10 of them failing), 15 local. */
async function traffic(caller: ServiceBroker) {
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      caller.call("math.half", { n: i % 4 === 1 ? 3 : 2 * i }).catch(() => null),
    ),
  );
  for (let i = 0; i < 15; i++) await caller.call("local.ping");
}

const byName = (list: unknown, name: string) =>
  (list as Listed[]).find((m) => m.name === name)?.values ?? [];

describe("deferred metric updates", () => {
  const plain = pair("plain", false);
  const deferred = pair("deferred", true);
  const all = [plain.caller, plain.callee, deferred.caller, deferred.callee];

  const alone = new ServiceBroker({
    logger: false,
    metrics: { enabled: true },
    middlewares: [DeferredMetricsMiddleware],
  });
  alone.createService({ name: "local", actions: { ping: () => "pong" } });

  beforeAll(async () => {
    await Promise.all([...all, alone].map((b) => b.start()));
    await Promise.all([plain, deferred].map((p) => p.caller.waitForServices("math")));
    await Promise.all([traffic(plain.caller), traffic(deferred.caller)]);
  });
  afterAll(() => Promise.all([...all, alone].map((b) => b.stop())));

  it("holds the updates back until a read or a second has passed", async () => {
    const values = () =>
      (
        alone.metrics.getMetric(METRIC.MOLECULER_REQUEST_TOTAL) as unknown as {
          values: Map<string, { value: number }>;
        }
      ).values;
    await alone.call("local.ping");
    // moleculer's metric object has not been touched by the call…
    expect(values().size).toBe(0);
    // …until a read applies it.
    const listed = byName(alone.metrics.list(), METRIC.MOLECULER_REQUEST_TOTAL);
    expect(listed.find((v) => v.key.includes('"local.ping"'))?.value).toBe(1);

    await alone.call("local.ping");
    expect([...values().values()][0].value).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS + 300));
    // Applied by the timer, with no read in between.
    expect([...values().values()][0].value).toBe(2);
  });

  it("reads the same series and values as moleculer's own updates", async () => {
    const ours = deferred.caller.metrics.list();
    const theirs = plain.caller.metrics.list();
    const counted = [
      METRIC.MOLECULER_REQUEST_TOTAL,
      METRIC.MOLECULER_REQUEST_ERROR_TOTAL,
      METRIC.MOLECULER_REQUEST_ACTIVE,
      METRIC.MOLECULER_REQUEST_LEVELS,
      METRIC.MOLECULER_TRANSIT_PUBLISH_TOTAL,
      METRIC.MOLECULER_TRANSIT_RECEIVE_TOTAL,
      METRIC.MOLECULER_TRANSPORTER_PACKETS_SENT_TOTAL,
      METRIC.MOLECULER_TRANSPORTER_PACKETS_RECEIVED_TOTAL,
    ];
    for (const name of counted) {
      const values = (list: unknown) =>
        Object.fromEntries(byName(list, name).map((v) => [v.key, v.value]));
      expect({ name, values: values(ours) }).toEqual({ name, values: values(theirs) });
    }
    // The remote calls' figures are there, not only equal: 40 requests, 10 failed.
    const remote = byName(ours, METRIC.MOLECULER_REQUEST_TOTAL).find((v) =>
      v.key.includes('"math.half"'),
    );
    expect(remote?.value).toBe(40);
    const failed = byName(ours, METRIC.MOLECULER_REQUEST_ERROR_TOTAL);
    expect(failed.reduce((n, v) => n + (v.value ?? 0), 0)).toBe(10);

    // Request times: the same series with the same count, every bucket counted, and a sum and
    // quantiles from the observations (the times themselves differ between the pairs).
    const times = (list: unknown) => byName(list, METRIC.MOLECULER_REQUEST_TIME);
    expect(times(ours).map((v) => [v.key, v.count])).toEqual(
      times(theirs).map((v) => [v.key, v.count]),
    );
    for (const v of times(ours)) {
      const buckets = Object.values(v.buckets ?? {});
      expect(Math.max(...buckets)).toBeLessThanOrEqual(v.count!);
      expect(buckets[buckets.length - 1]).toBe(v.count);
      expect(v.sum).toBeGreaterThan(0);
      expect(Object.keys(v.quantiles ?? {}).length).toBeGreaterThan(0);
    }
  });

  it("counts as active the requests pending, where moleculer only adds to it", async () => {
    const active = (b: ServiceBroker) =>
      byName(b.metrics.list(), METRIC.MOLECULER_TRANSIT_REQUESTS_ACTIVE)[0]?.value;
    // Every call has its answer: nothing is pending.
    expect(active(deferred.caller)).toBe(0);
    expect(active(plain.caller)).toBeGreaterThan(0);
  });
});
