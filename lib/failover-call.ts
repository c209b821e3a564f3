/**
 * A read that answers from another replica when the one it was sent to is slow or silent.
 *
 * The broker's retry policy repeats a timed-out read on whichever endpoint its balancer picks
 * next, so with two replicas and one of them frozen (a dying node whose connection is still
 * open) half the retries land on the frozen one again, each waiting the full timeout. Here the
 * replica is chosen in turn among the live ones and named by node id, and the call is hedged:
 * when the first replica has not answered within `hedgeAfterMs` (or failed retryably: node
 * gone), the same call goes to the next replica too, and the first answer wins. The first call
 * is not abandoned: a replica that is merely slow (a busy box) still answers, so a slow live
 * replica plus a frozen one cannot fail the call, as a timeout-then-retry could. Both calls get
 * the broker's request timeout. Only for actions that are safe to repeat (lib/retry.ts,
 * SAFE_TO_REPEAT).
 */
import type { Context, ServiceBroker } from "moleculer";
import { SAFE_TO_REPEAT } from "./retry";

interface EndpointView {
  id: string;
  state: boolean;
  local?: boolean;
  node: { id: string; available: boolean };
}

interface FailedCall {
  retryable?: boolean;
}

/** The live nodes that offer `action`. */
export function liveReplicas(broker: ServiceBroker, action: string): string[] {
  const registry = broker.registry as unknown as {
    getActionEndpoints(name: string): { endpoints: EndpointView[] } | undefined;
  };
  const endpoints = registry.getActionEndpoints(action)?.endpoints ?? [];
  return endpoints.filter((e) => e.state && e.node.available).map((e) => e.node.id);
}

const turns = new Map<string, number>();

/** A read by id answers in milliseconds: one not answered within a second is hedged. */
export const READ_HEDGE_MS = 1_000;

/**
 * Calls `action` from `from`: a broker, or a context (the call is then its child: tracing and
 * meta follow it).
 */
export function callWithFailover<T, P extends object>(
  from: ServiceBroker | Context,
  action: string,
  params: P,
  hedgeAfterMs = READ_HEDGE_MS,
): Promise<T> {
  const broker = "broker" in from ? from.broker : from;
  if (!SAFE_TO_REPEAT.has(action))
    return Promise.reject(new Error(`${action} is not safe to repeat`));
  const nodes = liveReplicas(broker, action);
  // One replica, or one in this process: nothing to fail over to; the broker's retry policy.
  if (nodes.length < 2 || nodes.includes(broker.nodeID)) {
    return from.call<T, P>(action, params);
  }
  // Round robin, chosen here so the hedge knows which node the first call went to.
  const turn = turns.get(action) ?? 0;
  turns.set(action, turn + 1);
  const first = nodes[turn % nodes.length];
  const second = nodes[(turn + 1) % nodes.length];
  const ask = (nodeID: string) => from.call<T, P>(action, params, { nodeID, retries: 0 });

  return new Promise<T>((resolve, reject) => {
    let pending = 1;
    let hedged = false;
    let settled = false;
    const hedge = () => {
      if (hedged || settled) return;
      hedged = true;
      clearTimeout(timer);
      pending++;
      ask(second).then(win, lose);
    };
    const timer = setTimeout(hedge, hedgeAfterMs);
    const win = (answer: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const lose = (err: unknown) => {
      pending--;
      if (settled) return;
      // An answer from the service (bad input, not found): the other replica would say the same.
      if (!(err as FailedCall | null)?.retryable || (pending === 0 && hedged)) {
        settled = true;
        clearTimeout(timer);
        reject(err);
        return;
      }
      hedge();
    };
    ask(first).then(win, lose);
  });
}
