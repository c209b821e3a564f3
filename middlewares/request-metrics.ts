/**
 * moleculer's Metrics middleware with a cheaper path per request (issue 20, bench/README.md).
 *
 * The series are moleculer's own, under the same names and labels (the Prometheus exporter,
 * the dashboards and alerts in deploy/, the console's figures all read them unchanged). What
 * moleculer's does per request — about twenty updates, each building a fresh label object,
 * joining its values into a key (twice for a gauge's `+1`), looking the metric up by name and
 * timing with `process.hrtime` — is done here with a label object built once per action and
 * caller, whose key is computed once and carried with it, and with the metric objects at hand.
 *
 * Everything else (registration, events, emits, transporter counters) is moleculer's
 * middleware as is. `moleculer_transit_requests_active` (and the streams' gauge) is set to the
 * number pending, where moleculer's adds that number to it on every packet sent (it only grew).
 */
import * as moleculer from "moleculer";
import { METRIC, type Context, type Middleware, type ServiceBroker } from "moleculer";

/** moleculer's built-in middlewares (exported at run time, not in its type declarations). */
const builtIn = (moleculer as unknown as { Middlewares: Record<string, unknown> }).Middlewares;

const KEY = Symbol("labelsKey");

type Labels = Record<string, unknown> & { [KEY]?: string };

interface MetricView {
  labelNames: string[];
  hashingLabels(labels: Labels | null): string;
}
interface Gauge extends MetricView {
  increment(labels: Labels, value?: number): unknown;
  decrement(labels: Labels, value?: number): unknown;
  set(value: number, labels?: Labels | null): unknown;
}
interface Histogram extends MetricView {
  observe(value: number, labels: Labels): unknown;
}

interface ActionDef {
  name: string;
  service?: { fullName: string };
}

type Handler = (ctx: Context) => Promise<unknown>;

interface TransitView {
  pendingRequests: Map<string, unknown>;
  pendingReqStreams: Map<string, unknown>;
  pendingResStreams: Map<string, unknown>;
}
type MetricsHooks = Record<string, unknown> & {
  created?: (broker: ServiceBroker) => void;
};

/** A label object whose key is computed once, by the metric's own rule, and kept with it. */
function keyed(metric: MetricView, labels: Labels): Labels {
  labels[KEY] = metric.hashingLabels(labels);
  return labels;
}

/** Makes `metric` use the key a label object carries, and compute it otherwise. */
function useCarriedKeys(metric: MetricView): void {
  const hashing = metric.hashingLabels.bind(metric);
  metric.hashingLabels = (labels) => labels?.[KEY] ?? hashing(labels);
}

