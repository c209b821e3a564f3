/**
 * The REST contract: one entry per route the gateway serves under `/api`, with the action it
 * calls, who may call it, its params (contracts/<service>.ts), its success answers and the
 * conflicts it can report. contracts/openapi.ts turns this table into the OpenAPI document;
 * the gateway's alias table (services/api.service.ts) must name the same routes
 * (test/unit/openapi.test.ts).
 */
import type { ErrorType } from "./common";
import * as admin from "./console";
import * as notifications from "./notifications";
import * as orders from "./orders";
import * as payments from "./payments";
import * as products from "./products";
import type { JsonSchema, Props } from "./schema";
import * as users from "./users";

/** `public`: anyone; `user`: any signed-in caller; `admin`: callers with the admin role. */
export type Access = "public" | "user" | "admin";

/** The named bodies of the document (`#/components/schemas/<name>`). */
export type BodyName =
  | "AuthResult"
  | "User"
  | "Product"
  | "ProductPage"
  | "ProductList"
  | "Order"
  | "OrderPage"
  | "Payment"
  | "PaymentPage"
  | "Notification"
  | "NotificationPage"
  | "MeshNodes"
  | "ActionsReport"
  | "OrderBoard"
  | "RedriveResult"
  | "FaultReports";

export interface Success {
  status: 200 | 201 | 204;
  description: string;
  /** Absent for 204: no body. */
  body?: BodyName;
  /**
   * A `text/event-stream` answer instead of JSON: what its events are. Such a route never ends
   * on its own (tools/fuzz.sh leaves it out).
   */
  events?: string;
  /** A 201's `Location` header. */
  location?: boolean;
}

export interface Operation {
  /** `METHOD /path/:param`, relative to `/api`, as the gateway's alias table writes it. */
  route: string;
  action: string;
  operationId: string;
  tag: "auth" | "users" | "products" | "orders" | "payments" | "notifications" | "console";
  summary: string;
  description: string;
  access: Access;
  params?: { readonly props: Props; readonly json: JsonSchema };
  success: Success[];
  /** 409 answers: the error type and when it happens. */
  conflicts?: Partial<Record<ErrorType, string>>;
  /** A 404 other than an unknown id in the path (e.g. a product named in the body). */
  notFound?: string;
  /** Takes an `Idempotency-Key` header. */
  idempotent?: boolean;
}

export const API_PREFIX = "/api";

