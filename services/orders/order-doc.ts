/** The stored order: the contract's fields plus the saga's bookkeeping. No Moleculer. */
import type { CancelReason, Order, OrderLine } from "../../contracts/orders";
import type { ReserveLine } from "../../contracts/products";
import type { Stored } from "../../mixins/db.mixin";
import type { OutboxFields } from "../../lib/outbox";
import type { HistoryEntry, OrderStatus, PaymentState, SagaState } from "./state-machine";

export interface OrderDoc extends Stored, OutboxFields {
  userId: string;
  status: OrderStatus;
  /** The requested lines while `reserving`; the priced lines from `pending` on. */
  items: Array<OrderLine | ReserveLine>;
  total: number;
  currency: string;
  payment: { status: PaymentState; id?: string };
  cancelReason?: CancelReason;
  history: HistoryEntry[];
  /** `<userId>:<Idempotency-Key>`, or a random one without a key; unique. */
  idemKey: string;
  bodyHash: string;
  /** Kept so the sweeper can re-send `order.created`; a provider token, never card data. */
  paymentToken: string;
  stockReleased: boolean;
  paymentDueAt: number;
  deadline: number | null;
  /** Bumped by every write, so a conditional update always counts as a modification. */
  rev: number;
  /** How often the sweeper (or an operator) re-drove the order past a deadline. */
  redrives?: number;
  /** The checkout's span, when traced: events re-driven later join its trace under it. */
  trace?: { traceID: string; spanID: string };
  createdAt: string;
  updatedAt: string;
}

/** The part of the order the state machine decides on. */
export function sagaState(doc: OrderDoc): SagaState {
  return {
    status: doc.status,
    payment: doc.payment,
    stockReleased: doc.stockReleased,
    paymentDueAt: doc.paymentDueAt,
    deadline: doc.deadline,
  };
}

/** The order as the API shows it (API.md, "Orders"). */
export function publicOrder(doc: OrderDoc): Order {
  const order: Order = {
    id: doc._id,
    userId: doc.userId,
    status: doc.status,
    // A visible order is past `reserving`: its lines are priced.
    items: doc.items as OrderLine[],
    total: doc.total,
    currency: doc.currency,
    payment: doc.payment,
    history: doc.history,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
  if (doc.cancelReason) order.cancelReason = doc.cancelReason;
  return order;
}
