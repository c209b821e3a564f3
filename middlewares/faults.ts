/**
 * Fault injection for operators and tests: makes chosen actions or event handlers of this node
 * fail or slow down, to see what the rest of the system does about it.
 *
 * A rule names a target and what to do to it:
 *
 *   payments:order.created error=0.5 latency=200ms   (the event handler of a service: `service:event`)
 *   users.me latency=50                              (an action: `service.action`)
 *   orders.* error=1 retryable                       (`*` matches any run of characters)
 *
 * `error` is the probability that a call fails (before the handler runs, so nothing is half
 * done), `latency` a delay added before the handler. Rules come from `FAULTS` at start (several,
 * `;`-separated) and at run time from the `$faults.set` / `$faults.clear` broadcasts that the
 * REPL's `faults` command sends: every node runs a small `$faults` service that listens to them
 * and answers `$faults.list`.
 *
 * The injected error is a 503 SERVICE_UNAVAILABLE (what a failing dependency looks like through
 * the gateway), not retryable by default: the broker's retry policy would otherwise absorb most
 * of it (error=0.5 with two retries shows as 12.5 %), and an operator asking for 50 % failures
 * should get them. `retryable` makes it retryable, to exercise the callers' retries instead.
 * A failed event handler loses its event, which is the point: the order saga's sweeper must
 * re-drive it (DESIGN.md, "Events are fire-and-forget").
 */
import { Errors, type Context, type Middleware, type ServiceBroker } from "moleculer";
import { FAULT_TARGET_PATTERN } from "../contracts/console";

export interface FaultRule {
  /** `service.action`, `service:event`, with `*` wildcards. */
  target: string;
  /** Probability (0–1) that a call fails. */
  error: number;
  /** Milliseconds added before the handler runs. */
  latencyMs: number;
  /** Whether the injected error is retryable (see the file comment). */
  retryable: boolean;
}

/** What `$faults.list` answers for one node. */
export interface FaultReport {
  nodeID: string;
  rules: FaultRule[];
  /** Injected failures per target since the node started. */
  injected: Record<string, number>;
  /** Delayed calls per target since the node started. */
  delayed: Record<string, number>;
}

export const FAULTS_SET = "$faults.set";
export const FAULTS_CLEAR = "$faults.clear";
export const FAULTS_SERVICE = "$faults";

export class InjectedFaultError extends Errors.MoleculerError {
  constructor(target: string, retryable: boolean) {
    super(`Injected fault (${target})`, 503, "SERVICE_UNAVAILABLE", { fault: target });
    this.name = "InjectedFaultError";
    this.retryable = retryable;
  }
}

const TARGET = new RegExp(FAULT_TARGET_PATTERN);

function duration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (!m) throw new Error(`${what} must be a duration like 200, 200ms or 1.5s, got "${text}"`);
  return Math.round(Number(m[1]) * (m[2] === "s" ? 1000 : 1));
}

/** Parses one rule: `<target> [error=<0..1>] [latency=<ms|Ns>] [retryable]`. */
export function parseRule(text: string): FaultRule {
  const [target, ...settings] = text.trim().split(/\s+/);
  if (!target || !TARGET.test(target)) {
    throw new Error(
      `a fault needs a target like payments:order.created or users.me, got "${text}"`,
    );
  }
  const rule: FaultRule = { target, error: 0, latencyMs: 0, retryable: false };
  for (const setting of settings) {
    const [key, value = ""] = setting.split("=");
    if (key === "error") {
      const p = Number(value);
      if (value === "" || !(p >= 0 && p <= 1)) {
        throw new Error(`error must be a probability between 0 and 1, got "${value}"`);
      }
      rule.error = p;
    } else if (key === "latency") rule.latencyMs = duration(value, "latency");
    else if (key === "retryable") rule.retryable = value === "" || value === "true";
    else throw new Error(`unknown fault setting "${setting}" (error=, latency=, retryable)`);
  }
  if (rule.error === 0 && rule.latencyMs === 0) {
    throw new Error(`the fault on ${target} does nothing: give error= or latency=`);
  }
  return rule;
}

/** Parses `FAULTS`: rules separated by `;`. */
export function parseRules(text: string): FaultRule[] {
  return text
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseRule);
}

export function describeRule(rule: FaultRule): string {
  const parts = [rule.target];
  if (rule.error > 0) parts.push(`error=${rule.error}`);
  if (rule.latencyMs > 0) parts.push(`latency=${rule.latencyMs}ms`);
  if (rule.retryable) parts.push("retryable");
  return parts.join(" ");
}

/**
 * What operators do with faults, on every node at once (the REPL's `faults` command and the
 * console's routes): `set` and `clear` are broadcasts every node (this one too) applies.
 */
