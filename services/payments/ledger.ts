/**
 * The `payments` collection's writes: one document per order, ever (a unique index on
 * `orderId`), moved on only by conditional writes the state machine (state-machine.ts) spells
 * out. A final outcome's event is recorded in the payment's outbox by the outcome's own write
 * and removed once emitted (lib/outbox.ts); `resendDue` re-sends what a crash left unsent.
 * No Moleculer: it takes the store and an emitter.
 */
import type { OrderCancelledEvent, OrderCreatedEvent } from "../../contracts/orders";
import type { Payment, PaymentStatus } from "../../contracts/payments";
import { crashPoint, deliver, pendingEvent, resendDue, type OutboxFields } from "../../lib/outbox";
import type { Store, Stored } from "../../mixins/db.mixin";
import { paymentEvent } from "./events";
import { VOIDED, announcement, claim, type Outcome, type PaymentWrite } from "./state-machine";

export interface PaymentDoc extends Stored, OutboxFields {
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  failureReason?: string;
  /** Kept to resume a charge interrupted by a crash; a provider token, never card data. */
  paymentToken?: string;
  chargeId?: string;
  refundId?: string;
  /** The node that last worked on it (internal: shows how the work spread over replicas). */
  nodeId: string;
  /** Provider calls made for this payment; more than one only after a resumed crash. */
  attempts: number;
  /** When the current step was claimed (epoch ms); a step older than `staleMs` is resumed. */
  claimedAt: number;
  rev: number;
  createdAt: string;
  updatedAt: string;
}

/** Sends an event: the broker, or the context of the event being handled (its trace). */
export interface Emitter {
  emit(event: string, payload: unknown): Promise<unknown>;
}

export interface LedgerDeps {
  store: Pick<
    Store<PaymentDoc>,
    "insert" | "findOne" | "find" | "updateWhere" | "isDuplicateKeyError"
  >;
  /** This node's id, kept on the payment it works on. */
  nodeId: string;
  /** Longer than any provider call may take: an in-flight step older than this is resumed. */
  staleMs(): number;
  log: { info(message: string): void; warn(message: string): void };
}

/** The payment as the API shows it (API.md, "Payments"). */
export function publicPayment(doc: PaymentDoc): Payment {
  const p: Payment = {
    id: doc._id,
    orderId: doc.orderId,
    userId: doc.userId,
    amount: doc.amount,
    currency: doc.currency,
    status: doc.status,
    createdAt: doc.createdAt,
  };
  if (doc.failureReason) p.failureReason = doc.failureReason;
  return p;
}

export class Ledger {
  constructor(private readonly deps: LedgerDeps) {}

  byOrder(orderId: string): Promise<PaymentDoc | null> {
    return this.deps.store.findOne({ orderId });
  }

  /** Records the order's payment as `processing`; `null` when the order has one already. */
  startCharge(e: OrderCreatedEvent): Promise<PaymentDoc | null> {
    return this.insert(e, { status: "processing", paymentToken: e.paymentToken, attempts: 1 });
  }

  /**
   * Not charged yet: takes the order's one payment slot as `failed`, so an order.created still
   * on its way can never charge a cancelled order, and announces it. When another handler took
   * the slot first, resolves to that payment; `null` once this one announced its own.
   */
  async voidPayment(e: OrderCancelledEvent, emitter: Emitter): Promise<PaymentDoc | null> {
    const owed = pendingEvent(VOIDED.event, Date.now());
    const inserted = await this.insert(e, {
      status: VOIDED.status,
      failureReason: VOIDED.failureReason,
      attempts: 0,
      outbox: [owed.entry],
      ...owed.set,
    });
    if (!inserted) return this.byOrder(e.orderId);
    crashPoint(VOIDED.event);
    await deliver(this.deps.store, inserted._id, [owed.entry], (entry) =>
      this.emitEvent(entry.event, inserted, emitter),
    );
    return null;
  }

  /** Applies a write of the state machine where the payment still matches; whether it did. */
  async write(
    doc: PaymentDoc,
    w: PaymentWrite,
    inc: Record<string, number> = {},
  ): Promise<boolean> {
    const changed = await this.deps.store.updateWhere(
      { _id: doc._id, ...w.expect },
      { $set: { ...w.set, nodeId: this.deps.nodeId }, $inc: { rev: 1, ...inc } },
    );
    return changed > 0;
  }

  /** Takes over a stale step; `null` if it is not stale or another replica took it first. */
  async claim(doc: PaymentDoc): Promise<PaymentDoc | null> {
    const now = Date.now();
    const w = claim(doc, now, this.deps.staleMs());
    if (!w || !(await this.write(doc, w, { attempts: 1 }))) return null;
    this.deps.log.warn(`Resuming the stale ${doc.status} payment of order ${doc.orderId}.`);
    return { ...doc, claimedAt: now, nodeId: this.deps.nodeId, attempts: doc.attempts + 1 };
  }

  /**
   * Records a final outcome where the payment is still in the outcome's expected state, with
   * its event in the outbox by the same write, then emits it. `null` when the payment moved on.
   */
  async record(doc: PaymentDoc, outcome: Outcome, emitter: Emitter): Promise<PaymentDoc | null> {
    const now = Date.now();
    const owed = pendingEvent(outcome.event, now);
    const changed = await this.deps.store.updateWhere(
      { _id: doc._id, status: outcome.expect.status },
      {
        $set: { ...outcome.set, ...owed.set, updatedAt: new Date(now).toISOString() },
        $push: owed.push,
        $inc: { rev: 1 },
      },
    );
    if (changed === 0) return null;
    crashPoint(outcome.event);
    const stored = (await this.byOrder(doc.orderId)) ?? { ...doc, ...outcome.set };
    await deliver(this.deps.store, doc._id, [owed.entry], (e) =>
      this.emitEvent(e.event, stored, emitter),
    );
    return stored;
  }

  /** Re-sends the event of a payment's final state; in-flight states have none yet. */
  async announce(doc: PaymentDoc, emitter: Emitter): Promise<void> {
    const event = announcement(doc.status);
    if (event) await this.emitEvent(event, doc, emitter);
  }

  /** One outbox pass: re-sends the events a crash left unsent. */
  resendDue(emitter: Emitter): Promise<number> {
    return resendDue(
      this.deps.store,
      (doc, e) => this.emitEvent(e.event, doc, emitter),
      (message) => this.deps.log.info(message),
    );
  }

  private async emitEvent(event: string, doc: PaymentDoc, emitter: Emitter): Promise<void> {
    const payload = paymentEvent(event, doc);
    if (payload) await emitter.emit(event, payload);
  }

  /** The order's one payment, inserted; `null` when the order has one already (unique index). */
  private async insert(
    e: OrderCreatedEvent | OrderCancelledEvent,
    fields: Pick<PaymentDoc, "status" | "attempts"> & Partial<PaymentDoc>,
  ): Promise<PaymentDoc | null> {
    const now = Date.now();
    const iso = new Date(now).toISOString();
    try {
      return await this.deps.store.insert({
        orderId: e.orderId,
        userId: e.userId,
        amount: e.amount,
        currency: e.currency,
        nodeId: this.deps.nodeId,
        claimedAt: now,
        rev: 0,
        createdAt: iso,
        updatedAt: iso,
        ...fields,
      });
    } catch (err) {
      if (!this.deps.store.isDuplicateKeyError(err)) throw err;
      return null;
    }
  }
}
