/**
 * A node that comes back under the same node id (a container restarted with its hostname, a
 * process restarted by its supervisor, the chaos run's restarts) before the others noticed it
 * was gone: its new instance announces itself with a new `instanceID`, and moleculer takes
 * that as an update of the same node. The requests still waiting on the old instance are never
 * answered (it died with them) and each waits the whole request timeout (10 s), as long as a
 * client waits for a checkout (bench/README.md, chaos).
 *
 * Here a new instance of a node that is still counted as available rejects, at once, the
 * requests pending on that node, as moleculer does for a node that left (`RequestRejectedError`,
 * which lib/retry.ts repeats only for actions safe to repeat; a client retries a checkout with
 * its Idempotency-Key).
 */
import type { Middleware, ServiceBroker } from "moleculer";

interface NodeInfoPayload {
  sender: string;
  instanceID?: string;
}

interface NodeView {
  available: boolean;
  instanceID: string | null;
}

interface NodeCatalog {
  get(nodeID: string): NodeView | undefined;
  processNodeInfo(payload: NodeInfoPayload): unknown;
}

interface TransitView {
  removePendingRequestByNodeID(nodeID: string): void;
}

export const RestartedNodeMiddleware = {
  name: "RestartedNode",
  created(broker: ServiceBroker) {
    const nodes = (broker.registry as unknown as { nodes: NodeCatalog }).nodes;
    const processNodeInfo = nodes.processNodeInfo.bind(nodes);
    nodes.processNodeInfo = (payload: NodeInfoPayload) => {
      const known = nodes.get(payload.sender);
      const restarted =
        known?.available === true &&
        known.instanceID !== null &&
        payload.instanceID !== undefined &&
        known.instanceID !== payload.instanceID;
      const result = processNodeInfo(payload);
      if (restarted) {
        broker.logger.warn(
          `Node '${payload.sender}' restarted: the requests it had not answered are rejected.`,
        );
        (broker.transit as unknown as TransitView | undefined)?.removePendingRequestByNodeID(
          payload.sender,
        );
      }
      return result;
    };
  },
} as unknown as Middleware;
