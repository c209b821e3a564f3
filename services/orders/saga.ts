/**
 * The order saga's machinery: applies the decisions of the state machine (state-machine.ts) to
 * the stored order and runs their effects. It takes the orders collection, an emitter and a
 * caller, never the broker, so it runs (and is tested) without one.
 *
 * - Every transition is one conditional update on the expected status and payment status
 *   (`apply`), so concurrent events and requests cannot both win; the loser decides again on
 *   the fresh document (`drive`).
 * - The event a transition owes is recorded in the order's outbox by the transition's own write
 *   and removed once emitted (lib/outbox.ts): a crash between the write and the emit loses no
 *   event.
 * - The sweeper's pass (`sweep`) re-drives every order whose deadline passed: it re-emits the
 *   step's event, cancels orders unpaid past their due time, finishes stock releases and
 *   abandons checkouts that died half-way. It also re-sends the outbox entries left unsent.
 */
import { ServiceUnavailableError } from "../../lib/errors";
import { crashPoint, deliver, pendingEvent, resendDue, type OutboxEntry } from "../../lib/outbox";
import type { Store } from "../../mixins/db.mixin";
import { EVENT_OF_EFFECT, orderEvent } from "./events";
import { sagaState, type OrderDoc } from "./order-doc";
import {
  onDeadline,
  type Decision,
  type Effect,
  type HistoryEntry,
  type OrderStatus,
  type SagaState,
  type Timing,
  type Transition,
} from "./state-machine";

/** What the saga reads and writes of the orders collection. */
export type SagaStore = Pick<Store<OrderDoc>, "findById" | "find" | "updateWhere" | "removeById">;

/** The span an event continues: a re-driven event joins its checkout's trace. */
export interface EmitOptions {
  parentSpan?: { id: string; traceID: string; sampled: boolean };
}

/** Sends an event: the broker, or the context of the request or event being handled. */
export interface Emitter {
  emit(event: string, payload: unknown, opts?: EmitOptions): Promise<unknown>;
}

/** Calls another service's action (`products.release`). */
export interface Caller {
  call(action: string, params: unknown): Promise<unknown>;
}

export interface SagaDeps {
  store: SagaStore;
  /** Emits what no request or event handler is waiting on: the sweeper's re-drives and re-sends. */
  emitter: Emitter;
  caller: Caller;
  timing(): Timing;
  /** How long after its checkout began a reservation for an order may still land (`abandon`). */
  abandonAfterMs(): number;
  log: { info(message: string): void; warn(message: string, err?: unknown): void };
  /**
   * Told of every transition written, with the order as it left it, before its effects run:
   * the one place each change of an order's state passes (metrics hang here).
   */
  applied(order: OrderDoc, t: Transition): void;
  /** Told of every order re-driven past its deadline (by the sweeper or an operator). */
  redriven(order: OrderDoc): void;
}

/** What the REPL's `stuck` shows per order. */
export interface StuckOrder {
  id: string;
  status: OrderStatus;
  step: string;
  deadline: string;
  attempts: number;
}

export interface ApplyOptions {
  emitter?: Emitter;
  /** Fields written by the same update (the checkout's priced lines). */
  extra?: Partial<Pick<OrderDoc, "items" | "total" | "currency">>;
  /** Run the effects after resolving: the checkout answers before the payment is under way. */
  background?: boolean;
}

const MAX_ATTEMPTS = 5;
const SWEEP_BATCH = 100;

export class Saga {
  constructor(private readonly deps: SagaDeps) {}

  load(id: string): Promise<OrderDoc | null> {
    return this.deps.store.findById(id);
  }

