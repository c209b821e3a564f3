/**
 * The operator console's routes (contracts/console.ts), a mixin of the gateway: every action
 * here is `auth: "admin"`. They show what the REPL shows (repl.ts) and share its code: the saga
 * board and the re-drive are orders' `stuck` and `redrive`, fault injection is
 * middlewares/faults.ts.
 */
import type { Context, ServiceBroker } from "moleculer";
import { defineMixin } from "../../lib/define-service";
import { ValidationError } from "../../lib/errors";
import type { GatewayMeta } from "../../lib/auth";
import {
  boardParams,
  clearFaultParams,
  redriveParams,
  setFaultParams,
  type ActionsReport,
  type FaultReports,
  type MeshNode,
  type MeshNodes,
  type NodeChange,
  type OrderBoard,
  type RedriveResult,
  type SetFaultParams,
  type StuckOrderBody,
} from "../../contracts/console";
import { clearFaults, faultReports, setFault, type FaultRule } from "../../middlewares/faults";
import {
  CIRCUIT_EVENTS,
  CircuitStates,
  REQUEST_METRICS,
  actionFigures,
  type MetricSnapshot,
} from "./console-figures";
import { EventStreams, type EventStream } from "./event-stream";

/** The console's routes, relative to `/api` (contracts/rest.ts declares each). */
export const CONSOLE_ALIASES: Record<string, string> = {
  "GET /admin/nodes": "api.listNodes",
  "GET /admin/stream": "api.streamMesh",
  "GET /admin/actions": "api.listActionFigures",
  "GET /admin/orders/board": "api.showOrderBoard",
  "POST /admin/orders/:id/redrive": "api.redriveOrder",
  "GET /admin/faults": "api.listFaults",
  "PUT /admin/faults/:target": "api.setFault",
  "DELETE /admin/faults/:target": "api.clearFault",
  "DELETE /admin/faults": "api.clearFaults",
};

/** moleculer's registry node, the fields read here. */
interface RegistryNode {
  id: string;
  hostname?: string;
  instanceID?: string;
  available: boolean;
  local: boolean;
  services?: Array<Record<string, unknown>>;
}