export const OPERATIONS: Operation[] = [
  {
    route: "POST /auth/register",
    action: "users.register",
    operationId: "register",
    tag: "auth",
    summary: "Create an account",
    description:
      "Creates a customer account and signs it in. The e-mail address is normalised (trimmed, " +
      "NFKC, domain lower-cased) and must not be registered yet, in any letter case.",
    access: "public",
    params: users.registerParams,
    success: [{ status: 201, description: "Signed in", body: "AuthResult", location: true }],
    conflicts: { CONFLICT: "The e-mail address is already registered" },
  },
  {
    route: "POST /auth/login",
    action: "users.login",
    operationId: "login",
    tag: "auth",
    summary: "Sign in",
    description:
      "Exchanges an e-mail address and password for a bearer token. A wrong address and a wrong " +
      "password answer the same 401.",
    access: "public",
    params: users.loginParams,
    success: [{ status: 200, description: "Signed in", body: "AuthResult" }],
  },
  {
    route: "GET /users/me",
    action: "users.me",
    operationId: "getMe",
    tag: "users",
    summary: "The signed-in user",
    description: "The account the bearer token belongs to.",
    access: "user",
    success: [{ status: 200, description: "The account", body: "User" }],
  },
  {
    route: "PATCH /users/me",
    action: "users.updateMe",
    operationId: "updateMe",
    tag: "users",
    summary: "Change your name or password",
    description:
      "Changes the name and/or the password; a new password needs `currentPassword`. Changing " +
      "the password ends every earlier token of the account.",
    access: "user",
    params: users.updateMeParams,
    success: [{ status: 200, description: "The account as changed", body: "User" }],
  },
  {
    route: "GET /products",
    action: "products.list",
    operationId: "listProducts",
    tag: "products",
    summary: "Browse the catalog",
    description:
      "A page of products, newest first unless `sort` says otherwise; `q` matches words of the " +
      "name, case-insensitively. Prices are integers in minor units (cents).",
    access: "public",
    params: products.listParams,
    success: [{ status: 200, description: "A page of products", body: "ProductPage" }],
  },
  {
    route: "GET /products/:id",
    action: "products.get",
    operationId: "getProduct",
    tag: "products",
    summary: "One product",
    description: "A product with its current stock.",
    access: "public",
    params: products.idParams,
    success: [{ status: 200, description: "The product", body: "Product" }],
  },
  {
    route: "GET /products/:id/recommendations",
    action: "products.recommendations",
    operationId: "listProductRecommendations",
    tag: "products",
    summary: "Products bought together with this one",
    description:
      "The products most often bought in the same order as this one, most frequent first " +
      "(the Python recommendations service counts them). 503 while that service is not " +
      "running; every other route is unaffected.",
    access: "public",
    params: products.recommendationsParams,
    success: [{ status: 200, description: "The ranked products", body: "ProductList" }],
  },
  {
    route: "POST /products",
    action: "products.create",
    operationId: "createProduct",
    tag: "products",
    summary: "Add a product (admin)",
    description: "Adds a product to the catalog. The `sku` is unique.",
    access: "admin",
    params: products.createParams,
    success: [{ status: 201, description: "Created", body: "Product", location: true }],
    conflicts: { CONFLICT: "A product with this sku exists" },
  },
  {
    route: "PATCH /products/:id",
    action: "products.update",
    operationId: "updateProduct",
    tag: "products",
    summary: "Change a product (admin)",
    description: "Changes the given fields; at least one is needed.",
    access: "admin",
    params: products.updateParams,
    success: [{ status: 200, description: "The product as changed", body: "Product" }],
  },
  {
    route: "DELETE /products/:id",
    action: "products.remove",
    operationId: "deleteProduct",
    tag: "products",
    summary: "Remove a product (admin)",
    description: "Removes the product from the catalog; orders placed keep their lines.",
    access: "admin",
    params: products.idParams,
    success: [{ status: 204, description: "Removed; no body" }],
  },
  {
    route: "POST /orders",
    action: "orders.create",
    operationId: "createOrder",
    tag: "orders",
    summary: "Place an order",
    description:
      "Reserves the stock, prices the lines from the catalog and starts the payment. The order " +
      "answers `pending`; it becomes `confirmed` when the charge succeeds or `cancelled` (stock " +
      "released) when it is declined or times out: poll `GET /api/orders/{id}`. Send an " +
      "`Idempotency-Key` to retry safely: a repeat with the same key and body answers the " +
      "first order with 200.",
    access: "user",
    params: orders.createParams,
    idempotent: true,
    success: [
      { status: 201, description: "Placed", body: "Order", location: true },
      { status: 200, description: "A repeat of an earlier request with this key", body: "Order" },
    ],
    conflicts: {
      OUT_OF_STOCK: "Not enough stock for a line; `data` names the first short line",
      IDEMPOTENCY_CONFLICT: "This Idempotency-Key was used with a different body",
    },
    notFound: "A product of the order does not exist",
  },
  {
    route: "GET /orders",
    action: "orders.list",
    operationId: "listOrders",
    tag: "orders",
    summary: "Your orders",
    description: "A page of the caller's orders, newest first. Admins may pass `userId`.",
    access: "user",
    params: orders.listParams,
    success: [{ status: 200, description: "A page of orders", body: "OrderPage" }],
  },
  {
    route: "GET /orders/stream",
    action: "api.streamOrders",
    operationId: "streamOrders",
    tag: "orders",
    summary: "Your orders, live",
    description:
      "Server-Sent Events: the stream starts with `event: ready` (`data: {}`); then each time " +
      "one of the caller's orders changes status (pending, confirmed, cancelled), `event: " +
      "order` with the order as `GET /api/orders/{id}` answers it; a `: keep-alive` comment " +
      "every 15 s. Send the bearer token in `Authorization` (read it with fetch, not " +
      "EventSource). Events that happen while no stream is open are not replayed: read the " +
      "order after (re)connecting. The stream ends when the token expires, and when the " +
      "token's account changes its password or is removed. One account holds at most 10 " +
      "streams open at once (429 past that).",
    access: "user",
    success: [
      {
        status: 200,
        description: "The stream",
        events: "`ready` once, then `order` (an Order as JSON) per status change",
      },
    ],
  },
  {
    route: "GET /orders/:id",
    action: "orders.get",
    operationId: "getOrder",
    tag: "orders",
    summary: "One order",
    description: "The order with its status history. Another customer's order is a 404.",
    access: "user",
    params: orders.idParams,
    success: [{ status: 200, description: "The order", body: "Order" }],
  },
  {
    route: "POST /orders/:id/cancel",
    action: "orders.cancel",
    operationId: "cancelOrder",
    tag: "orders",
    summary: "Cancel an order",
    description:
      "Cancels a pending or confirmed order: its stock is released and a charge is refunded.",
    access: "user",
    params: orders.idParams,
    success: [{ status: 200, description: "The order, cancelled", body: "Order" }],
    conflicts: { INVALID_STATE: "The order can no longer be cancelled" },
  },
  {
    route: "GET /payments",
    action: "payments.list",
    operationId: "listPayments",
    tag: "payments",
    summary: "Your payments",
    description: "A page of the caller's payments, newest first; `orderId` narrows to one order.",
    access: "user",
    params: payments.listParams,
    success: [{ status: 200, description: "A page of payments", body: "PaymentPage" }],
  },
  {
    route: "GET /notifications",
    action: "notifications.list",
    operationId: "listNotifications",
    tag: "notifications",
    summary: "Your notifications",
    description: "A page of the caller's notifications, newest first; `unread=true` for new ones.",
    access: "user",
    params: notifications.listParams,
    success: [{ status: 200, description: "A page of notifications", body: "NotificationPage" }],
  },
  {
    route: "POST /notifications/:id/read",
    action: "notifications.markRead",
    operationId: "markNotificationRead",
    tag: "notifications",
    summary: "Mark a notification read",
    description: "Sets `readAt` the first time; marking again changes nothing.",
    access: "user",
    params: notifications.idParams,
    success: [{ status: 200, description: "The notification", body: "Notification" }],
  },
  {
    route: "GET /admin/nodes",
    action: "api.listNodes",
    operationId: "listMeshNodes",
    tag: "console",
    summary: "The mesh's nodes (admin)",
    description:
      "Every node the gateway knows of, gone ones too (`available: false`), with the services " +
      "each runs and how many actions each offers.",
    access: "admin",
    success: [{ status: 200, description: "The nodes", body: "MeshNodes" }],
  },
  {
    route: "GET /admin/stream",
    action: "api.streamMesh",
    operationId: "streamMesh",
    tag: "console",
    summary: "The mesh, live (admin)",
    description:
      "Server-Sent Events: `event: ready` (`data: {}`), then `event: node` with `{ id, change: " +
      '"connected" | "disconnected", node? }` (`node` as `GET /api/admin/nodes` lists it, on ' +
      "`connected`) as nodes join and leave; a `: keep-alive` comment every 15 s. The stream " +
      "ends when the token expires; one account holds at most 10 streams open at once (429).",
    access: "admin",
    success: [
      {
        status: 200,
        description: "The stream",
        events: "`ready` once, then `node` ({ id, change, node? }) per node joining or leaving",
      },
    ],
  },
  {
    route: "GET /admin/actions",
    action: "api.listActionFigures",
    operationId: "listActionFigures",
    tag: "console",
    summary: "Per-action figures (admin)",
    description:
      "For every action of the mesh: requests and errors per second (moleculer's rates, over " +
      "about the last minute, every node added up), the error rate, p50 and p99 durations, " +
      "and the circuit breaker's state. All zero where a node runs with METRICS=false.",
    access: "admin",
    success: [{ status: 200, description: "The figures", body: "ActionsReport" }],
  },
  {
    route: "GET /admin/orders/board",
    action: "api.showOrderBoard",
    operationId: "showOrderBoard",
    tag: "console",
    summary: "The saga board (admin)",
    description:
      "How many orders are in each status, and the stuck ones: past their saga step's " +
      "deadline, oldest first (what the REPL's `stuck` shows).",
    access: "admin",
    params: admin.boardParams,
    success: [{ status: 200, description: "The board", body: "OrderBoard" }],
  },
  {
    route: "POST /admin/orders/:id/redrive",
    action: "api.redriveOrder",
    operationId: "redriveOrder",
    tag: "console",
    summary: "Re-drive an order's saga step (admin)",
    description:
      "Does now what the sweeper would at the order's deadline (the REPL's `redrive`): " +
      "re-sends the step's event, or cancels an order unpaid past its payment timeout.",
    access: "admin",
    params: admin.redriveParams,
    success: [{ status: 200, description: "What was done", body: "RedriveResult" }],
    conflicts: { INVALID_STATE: "The order has no step outstanding (confirmed, or settled)" },
  },
  {
    route: "GET /admin/faults",
    action: "api.listFaults",
    operationId: "listFaults",
    tag: "console",
    summary: "Injected faults (admin)",
    description: "Each node's fault rules and what they injected (the REPL's `faults list`).",
    access: "admin",
    success: [{ status: 200, description: "Each node's rules", body: "FaultReports" }],
  },
  {
    route: "PUT /admin/faults/:target",
    action: "api.setFault",
    operationId: "setFault",
    tag: "console",
    summary: "Inject a fault on every node (admin)",
    description:
      "Makes the target (`service.action` or `service:event`) fail with probability `error` " +
      "and/or wait `latencyMs` first, on every node; replaces the target's earlier rule. " +
      "`retryable` lets the callers' retries absorb the failures.",
    access: "admin",
    params: admin.setFaultParams,
    success: [{ status: 200, description: "Each node's rules after", body: "FaultReports" }],
  },
  {
    route: "DELETE /admin/faults/:target",
    action: "api.clearFault",
    operationId: "clearFault",
    tag: "console",
    summary: "Clear one fault (admin)",
    description: "Removes the target's rule on every node.",
    access: "admin",
    params: admin.clearFaultParams,
    success: [{ status: 204, description: "Cleared; no body" }],
  },
  {
    route: "DELETE /admin/faults",
    action: "api.clearFaults",
    operationId: "clearFaults",
    tag: "console",
    summary: "Clear every fault (admin)",
    description: "Removes every rule on every node.",
    access: "admin",
    success: [{ status: 204, description: "Cleared; no body" }],
  },
];