  /**
   * Applies one transition as a conditional update on the expected state, then its effects.
   * Resolves to the order as the transition left it, or `null` when the order moved on
   * meanwhile (the caller decides again on the fresh document).
   */
  async apply(doc: OrderDoc, t: Transition, opts: ApplyOptions = {}): Promise<OrderDoc | null> {
    const { emitter = this.deps.emitter, extra = {}, background = false } = opts;
    const updatedAt = new Date().toISOString();
    const set: Record<string, unknown> = { ...extra, deadline: t.set.deadline, updatedAt };
    if (t.set.status) set.status = t.set.status;
    if (t.set.paymentStatus) set["payment.status"] = t.set.paymentStatus;
    if (t.set.paymentId) set["payment.id"] = t.set.paymentId;
    if (t.set.cancelReason) set.cancelReason = t.set.cancelReason;
    const push: Record<string, unknown> = {};
    if (t.history) {
      const entry: HistoryEntry = { status: t.history.status, at: updatedAt };
      if (t.history.reason) entry.reason = t.history.reason;
      push.history = entry;
    }
    // The event the transition owes (one at most: state-machine.ts) goes into the outbox by
    // this same write (lib/outbox.ts).
    const owed = t.effects.map((e) => EVENT_OF_EFFECT[e]).find(Boolean);
    const pending = owed ? pendingEvent(owed, Date.now()) : null;
    if (pending) {
      Object.assign(push, pending.push);
      Object.assign(set, pending.set);
    }
    const update: Record<string, unknown> = { $set: set, $inc: { rev: 1 } };
    if (Object.keys(push).length > 0) update.$push = push;
    const changed = await this.deps.store.updateWhere(
      { _id: doc._id, status: t.expect.status, "payment.status": t.expect.paymentStatus },
      update,
    );
    if (changed === 0) return null;
    if (owed) crashPoint(owed);
    const fresh = await this.load(doc._id);
    if (!fresh) return null;
    this.deps.applied(fresh, t);
    const effects = this.runEffects(fresh, t, emitter, pending ? [pending.entry] : []);
    if (!background) await effects;
    else {
      // A failed effect is redone by the sweeper: the order's deadline is still set.
      effects.catch((err: unknown) => this.deps.log.warn(`Effects of order ${doc._id}:`, err));
    }
    return fresh;
  }

