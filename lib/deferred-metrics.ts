/**
 * moleculer's metric updates, gathered per series and applied to its registry once a second
 * and before every read (issue 20, bench/README.md "Across the hop").
 *
 * Every request updates about twenty of moleculer's series (request total, active, time and
 * levels; transit and transporter packets; bulkhead gauges). On Node 22 (V8 12.4) those updates
 * send V8's optimizing compiler into a loop: the metric classes' `set`, `increment` and
 * `observe` are marked hot, compiled, and the result thrown away ("Maps became deprecated during
 * optimization", `--trace-opt`), hundreds of times a second. A gateway spent more than half its
 * CPU in that compiler thread (`perf`), 480–750 µs per request where a bare moleculer-web gateway
 * spends 110–170 µs. Gathered here, moleculer's metric classes run once per series per second,
 * which is never hot.
 *
 * Nothing an operator reads changes: the same series, labels and values, at most FLUSH_MS old
 * between scrapes, and exact at a scrape (the Prometheus endpoint and `registry.list()`, which
 * `$node.metrics` and the console use, apply what is gathered first). Histograms keep every
 * observation until it is applied, so their buckets, sum, count and quantiles are moleculer's.
 *
 * One correction: moleculer adds the number of pending requests to
 * `moleculer.transit.requests.active` on every packet it sends (the gauge only grew); here the
 * gauge is the number of requests waiting for an answer, taken from the transit at each flush.
 */
import { METRIC, type MetricRegistry, type Middleware, type ServiceBroker } from "moleculer";

export const FLUSH_MS = 1000;

type Labels = Record<string, unknown> | null | undefined;

/** moleculer's metric objects, as far as they are used here. */
interface Metric {
  type: string;
  hashingLabels(labels: Labels): string;
  set(value: unknown, labels?: Labels, timestamp?: number): unknown;
  increment?(labels: Labels, value?: number, timestamp?: number): unknown;
  observe?(value: number, labels: Labels, timestamp?: number): unknown;
}

/** What one series gathered since it was last applied. */
interface Gathered {
  metric: Metric;
  labels: Labels;
  /** A value set (applied first), or undefined. */
  base: number | undefined;
  /** Increments less decrements after it. */
  delta: number;
  /** Whether anything was added (a series that went up and down again still exists). */
  added: boolean;
  observed: number[];
}

interface Registry {
  increment(name: string, labels?: Labels, value?: number, timestamp?: number): unknown;
  decrement(name: string, labels?: Labels, value?: number, timestamp?: number): unknown;
  set(name: string, value: unknown, labels?: Labels, timestamp?: number): unknown;
  observe(name: string, value: number, labels?: Labels, timestamp?: number): unknown;
  timer(name?: string, labels?: Labels, timestamp?: number): () => number;
  list(opts?: unknown): unknown;
  getMetric(name: string): Metric | null;
  opts: { enabled?: boolean };
}

const flushers = new WeakMap<object, () => void>();

/** Applies what `registry` gathered (a registry not deferred: nothing to do). */
export function flushMetrics(registry: unknown): void {
  flushers.get(registry as object)?.();
}

/**
 * Makes `registry` gather its numeric updates and apply them every FLUSH_MS and before a read.
 * Returns a function that stops the timer and applies what is left.
 */