export async function setFault(broker: ServiceBroker, rule: FaultRule): Promise<void> {
  await broker.broadcast(FAULTS_SET, { rules: [rule] });
}

export async function clearFaults(broker: ServiceBroker, target?: string): Promise<void> {
  await broker.broadcast(FAULTS_CLEAR, target ? { target } : {});
}

/** Every node's fault report (each node runs a `$faults` service), by node id. */
export async function faultReports(broker: ServiceBroker): Promise<FaultReport[]> {
  const nodeIDs = broker.registry
    .getServiceList({ onlyAvailable: true })
    .filter((s) => s.name === FAULTS_SERVICE)
    .map((s) => s.nodeID ?? broker.nodeID);
  return Promise.all(
    [...new Set(nodeIDs)]
      .sort()
      .map((nodeID) =>
        broker.call<FaultReport, Record<string, never>>(`${FAULTS_SERVICE}.list`, {}, { nodeID }),
      ),
  );
}

function matcher(target: string): RegExp {
  const escaped = target.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rules of one node and what they did. */
class FaultState {
  private rules: Array<FaultRule & { re: RegExp }> = [];
  readonly injected: Record<string, number> = {};
  readonly delayed: Record<string, number> = {};

  constructor(initial: FaultRule[]) {
    for (const rule of initial) this.set(rule);
  }

  get active(): boolean {
    return this.rules.length > 0;
  }

  list(): FaultRule[] {
    return this.rules.map(({ re: _re, ...rule }) => rule);
  }

  /** Adds a rule, replacing any rule with the same target. */
  set(rule: FaultRule): void {
    this.rules = [
      ...this.rules.filter((r) => r.target !== rule.target),
      { ...rule, re: matcher(rule.target) },
    ];
  }

  /** Removes the rule of `target`, or every rule. */
  clear(target?: string): void {
    this.rules = target ? this.rules.filter((r) => r.target !== target) : [];
  }

  /** Runs `handler` under the first rule matching `name`, if any. */
  async apply<T>(name: string, handler: () => Promise<T>): Promise<T> {
    const rule = this.rules.find((r) => r.re.test(name));
    if (!rule) return handler();
    if (rule.latencyMs > 0) {
      this.delayed[name] = (this.delayed[name] ?? 0) + 1;
      await sleep(rule.latencyMs);
    }
    if (rule.error > 0 && Math.random() < rule.error) {
      this.injected[name] = (this.injected[name] ?? 0) + 1;
      throw new InjectedFaultError(name, rule.retryable);
    }
    return handler();
  }
}

interface SetPayload {
  rules: FaultRule[];
}
interface ClearPayload {
  target?: string;
}

function describe(rules: FaultRule[]): string {
  return rules.map(describeRule).join("; ");
}

/**
 * The middleware. `initial` are the rules of `FAULTS`; the broker gets a `$faults` service that
 * applies the broadcasts. With no rule active a wrapped handler costs one property read.
 */
export function FaultsMiddleware(initial: FaultRule[] = []): Middleware {
  const state = new FaultState(initial);

  // Handlers may answer synchronously; under a rule they are awaited like any other.
  const wrap = <R>(name: string, next: (ctx: Context) => R) =>
    function faulted(ctx: Context): R | Promise<Awaited<R>> {
      if (!state.active) return next(ctx);
      return state.apply(name, () => Promise.resolve(next(ctx)));
    };

  return {
    name: "Faults",

    created(broker: ServiceBroker) {
      if (initial.length > 0) broker.logger.warn(`Fault injection active: ${describe(initial)}`);
      broker.createService({
        name: FAULTS_SERVICE,
        actions: {
          list: {
            visibility: "public",
            handler(): FaultReport {
              return {
                nodeID: broker.nodeID,
                rules: state.list(),
                injected: { ...state.injected },
                delayed: { ...state.delayed },
              };
            },
          },
        },
        events: {
          [FAULTS_SET](ctx: Context<SetPayload>) {
            for (const rule of ctx.params.rules) state.set(rule);
            broker.logger.warn(`Fault injection set: ${describe(ctx.params.rules)}`);
          },
          [FAULTS_CLEAR](ctx: Context<ClearPayload>) {
            state.clear(ctx.params.target);
            broker.logger.warn(`Fault injection cleared: ${ctx.params.target ?? "all"}`);
          },
        },
      });
    },

    localAction(next, action) {
      // The $faults service itself is never faulted: `faults clear` must always get through.
      if (action.name?.startsWith(`${FAULTS_SERVICE}.`)) return next;
      return wrap(String(action.name), next);
    },

    localEvent(next, event) {
      if (event.name?.startsWith("$")) return next;
      return wrap(`${event.service?.name ?? ""}:${event.name ?? ""}`, next);
    },
  };
}
