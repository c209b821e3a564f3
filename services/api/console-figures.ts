/**
 * The console's per-action figures, from the snapshots of moleculer's own metrics
 * (`$node.metrics` of each node) and the circuit-breaker events the callers broadcast. Plain
 * functions over plain data: no broker here.
 */
import type { ActionFigures, CircuitState } from "../../contracts/console";

/** One metric of a `$node.metrics` answer (moleculer's `metric.toObject()`). */
export interface MetricSnapshot {
  name: string;
  values: Array<{
    labels: Record<string, string | null | undefined>;
    value?: number;
    /** Per minute (moleculer's rates). */
    rate?: number;
    count?: number;
    /** A histogram's, over its time window: `{ "0.5": ms, "0.99": ms, … }`. */
    quantiles?: Record<string, number | null | undefined>;
  }>;
}

export const REQUEST_METRICS = [
  "moleculer.request.total",
  "moleculer.request.error.total",
  "moleculer.request.time",
];

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/**
 * Every node's figures of each action, added up. Only the callee's own series count (`type:
 * local`), so a call between two nodes is counted once. Rates are moleculer's (a weighted
 * figure over about the last minute); p50 is the count-weighted mean of the nodes' medians and
 * p99 the highest node's: quantiles of several nodes cannot be merged exactly.
 */
export function actionFigures(
  names: string[],
  snapshots: MetricSnapshot[],
  circuitOf: (action: string) => CircuitState,
): ActionFigures[] {
  const byAction = new Map<
    string,
    { requests: number; errors: number; p50Weighted: number; count: number; p99: number }
  >();
  const entry = (action: string) => {
    let e = byAction.get(action);
    if (!e)
      byAction.set(action, (e = { requests: 0, errors: 0, p50Weighted: 0, count: 0, p99: 0 }));
    return e;
  };
  for (const metric of snapshots) {
    for (const v of metric.values) {
      const action = v.labels.action;
      if (!action || v.labels.type !== "local") continue;
      const e = entry(action);
      if (metric.name === "moleculer.request.total") e.requests += v.rate ?? 0;
      else if (metric.name === "moleculer.request.error.total") e.errors += v.rate ?? 0;
      else if (metric.name === "moleculer.request.time") {
        const count = v.count ?? 0;
        const p50 = Number(v.quantiles?.["0.5"] ?? 0);
        const p99 = Number(v.quantiles?.["0.99"] ?? 0);
        e.p50Weighted += p50 * count;
        e.count += count;
        e.p99 = Math.max(e.p99, p99);
      }
    }
  }
  return [...new Set(names)].sort().map((name) => {
    const e = entry(name);
    const requestsPerSecond = e.requests / 60;
    const errorsPerSecond = e.errors / 60;
    return {
      name,
      requestsPerSecond: round(requestsPerSecond),
      errorsPerSecond: round(errorsPerSecond),
      errorRate:
        requestsPerSecond > 0 ? round(Math.min(1, errorsPerSecond / requestsPerSecond)) : 0,
      p50Ms: e.count > 0 ? round(e.p50Weighted / e.count, 1) : 0,
      p99Ms: round(e.p99, 1),
      circuit: circuitOf(name),
    };
  });
}

/** The circuit-breaker events moleculer broadcasts (`$circuit-breaker.<change>`). */
export const CIRCUIT_EVENTS: Record<string, CircuitState> = {
  "$circuit-breaker.opened": "open",
  "$circuit-breaker.half-opened": "half_open",
  "$circuit-breaker.closed": "closed",
};

const SEVERITY: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * The circuit state of each (caller, endpoint node, action), from the events; an action shows
 * its worst one.
 */
export class CircuitStates {
  private readonly states = new Map<string, { action: string; state: CircuitState }>();

  record(caller: string, event: string, payload: { nodeID?: string; action?: string }): void {
    const state = CIRCUIT_EVENTS[event];
    if (!state || !payload.action) return;
    const key = `${caller}|${payload.nodeID ?? ""}|${payload.action}`;
    if (state === "closed") this.states.delete(key);
    else this.states.set(key, { action: payload.action, state });
  }

  stateOf(action: string): CircuitState {
    let worst: CircuitState = "closed";
    for (const entry of this.states.values()) {
      if (entry.action === action && SEVERITY[entry.state] > SEVERITY[worst]) worst = entry.state;
    }
    return worst;
  }
}