function meshNode(node: RegistryNode): MeshNode {
  const out: MeshNode = {
    id: node.id,
    hostname: node.hostname ?? "",
    available: node.available,
    local: node.local,
    services: (node.services ?? [])
      .filter((s) => !String(s.name).startsWith("$"))
      .map((s) => ({
        name: String(s.name),
        ...(s.version !== undefined && s.version !== null ? { version: String(s.version) } : {}),
        actions: Object.keys(s.actions ?? {}).length,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
  if (node.instanceID) out.instanceID = node.instanceID;
  return out;
}

/** Each available node's request metrics; a node with metrics off adds nothing. */
async function requestMetrics(broker: ServiceBroker): Promise<MetricSnapshot[]> {
  const nodes = broker.registry.getNodeList({ onlyAvailable: true, withServices: false });
  const answers = await Promise.all(
    nodes.map((node: { id: string }) =>
      broker
        .call<MetricSnapshot[], { includes: string[] }>(
          "$node.metrics",
          { includes: REQUEST_METRICS },
          { nodeID: node.id },
        )
        .catch(() => [] as MetricSnapshot[]),
    ),
  );
  return answers.flat();
}

interface ConsoleVars {
  /** The open `GET /api/admin/stream` responses. */
  meshStreams: EventStreams<null>;
  circuits: CircuitStates;
}
type ConsoleThis = { broker: ServiceBroker } & ConsoleVars;
type AdminContext<P = unknown> = Context<P, GatewayMeta>;

export const consoleMixin = defineMixin<Record<string, never>, Record<string, never>, ConsoleVars>({
  actions: {
    listNodes: {
      auth: "admin",
      handler(this: ConsoleThis): MeshNodes {
        const nodes = this.broker.registry.getNodeList({
          onlyAvailable: false,
          withServices: true,
        });
        return { nodes: (nodes as RegistryNode[]).map(meshNode) };
      },
    },

    /** `event: node` as nodes join and leave. */
    streamMesh: {
      auth: "admin",
      handler(this: ConsoleThis, ctx: Context<unknown, GatewayMeta>): EventStream {
        return this.meshStreams.open(null, ctx.meta.user!.id, ctx.meta.tokenExpiresAt);
      },
    },

    listActionFigures: {
      auth: "admin",
      async handler(this: ConsoleThis): Promise<ActionsReport> {
        const names = this.broker.registry
          .getActionList({ onlyAvailable: false, skipInternal: true })
          .map((a: { name: string }) => a.name);
        const snapshots = await requestMetrics(this.broker);
        return { actions: actionFigures(names, snapshots, (a) => this.circuits.stateOf(a)) };
      },
    },

    showOrderBoard: {
      auth: "admin",
      params: boardParams.rule,
      async handler(ctx: AdminContext<{ limit: number }>): Promise<OrderBoard> {
        const [counts, stuck] = await Promise.all([
          ctx.call<OrderBoard["counts"]>("orders.counts"),
          ctx.call<StuckOrderBody[], { limit: number }>("orders.stuck", {
            limit: ctx.params.limit,
          }),
        ]);
        return { counts, stuck };
      },
    },

    redriveOrder: {
      auth: "admin",
      params: redriveParams.rule,
      handler(ctx: AdminContext<{ id: string }>): Promise<RedriveResult> {
        return ctx.call<RedriveResult, { id: string }>("orders.redrive", { id: ctx.params.id });
      },
    },

    listFaults: {
      auth: "admin",
      async handler(this: ConsoleThis): Promise<FaultReports> {
        return { nodes: await faultReports(this.broker) };
      },
    },

    /** Sets the rule on every node; answers the nodes' rules after it. */
    setFault: {
      auth: "admin",
      params: setFaultParams.rule,
      async handler(this: ConsoleThis, ctx: AdminContext<SetFaultParams>): Promise<FaultReports> {
        const { target, error = 0, latencyMs = 0, retryable = false } = ctx.params;
        if (error === 0 && latencyMs === 0) {
          throw new ValidationError("A fault needs `error` or `latencyMs` above 0", [
            { field: "error", message: "give error or latencyMs", type: "required" },
          ]);
        }
        const rule: FaultRule = { target, error, latencyMs, retryable };
        await setFault(this.broker, rule);
        return { nodes: await faultReports(this.broker) };
      },
    },

    clearFault: {
      auth: "admin",
      params: clearFaultParams.rule,
      async handler(this: ConsoleThis, ctx: AdminContext<{ target: string }>): Promise<null> {
        await clearFaults(this.broker, ctx.params.target);
        ctx.meta.$statusCode = 204;
        return null;
      },
    },

    clearFaults: {
      auth: "admin",
      async handler(this: ConsoleThis, ctx: AdminContext): Promise<null> {
        await clearFaults(this.broker);
        ctx.meta.$statusCode = 204;
        return null;
      },
    },
  },

  events: {
    "$node.connected"(this: ConsoleThis, ctx: Context<{ node: RegistryNode }>) {
      const change: NodeChange = {
        id: ctx.params.node.id,
        change: "connected",
        node: meshNode(ctx.params.node),
      };
      this.meshStreams.publish(() => true, "node", change);
    },
    "$node.disconnected"(this: ConsoleThis, ctx: Context<{ node: RegistryNode }>) {
      const change: NodeChange = { id: ctx.params.node.id, change: "disconnected" };
      this.meshStreams.publish(() => true, "node", change);
    },
    ...Object.fromEntries(
      Object.keys(CIRCUIT_EVENTS).map((event) => [
        event,
        function (this: ConsoleThis, ctx: Context<{ nodeID?: string; action?: string }>) {
          this.circuits.record(ctx.nodeID ?? "", event, ctx.params);
        },
      ]),
    ),
  },

  created(this: ConsoleThis) {
    this.meshStreams = new EventStreams();
    this.circuits = new CircuitStates();
  },

  stopped(this: ConsoleThis) {
    this.meshStreams.close();
  },
});
