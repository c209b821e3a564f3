/**
 * middlewares/request-metrics.ts keeps moleculer's request series exactly: the same calls, made
 * once through brokers with moleculer's own Metrics middleware and once through brokers with
 * INTERNAL_MIDDLEWARES (ours in its place), leave the same series with the same values —
 * local and remote calls, a nested call (its `caller` label), failures (their error labels),
 * context levels. Only `moleculer_transit_requests_active` differs on purpose: ours falls back
 * to 0 when nothing is pending (moleculer's adds the pending count on every packet sent).
 */
import { Errors, METRIC, ServiceBroker, type BrokerOptions } from "moleculer";
import { INTERNAL_MIDDLEWARES } from "../../middlewares/request-metrics";

type Flavour = "moleculer" | "ours";

function broker(nodeID: string, flavour: Flavour): ServiceBroker {
  const opts: BrokerOptions = {
    nodeID,
    namespace: `request-metrics-${flavour}-${process.pid}`,
    transporter: "Fake",
    logger: false,
    metrics: { enabled: true },
  };
  if (flavour === "ours") {
    opts.internalMiddlewares = false;
    opts.middlewares = INTERNAL_MIDDLEWARES;
  }
  return new ServiceBroker(opts);
}

interface Snapshot {
  labels: Record<string, unknown>;
  value?: number;
  count?: number;
  sum?: number;
}

const SERIES = [
  METRIC.MOLECULER_REQUEST_TOTAL,
  METRIC.MOLECULER_REQUEST_ACTIVE,
  METRIC.MOLECULER_REQUEST_ERROR_TOTAL,
  METRIC.MOLECULER_REQUEST_LEVELS,
  METRIC.MOLECULER_REQUEST_TIME,
  METRIC.MOLECULER_TRANSIT_PUBLISH_TOTAL,
];

/** Every value of the request series, timings reduced to their counts. */
function series(b: ServiceBroker) {
  return SERIES.map((name) => {
    const values = (b.metrics.getMetric(name) as unknown as { snapshot(): Snapshot[] }).snapshot();
    return {
      name,
      values: values
        .map((v) => ({ labels: v.labels, value: v.value ?? v.count }))
        .sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels))),
    };
  });
}

async function run(flavour: Flavour) {
  const caller = broker("caller", flavour);
  const callee = broker("callee", flavour);
  callee.createService({
    name: "stock",
    actions: {
      count: () => 7,
      refuse: () => {
        throw new Errors.MoleculerClientError("no", 409, "OUT_OF_STOCK");
      },
    },
  });
  caller.createService({
    name: "shop",
    actions: {
      // A local action calling the remote one: `caller` is "shop.buy", the level 2.
      buy: (ctx) => ctx.call("stock.count"),
    },
  });
  await Promise.all([caller.start(), callee.start()]);
  try {
    await caller.waitForServices("stock");
    for (let i = 0; i < 3; i++) await caller.call("stock.count");
    for (let i = 0; i < 2; i++) await caller.call("shop.buy");
    for (let i = 0; i < 2; i++) await caller.call("stock.refuse").catch(() => undefined);
    const pending = (
      caller.metrics.getMetric(METRIC.MOLECULER_TRANSIT_REQUESTS_ACTIVE) as unknown as {
        snapshot(): Snapshot[];
      }
    ).snapshot()[0]?.value;
    return { caller: series(caller), callee: series(callee), pending };
  } finally {
    await Promise.all([caller.stop(), callee.stop()]);
  }
}

describe("request metrics", () => {
  it("records moleculer's series with the same labels and values", async () => {
    const theirs = await run("moleculer");
    const ours = await run("ours");
    // Something was recorded at all: 3 + 2 + 2 remote calls of stock.*, seen by the callee.
    const calleeTotal = ours.callee.find((s) => s.name === METRIC.MOLECULER_REQUEST_TOTAL)!;
    expect(calleeTotal.values.reduce((n, v) => n + (v.value ?? 0), 0)).toBe(7);
    expect(ours.caller).toEqual(theirs.caller);
    expect(ours.callee).toEqual(theirs.callee);
  });

  it("counts no pending request once every call has been answered", async () => {
    const theirs = await run("moleculer");
    const ours = await run("ours");
    expect(ours.pending).toBe(0);
    // moleculer's own kept adding (the reason ours sets it).
    expect(theirs.pending).toBeGreaterThan(0);
  });
});
