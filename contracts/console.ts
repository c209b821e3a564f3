/**
 * The operator console's routes (`/api/admin/…`, admins only): the mesh, per-action figures,
 * the saga board and fault injection — what the REPL shows (repl.ts), over HTTP.
 */
import { id } from "./common";
import { ORDER_STATUSES } from "./orders";
import { params, s, type Infer, type InferParams } from "./schema";

const service = s.object({
  name: s.string({ example: "orders" }),
  version: s.optional(s.string()),
  actions: s.int({ min: 0, description: "How many actions the service offers" }),
});

export const meshNode = s.object({
  id: s.string({ example: "node-1" }),
  hostname: s.string(),
  available: s.boolean(),
  local: s.boolean({ description: "The gateway that answered runs on this node" }),
  instanceID: s.optional(s.string()),
  services: s.array(service, { description: "Internal (`$`) services aside" }),
});
export type MeshNode = Infer<typeof meshNode>;

export const meshNodes = s.object({ nodes: s.array(meshNode) });
export type MeshNodes = Infer<typeof meshNodes>;

/** `event: node` of `GET /api/admin/stream`. */
export const NODE_CHANGES = ["connected", "disconnected"] as const;
export interface NodeChange {
  id: string;
  change: (typeof NODE_CHANGES)[number];
  /** The node as `GET /api/admin/nodes` lists it (on `connected`). */
  node?: MeshNode;
}

export const CIRCUIT_STATES = ["closed", "half_open", "open"] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

export const actionFigures = s.object({
  name: s.string({ example: "products.list" }),
  requestsPerSecond: s.number({ min: 0, description: "Over about the last minute, every node" }),
  errorsPerSecond: s.number({ min: 0 }),
  errorRate: s.number({ min: 0, max: 1, description: "errorsPerSecond / requestsPerSecond" }),
  p50Ms: s.number({ min: 0, description: "Median duration over the last minutes" }),
  p99Ms: s.number({ min: 0 }),
  circuit: s.enum(CIRCUIT_STATES, {
    description: "The worst circuit-breaker state of the action's endpoints, as callers see it",
  }),
});
export type ActionFigures = Infer<typeof actionFigures>;

export const actionsReport = s.object({ actions: s.array(actionFigures) });
export type ActionsReport = Infer<typeof actionsReport>;

/** What `orders.stuck` answers per order (the REPL's `stuck`). */
export const stuckOrder = s.object({
  id: s.string(),
  status: s.enum(ORDER_STATUSES),
  step: s.string({ description: "What the sweeper does at the deadline" }),
  deadline: s.dateTime(),
  attempts: s.int({ min: 0, description: "How often it was re-driven" }),
});
export type StuckOrderBody = Infer<typeof stuckOrder>;

export const orderBoard = s.object({
  counts: s.object(
    Object.fromEntries(ORDER_STATUSES.map((status) => [status, s.int({ min: 0 })])) as Record<
      (typeof ORDER_STATUSES)[number],
      ReturnType<typeof s.int>
    >,
  ),
  stuck: s.array(stuckOrder, { description: "Past their step's deadline, oldest first" }),
});
export type OrderBoard = Infer<typeof orderBoard>;

export const boardParams = params({
  limit: s.withDefault(
    s.int({ min: 1, max: 500, convert: true, description: "At most this many stuck orders" }),
    50,
  ),
});

export const redriveResult = s.object({
  id: s.string(),
  effects: s.array(s.string(), { description: "What the re-drive did (the saga's effects)" }),
});
export type RedriveResult = Infer<typeof redriveResult>;

export const redriveParams = params({ id: id("Order id") });

/** `service.action` or `service:event`, `*` for any run of characters (middlewares/faults.ts). */
export const FAULT_TARGET_PATTERN = "^[A-Za-z0-9_$*-]+([.:][A-Za-z0-9_.$*-]+)?$";
const target = s.string({
  min: 1,
  max: 200,
  pattern: FAULT_TARGET_PATTERN,
  description: "`service.action` or `service:event`; `*` matches any run of characters",
  example: "payments:order.created",
});

export const faultRule = s.object({
  target,
  error: s.number({ min: 0, max: 1, description: "Probability that a call fails" }),
  latencyMs: s.int({ min: 0, description: "Delay before the handler runs" }),
  retryable: s.boolean(),
});

export const faultReport = s.object({
  nodeID: s.string(),
  rules: s.array(faultRule),
  injected: s.record(s.int({ min: 0 }), { description: "Injected failures per target" }),
  delayed: s.record(s.int({ min: 0 }), { description: "Delayed calls per target" }),
});

export const faultReports = s.object({ nodes: s.array(faultReport) });
export type FaultReports = Infer<typeof faultReports>;

/** `PUT /api/admin/faults/:target`: at least one of `error` and `latencyMs` above 0. */
export const setFaultParams = params(
  {
    target,
    error: s.optional(s.number({ min: 0, max: 1, convert: true, example: 0.5 })),
    latencyMs: s.optional(s.int({ min: 0, max: 60_000, convert: true, example: 200 })),
    retryable: s.optional(s.boolean()),
  },
  { strip: true },
);
export type SetFaultParams = InferParams<typeof setFaultParams>;

export const clearFaultParams = params({ target });
