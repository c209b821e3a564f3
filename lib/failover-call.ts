/**
 * A read that answers from another replica when the one it was sent to stops answering.
 *
 * The broker's retry policy repeats a timed-out read on whichever endpoint its balancer picks
 * next, so with two replicas and one of them frozen (a dying node whose connection is still
 * open) half the retries land on the frozen one again, each waiting the full timeout. Here the
 * replica is chosen in turn among the live ones and named by node id; the first try gets no
 * broker retries, and when it fails retryably (timed out, node gone) the second try is sent to
 * the next replica, with the broker's retry policy as usual. Only for actions that are safe to
 * repeat (lib/retry.ts, SAFE_TO_REPEAT).
 */
import type { ServiceBroker } from "moleculer";
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

export async function callWithFailover<T, P extends object>(
  broker: ServiceBroker,
  action: string,
  params: P,
  timeout: number,
): Promise<T> {
  if (!SAFE_TO_REPEAT.has(action)) throw new Error(`${action} is not safe to repeat`);
  const nodes = liveReplicas(broker, action);
  // One replica, or one in this process: nothing to fail over to; the broker's retry policy.
  if (nodes.length < 2 || nodes.includes(broker.nodeID)) {
    return broker.call<T, P>(action, params, { timeout });
  }
  // Round robin, chosen here so the second try knows which node the first one went to.
  const turn = turns.get(action) ?? 0;
  turns.set(action, turn + 1);
  const first = nodes[turn % nodes.length];
  try {
    return await broker.call<T, P>(action, params, { timeout, nodeID: first, retries: 0 });
  } catch (err) {
    if (!(err as FailedCall | null)?.retryable) throw err;
    const second = nodes[(turn + 1) % nodes.length];
    return broker.call<T, P>(action, params, { timeout, nodeID: second });
  }
}
