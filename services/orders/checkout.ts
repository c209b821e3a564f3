/**
 * The checkout's steps (orders.create): store the order, reserve its stock, price it and mark
 * it pending. Stored first, a crash at any point leaves a document the sweeper finds (and
 * releases); reserved first, a crash before the insert would leave stock held by an order
 * nobody knows of. No Moleculer: the caller and emitter are the request's context.
 */
import { createHash, randomUUID } from "node:crypto";
import { Errors } from "moleculer";
import {
  IdempotencyConflictError,
  ServiceUnavailableError,
  ValidationError,
} from "../../lib/errors";
import type { Store } from "../../mixins/db.mixin";
import type { CreateParams, OrderLine } from "../../contracts/orders";
import type { PricedLine, ReserveLine } from "../../contracts/products";
import { sagaState, type OrderDoc } from "./order-doc";
import type { Caller, Emitter, Saga } from "./saga";
import { VISIBLE_STATUSES, onReserved, type Timing } from "./state-machine";

const { ServiceNotFoundError } = Errors;

export type CheckoutBody = Pick<CreateParams, "items" | "paymentToken">;

/**
 * The body's fingerprint: the same lines in any order with the same token hash alike, so a
 * client that rebuilds its request in another order is still recognised as repeating it.
 */
export function checkoutHash(body: CheckoutBody): string {
  const items = body.items
    .map((i) => [i.productId, i.quantity] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256")
    .update(JSON.stringify({ items, paymentToken: body.paymentToken }))
    .digest("hex");
}

/** Refuses what the params' schema cannot say: a product twice, a malformed Idempotency-Key. */
export function checkRequest(body: CheckoutBody, key: string | undefined): void {
  const ids = body.items.map((i) => i.productId);
  if (new Set(ids).size !== ids.length) {
    throw new ValidationError("Each product may appear in one line only", [
      { field: "items", message: "products must be distinct", type: "arrayUnique" },
    ]);
  }
  if (key !== undefined && (key.length > 255 || !/^[\x21-\x7e]+$/.test(key))) {
    throw new ValidationError("Invalid Idempotency-Key", [
      { field: "Idempotency-Key", message: "1-255 visible ASCII characters", type: "string" },
    ]);
  }
}

export interface CheckoutRequest {
  userId: string;
  body: CheckoutBody;
  idempotencyKey?: string;
  /** The checkout's span, when traced. */
  trace?: { traceID: string; spanID: string };
}

export interface CheckoutDeps {
  store: Pick<Store<OrderDoc>, "insert" | "findOne" | "removeById" | "isDuplicateKeyError">;
  saga: Saga;
  /** Whether this node knows a live node that serves `action` (the mesh's registry). */
  reachable(action: string): boolean;
  timing(): Timing;
  paymentTimeoutMs(): number;
}

/** Error types with which products.reserve refuses an order without taking any stock. */
const RESERVE_REFUSALS = new Set(["OUT_OF_STOCK", "NOT_FOUND", "VALIDATION_ERROR"]);
const MAX_ATTEMPTS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Checkout {
  constructor(private readonly deps: CheckoutDeps) {}

  /**
   * Stores the order as `reserving`. The unique idemKey makes a repeated request find the
   * first one's order (`replayed`) instead of placing a second.
   */
  async storeOrder(req: CheckoutRequest): Promise<{ order: OrderDoc; replayed: boolean }> {
    const bodyHash = checkoutHash(req.body);
    const idemKey = `${req.userId}:${req.idempotencyKey ?? `auto:${randomUUID()}`}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = Date.now();
      const iso = new Date(now).toISOString();
      try {
        const order = await this.deps.store.insert({
          userId: req.userId,
          status: "reserving",
          items: req.body.items.map(({ productId, quantity }) => ({ productId, quantity })),
          total: 0,
          currency: "USD",
          payment: { status: "pending" },
          history: [],
          idemKey,
          bodyHash,
          paymentToken: req.body.paymentToken,
          stockReleased: false,
          paymentDueAt: now + this.deps.paymentTimeoutMs(),
          deadline: now + this.deps.timing().stepDeadlineMs,
          rev: 0,
          ...(req.trace ? { trace: req.trace } : {}),
          createdAt: iso,
          updatedAt: iso,
        });
        return { order, replayed: false };
      } catch (err) {
        if (!this.deps.store.isDuplicateKeyError(err)) throw err;
        const existing = await this.findByIdemKey(idemKey, bodyHash);
        if (existing) return { order: existing, replayed: true };
        // The first request's order was withdrawn (out of stock, abandoned): try afresh.
      }
    }
    throw new ServiceUnavailableError("Could not place the order");
  }

  /**
   * Reserves the order's stock; resolves to the priced lines. A refusal by products (out of
   * stock, unknown product, bad line) took nothing: the order is withdrawn, so the client may
   * retry with the same key. Anything else — moleculer's SERVICE_NOT_AVAILABLE is a 404 too —
   * may come after a try that took stock; then the sweeper releases whatever the order holds
   * and withdraws it.
   */
  async reserveStock(order: OrderDoc, items: ReserveLine[], caller: Caller): Promise<PricedLine[]> {
    // No products node known (one starting, or all away): nothing can be reserved, and nothing
    // is sent. Withdrawn at once, the order leaves its key free, so the client's retry with it
    // checks out as soon as products is back; abandoned instead, the key stayed taken until no
    // late reservation could land (half a minute).
    if (!this.deps.reachable("products.reserve")) {
      await this.deps.store.removeById(order._id);
      throw new ServiceNotFoundError({ action: "products.reserve" });
    }
    try {
      return (await caller.call("products.reserve", { orderId: order._id, items })) as PricedLine[];
    } catch (err) {
      const type = (err as { type?: string }).type ?? "";
      if (RESERVE_REFUSALS.has(type)) await this.deps.store.removeById(order._id);
      throw err;
    }
  }

  /**
   * Prices the order and makes it `pending`, announcing `order.created`. The payment runs after
   * the response (background effects): the client gets its pending order at once, even with a
   * slow card or a payments service that is down. An order that cannot be placed gives its
   * stock back and is withdrawn.
   */
  async placeOrder(order: OrderDoc, lines: PricedLine[], ctx: Caller & Emitter): Promise<OrderDoc> {
    const currencies = new Set(lines.map((l) => l.currency));
    const items: OrderLine[] = lines.map(({ currency: _c, ...line }) => line);
    const total = items.reduce((sum, l) => sum + l.lineTotal, 0);
    const decision = onReserved(sagaState(order), Date.now(), this.deps.timing());
    const placed =
      currencies.size === 1 && decision.kind === "transition"
        ? await this.deps.saga.apply(order, decision.transition, {
            emitter: ctx,
            extra: { items, total, currency: lines[0].currency },
            background: true,
          })
        : null;
    if (placed) return placed;
    const productIds = order.items.map((i) => i.productId);
    await ctx.call("products.release", { orderId: order._id, productIds });
    await this.deps.store.removeById(order._id);
    if (currencies.size > 1) {
      throw new ValidationError("All products of an order must have the same currency", [
        { field: "items", message: "mixed currencies", type: "currency" },
      ]);
    }
    // The sweeper abandoned it meanwhile: the reservation took longer than a step may.
    throw new ServiceUnavailableError("The checkout took too long, please retry");
  }

  /**
   * The order an earlier request with this key placed. Its body must match. While that
   * request is still reserving, wait for it (bounded): it ends placed or withdrawn.
   */
  private async findByIdemKey(idemKey: string, bodyHash: string): Promise<OrderDoc | null> {
    const until = Date.now() + this.deps.timing().stepDeadlineMs;
    for (;;) {
      const existing = await this.deps.store.findOne({ idemKey });
      if (!existing) return null;
      if (existing.bodyHash !== bodyHash) throw new IdempotencyConflictError();
      if (VISIBLE_STATUSES.includes(existing.status)) return existing;
      if (Date.now() > until) {
        throw new ServiceUnavailableError("The first request with this key is still running");
      }
      await sleep(50);
    }
  }
}