export function deferMetricUpdates(
  metricRegistry: MetricRegistry,
  pendingRequests?: () => number,
): () => void {
  const registry = metricRegistry as unknown as Registry;
  const original = {
    increment: registry.increment.bind(registry),
    decrement: registry.decrement.bind(registry),
    set: registry.set.bind(registry),
    observe: registry.observe.bind(registry),
    list: registry.list.bind(registry),
  };
  // Two maps: metric name, then the metric's own key for the labels.
  const gathered = new Map<string, Map<string, Gathered>>();
  let due = false;

  function series(name: string, metric: Metric | null, labels: Labels): Gathered | null {
    if (!metric) return null;
    let byKey = gathered.get(name);
    if (!byKey) gathered.set(name, (byKey = new Map()));
    const key = metric.hashingLabels(labels);
    let entry = byKey.get(key);
    if (!entry) {
      entry = { metric, labels, base: undefined, delta: 0, added: false, observed: [] };
      byKey.set(key, entry);
    }
    due = true;
    return entry;
  }

  function flush(): void {
    if (pendingRequests) {
      original.set(METRIC.MOLECULER_TRANSIT_REQUESTS_ACTIVE, pendingRequests(), null);
    }
    if (!due) return;
    due = false;
    for (const byKey of gathered.values()) {
      for (const entry of byKey.values()) {
        const { metric, labels } = entry;
        if (entry.base !== undefined) metric.set(entry.base, labels);
        if (entry.added) metric.increment!(labels, entry.delta);
        for (const value of entry.observed) metric.observe!(value, labels);
        entry.base = undefined;
        entry.delta = 0;
        entry.added = false;
        entry.observed.length = 0;
      }
    }
  }

  /** A change of a counter or gauge by `value`; anything else goes to moleculer at once. */
  function add(
    name: string,
    metric: Metric | null,
    labels: Labels,
    value: number,
    timestamp: number | undefined,
  ) {
    const entry = timestamp === undefined ? series(name, metric, labels) : null;
    if (!entry || !entry.metric.increment) return false;
    entry.delta += value;
    entry.added = true;
    return true;
  }

  registry.increment = (name, labels, value = 1, timestamp) => {
    if (!registry.opts.enabled) return null;
    // moleculer adds the pending count on each packet sent; the flush sets it instead.
    if (pendingRequests && name === METRIC.MOLECULER_TRANSIT_REQUESTS_ACTIVE) return null;
    if (add(name, registry.getMetric(name), labels, value, timestamp)) return null;
    return original.increment(name, labels, value, timestamp);
  };
  registry.decrement = (name, labels, value = 1, timestamp) => {
    if (!registry.opts.enabled) return null;
    const metric = registry.getMetric(name);
    // Only gauges decrement; anything else gets moleculer's own answer (an error).
    if (metric?.type === METRIC.TYPE_GAUGE && add(name, metric, labels, -value, timestamp)) {
      return null;
    }
    return original.decrement(name, labels, value, timestamp);
  };
  registry.set = (name, value, labels, timestamp) => {
    if (!registry.opts.enabled) return null;
    const entry =
      typeof value === "number" && timestamp === undefined
        ? series(name, registry.getMetric(name), labels)
        : null;
    if (!entry || !entry.metric.increment) return original.set(name, value, labels, timestamp);
    entry.base = value as number;
    entry.delta = 0;
    entry.added = false;
    return null;
  };
  registry.observe = (name, value, labels, timestamp) => {
    if (!registry.opts.enabled) return null;
    const entry = timestamp === undefined ? series(name, registry.getMetric(name), labels) : null;
    if (!entry || !entry.metric.observe) return original.observe(name, value, labels, timestamp);
    entry.observed.push(value);
    return null;
  };
  registry.timer = (name, labels, timestamp) => {
    const started = performance.now();
    return () => {
      const duration = performance.now() - started;
      if (name) registry.observe(name, duration, labels, timestamp);
      return duration;
    };
  };
  registry.list = (opts) => {
    flush();
    return original.list(opts);
  };

  flushers.set(registry, flush);
  const timer = setInterval(flush, FLUSH_MS).unref();
  return () => {
    clearInterval(timer);
    flush();
  };
}

const stops = new WeakMap<object, () => void>();

/** For the broker's `middlewares`: defers its metric updates while metrics are on. */
export const DeferredMetricsMiddleware: Middleware = {
  name: "DeferredMetrics",
  created(broker: ServiceBroker) {
    if (!broker.isMetricsEnabled()) return;
    const transit = broker.transit as unknown as
      { pendingRequests?: Map<string, unknown> } | undefined;
    const pending = transit?.pendingRequests ? () => transit.pendingRequests!.size : undefined;
    stops.set(broker, deferMetricUpdates(broker.metrics, pending));
  },
  async stopped(broker: ServiceBroker) {
    stops.get(broker)?.();
    stops.delete(broker);
  },
};