function requestMetrics(broker: ServiceBroker): Middleware {
  const base = (builtIn.Metrics as (b: ServiceBroker) => MetricsHooks)(broker);
  const metrics = broker.metrics as unknown as { getMetric(name: string): unknown };
  let total: Gauge, active: Gauge, errors: Gauge, levels: Gauge, time: Histogram;
  let transitActive: Gauge, streamsActive: Gauge, published: Gauge;

  /** The label objects of one action, by caller (a caller is an action name: a bounded set). */
  function seriesOf(service: string | null, action: string, type: string) {
    const byCaller = new Map<string | null, Labels>();
    return (caller: string | null): Labels => {
      let labels = byCaller.get(caller);
      if (!labels) {
        labels = keyed(total, { service, action, caller, type });
        byCaller.set(caller, labels);
      }
      return labels;
    };
  }
  const levelLabels: Labels[] = [];
  const levelOf = (level: number): Labels => (levelLabels[level] ??= keyed(levels, { level }));

  function actionHandler(type: string, actionDef: ActionDef, next: Handler): Handler {
    const service = actionDef.service ? actionDef.service.fullName : null;
    const series = seriesOf(service, actionDef.name, type);
    return function requestMetrics(ctx: Context) {
      const labels = series(ctx.caller);
      total.increment(labels);
      active.increment(labels);
      levels.increment(levelOf(ctx.level));
      const started = performance.now();
      return next(ctx).then(
        (res) => {
          time.observe(performance.now() - started, labels);
          active.decrement(labels);
          return res;
        },
        (err: { name?: string; code?: unknown; type?: unknown } | null) => {
          time.observe(performance.now() - started, labels);
          active.decrement(labels);
          errors.increment({
            service,
            action: actionDef.name,
            caller: ctx.caller,
            type,
            errorName: err ? err.name : null,
            errorCode: err ? err.code : null,
            errorType: err ? err.type : null,
          });
          throw err;
        },
      );
    };
  }

  return {
    ...base,
    name: "Metrics",

    created(this: unknown, b: ServiceBroker) {
      base.created?.call(this, b);
      if (!broker.isMetricsEnabled()) return;
      const get = <T>(name: string) => metrics.getMetric(name) as T;
      total = get<Gauge>(METRIC.MOLECULER_REQUEST_TOTAL);
      active = get<Gauge>(METRIC.MOLECULER_REQUEST_ACTIVE);
      errors = get<Gauge>(METRIC.MOLECULER_REQUEST_ERROR_TOTAL);
      levels = get<Gauge>(METRIC.MOLECULER_REQUEST_LEVELS);
      time = get<Histogram>(METRIC.MOLECULER_REQUEST_TIME);
      transitActive = get<Gauge>(METRIC.MOLECULER_TRANSIT_REQUESTS_ACTIVE);
      streamsActive = get<Gauge>(METRIC.MOLECULER_TRANSIT_STREAMS_SEND_ACTIVE);
      published = get<Gauge>(METRIC.MOLECULER_TRANSIT_PUBLISH_TOTAL);
      // The same four labels, in the same order: one key fits all three.
      for (const m of [total, active, time]) {
        if (m.labelNames.join() !== total.labelNames.join()) {
          throw new Error(`moleculer's ${METRIC.MOLECULER_REQUEST_TIME} labels changed`);
        }
        useCarriedKeys(m);
      }
      useCarriedKeys(levels);
      useCarriedKeys(published);
    },

    localAction(next: Handler, action: ActionDef) {
      return broker.isMetricsEnabled() ? actionHandler("local", action, next) : next;
    },

    remoteAction(next: Handler, action: ActionDef) {
      return broker.isMetricsEnabled() ? actionHandler("remote", action, next) : next;
    },

    transitPublish(this: TransitView, next: Handler) {
      if (!broker.isMetricsEnabled()) return next;
      const pending = (): [number, number] => [
        this.pendingRequests.size,
        this.pendingReqStreams.size + this.pendingResStreams.size,
      ];
      const byType = new Map<string, Labels>();
      return function transitMetrics(this: unknown, packet: { type: string }) {
        let labels = byType.get(packet.type);
        if (!labels) byType.set(packet.type, (labels = keyed(published, { type: packet.type })));
        published.increment(labels);
        const sent = (next as unknown as (p: unknown) => Promise<unknown>).call(this, packet);
        const [requests, streams] = pending();
        transitActive.set(requests, null);
        streamsActive.set(streams, null);
        return sent;
      };
    },

    // …and again once a packet received (an answer) has been handled.
    transitMessageHandler(this: TransitView, next: Handler) {
      if (!broker.isMetricsEnabled()) return next;
      const handle = (base.transitMessageHandler as (n: Handler) => Handler).call(this, next);
      const pending = () => this.pendingRequests.size;
      return function receivedMetrics(this: unknown, ...args: unknown[]) {
        const handled = (handle as unknown as (...a: unknown[]) => unknown).apply(this, args);
        transitActive.set(pending(), null);
        return handled;
      };
    },
  } as unknown as Middleware;
}

/**
 * For the broker's `middlewares` list: moleculer calls a function there with the broker (its
 * type declarations only list objects and names).
 */
export const RequestMetricsMiddleware = requestMetrics as unknown as Middleware;

/**
 * moleculer's internal middlewares in its own order (moleculer 0.15, service-broker.js), with
 * its Metrics replaced by this one: for a broker with `internalMiddlewares: false`.
 */
export const INTERNAL_MIDDLEWARES: (string | Middleware)[] = [
  "ActionHook",
  "Validator",
  "Bulkhead",
  "Cacher",
  "ContextTracker",
  "CircuitBreaker",
  "Timeout",
  "Retry",
  "Fallback",
  "ErrorHandler",
  "Tracing",
  RequestMetricsMiddleware,
  "Debounce",
  "Throttle",
];