  /** Decides and applies on the latest document until a transition wins or none is due. */
  async drive(
    orderId: string,
    decide: (s: SagaState, now: number) => Decision,
    emitter: Emitter = this.deps.emitter,
  ): Promise<Decision | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const doc = await this.load(orderId);
      if (!doc) return null;
      const decision = decide(sagaState(doc), Date.now());
      if (decision.kind !== "transition") return decision;
      if (await this.apply(doc, decision.transition, { emitter })) return decision;
    }
    throw new ServiceUnavailableError("The order is changing too fast, please retry");
  }

  /**
   * One pass over the orders whose deadline passed, oldest first, a bounded batch; then the
   * outbox entries left unsent. `keepGoing` turning false (the service stops) ends the pass
   * between orders; what is left stays due.
   */
  async sweep(keepGoing: () => boolean = () => true): Promise<void> {
    const due = await this.deps.store.find({
      query: { deadline: { $lte: Date.now() } },
      sort: ["deadline"],
      limit: SWEEP_BATCH,
    });
    for (const doc of due) {
      if (!keepGoing()) return;
      await this.redrive(doc);
    }
    await resendDue(
      this.deps.store,
      (doc, e) => this.emitEvent(e.event, doc, this.deps.emitter),
      (message) => this.deps.log.info(message),
    );
  }

  /**
   * Claims the order by moving its deadline (conditional on the one read), so of several
   * replicas only one re-drives it, then applies what the state machine says a passed deadline
   * means. Resolves to the effects run; `null` when another replica claimed it first.
   */
  async redrive(doc: OrderDoc): Promise<Effect[] | null> {
    const timing = this.deps.timing();
    const now = Date.now();
    const next = now + timing.stepDeadlineMs;
    const claimed = await this.deps.store.updateWhere(
      { _id: doc._id, deadline: doc.deadline },
      { $set: { deadline: next }, $inc: { rev: 1, redrives: 1 } },
    );
    if (claimed === 0) return null;
    this.deps.redriven(doc);
    const claimedDoc: OrderDoc = { ...doc, deadline: next };
    const decision = onDeadline(sagaState(claimedDoc), now, timing);
    if (decision.kind !== "transition") return [];
    // Past a deadline is not the normal path: say so, it is how a lost event shows.
    const { effects } = decision.transition;
    if (effects.length > 0) {
      this.deps.log.info(`Re-driving order ${doc._id} (${doc.status}): ${effects.join(", ")}`);
    }
    // The re-driven events continue the checkout's trace, under its orders.create span, so
    // Jaeger shows a late payment where the checkout is (not as a trace of its own).
    const { trace } = doc;
    const parent: EmitOptions = trace
      ? { parentSpan: { id: trace.spanID, traceID: trace.traceID, sampled: true } }
      : {};
    const emitter: Emitter = {
      emit: (event, payload) => this.deps.emitter.emit(event, payload, parent),
    };
    // A transition that loses a race is simply retried at the next deadline.
    await this.apply(claimedDoc, decision.transition, { emitter });
    return effects;
  }

  /** Orders past their step's deadline, oldest first, with the step the sweeper will redo. */
  async stuck(limit: number): Promise<StuckOrder[]> {
    const now = Date.now();
    const docs = await this.deps.store.find({
      query: { deadline: { $lte: now } },
      sort: ["deadline"],
      limit,
    });
    return docs.map((doc) => {
      const decision = onDeadline(sagaState(doc), now, this.deps.timing());
      return {
        id: doc._id,
        status: doc.status,
        step: decision.kind === "transition" ? decision.transition.effects.join(", ") : "",
        deadline: new Date(doc.deadline ?? now).toISOString(),
        attempts: doc.redrives ?? 0,
      };
    });
  }

  private async runEffects(
    doc: OrderDoc,
    t: Transition,
    emitter: Emitter,
    pending: OutboxEntry[],
  ): Promise<void> {
    for (const effect of t.effects) {
      if (effect === "releaseStock") {
        if (await this.releaseStock(doc)) {
          await this.deps.store.updateWhere(
            { _id: doc._id, stockReleased: false },
            { $set: { stockReleased: true }, $inc: { rev: 1 } },
          );
        }
      } else if (effect === "abandon") {
        await this.abandon(doc);
      }
      // The emits: their events are in the outbox, delivered below.
    }
    await deliver(this.deps.store, doc._id, pending, (e) => this.emitEvent(e.event, doc, emitter));
    if (doc.status === "cancelled") await this.settle(doc._id);
  }

  /**
   * Releases what an abandoned checkout may hold. A reservation for this order may still land
   * after this release: the checkout's products.reserve may be retried after a timeout. So the
   * order (and its deadline) stays, and every pass releases again, until that window has
   * passed; only then is the last release final and the order deleted.
   */
  private async abandon(doc: OrderDoc): Promise<void> {
    if (!(await this.releaseStock(doc))) return;
    if (Date.now() - Date.parse(doc.createdAt) > this.deps.abandonAfterMs()) {
      await this.deps.store.removeById(doc._id);
      this.deps.log.warn(`Abandoned order ${doc._id}: its checkout did not complete.`);
    }
  }

  private async emitEvent(event: string, doc: OrderDoc, emitter: Emitter): Promise<void> {
    const payload = orderEvent(event, doc);
    if (payload) await emitter.emit(event, payload);
  }

  /** products.release is idempotent; a failure leaves the deadline set, so the sweeper retries. */
  private async releaseStock(doc: OrderDoc): Promise<boolean> {
    try {
      await this.deps.caller.call("products.release", {
        orderId: doc._id,
        productIds: doc.items.map((i) => i.productId),
      });
      return true;
    } catch (err) {
      this.deps.log.warn(`Releasing the stock of order ${doc._id} failed; will retry:`, err);
      return false;
    }
  }

  /** Clears the deadline of a cancelled order once nothing is outstanding. */
  private async settle(orderId: string): Promise<void> {
    await this.deps.store.updateWhere(
      {
        _id: orderId,
        status: "cancelled",
        stockReleased: true,
        "payment.status": { $in: ["failed", "refunded"] },
        deadline: { $ne: null },
      },
      { $set: { deadline: null }, $inc: { rev: 1 } },
    );
  }
}
