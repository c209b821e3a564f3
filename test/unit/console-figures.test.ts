/** The console's per-action figures from moleculer's metric snapshots (services/api/console-figures.ts). */
import {
  CircuitStates,
  actionFigures,
  type MetricSnapshot,
} from "../../services/api/console-figures";

const local = { action: "products.get", type: "local" };
const remote = { action: "products.get", type: "remote" };

const snapshots: MetricSnapshot[] = [
  {
    name: "moleculer.request.total",
    values: [
      { labels: local, rate: 120 },
      { labels: { ...local, caller: "node-2" }, rate: 60 },
      // The caller's side of the same calls: not counted twice.
      { labels: remote, rate: 120 },
    ],
  },
  { name: "moleculer.request.error.total", values: [{ labels: local, rate: 45 }] },
  {
    name: "moleculer.request.time",
    values: [
      { labels: local, count: 30, quantiles: { "0.5": 10, "0.99": 40 } },
      { labels: { ...local, caller: "node-2" }, count: 10, quantiles: { "0.5": 30, "0.99": 90 } },
      { labels: remote, count: 1000, quantiles: { "0.5": 500, "0.99": 900 } },
    ],
  },
];

describe("the console's action figures", () => {
  it("adds up the callee's series of every node: rates per second, weighted p50, highest p99", () => {
    const [figures] = actionFigures(["products.get"], snapshots, () => "closed");
    expect(figures).toEqual({
      name: "products.get",
      requestsPerSecond: 3,
      errorsPerSecond: 0.75,
      errorRate: 0.25,
      p50Ms: 15,
      p99Ms: 90,
      circuit: "closed",
    });
  });

  it("lists an action without traffic with zeros", () => {
    expect(actionFigures(["users.me"], snapshots, () => "closed")).toEqual([
      {
        name: "users.me",
        requestsPerSecond: 0,
        errorsPerSecond: 0,
        errorRate: 0,
        p50Ms: 0,
        p99Ms: 0,
        circuit: "closed",
      },
    ]);
  });

  it("shows an action's worst circuit state until every caller's circuit closes", () => {
    const circuits = new CircuitStates();
    circuits.record("gw-1", "$circuit-breaker.opened", { nodeID: "n1", action: "products.get" });
    circuits.record("gw-2", "$circuit-breaker.half-opened", {
      nodeID: "n1",
      action: "products.get",
    });
    expect(circuits.stateOf("products.get")).toBe("open");
    expect(circuits.stateOf("products.list")).toBe("closed");
    circuits.record("gw-1", "$circuit-breaker.closed", { nodeID: "n1", action: "products.get" });
    expect(circuits.stateOf("products.get")).toBe("half_open");
    circuits.record("gw-2", "$circuit-breaker.closed", { nodeID: "n1", action: "products.get" });
    expect(circuits.stateOf("products.get")).toBe("closed");
  });
});
