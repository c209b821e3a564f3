/**
 * Stock reservations of the checkout saga: one document per order in products' own
 * `reservations` collection (`_id` = the order id), so a product's document does not grow with
 * the orders that bought from it. No Moleculer: the products service passes its two stores.
 *
 * Stock and reservation live in different documents and no write spans both, so:
 * - One call at a time works on an order's reservation: it holds the document's `lease` (a
 *   conditional update), so a repeated or concurrent reserve/release waits instead of racing.
 *   A call that died leaves the lease to expire (LEASE_MS) and the next call resumes its work.
 * - Each stock move writes a transient marker into the product document in the same update
 *   (`taking.<orderId>` while reserving, `giving.<orderId>` while releasing), so a call that
 *   resumes after a crash moves nothing twice. Once the reservation records the outcome the
 *   markers go: a product document holds markers only of calls in flight (or of a crash that
 *   no later call for that order has cleaned up yet).
 */
import {
  ConflictError,
  NotFoundError,
  OutOfStockError,
  ServiceUnavailableError,
} from "../../lib/errors";
import type { Doc, IndexSpec, Store } from "../../mixins/db.mixin";

import type { ReserveLine } from "../../contracts/products";

/**
 * `reserving`: lines may be partly taken (each taken line carries its `taking` marker);
 * `held`: every line is taken; `released`: nothing is held any more, for good.
 */
export type ReservationState = "reserving" | "held" | "released";

export interface Reservation extends Doc {
  lines: ReserveLine[];
  state: ReservationState;
  /** Epoch ms until which one call owns the document; 0 when free. */
  lease: number;
  createdAt: string;
  updatedAt: string;
}

export const RESERVATIONS_COLLECTION = "reservations";
export const RESERVATION_INDEXES: IndexSpec[] = [{ field: "state" }];

/** The product fields of the markers; never shown outside the service. */
export const MARKER_FIELDS = ["taking", "giving"] as const;

/** Longer than any call takes (three request timeouts of the callers' retries, with room). */
const LEASE_MS = 60_000;

/** How long a call waits for another call on the same order before giving up (retryable). */
const LEASE_WAIT_MS = 2_000;

const taking = (orderId: string) => `taking.${orderId}`;
const giving = (orderId: string) => `giving.${orderId}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Reservations {
  constructor(
    private readonly products: Store,
    private readonly reservations: Store,
    /** How long a call owns an order's reservation; a test that simulates crashes shortens it. */
    private readonly leaseMs = LEASE_MS,
  ) {}

  /**
   * Takes the stock of every line, all or none, once however often it is called. Throws
   * OUT_OF_STOCK or NOT_FOUND having taken nothing (what it took is given back), CONFLICT when
   * the order's reservation was released already.
   */
  async reserve(orderId: string, lines: ReserveLine[]): Promise<void> {
    const r = await this.acquire(orderId, lines);
    let freed = false;
    try {
      if (r.state === "released") {
        throw new ConflictError(`The stock of order ${orderId} was released`);
      }
      if (r.state === "reserving") {
        try {
          for (const line of r.lines) await this.take(orderId, line);
        } catch (err) {
          await this.giveBack(r);
          throw err;
        }
      }
      // The outcome and the end of the lease in one write (one write fewer per checkout).
      await this.reservations.updateWhere(
        { _id: orderId },
        { $set: { state: "held", lease: 0, updatedAt: new Date().toISOString() } },
      );
      freed = true;
    } finally {
      if (!freed) await this.free(orderId);
    }
    // Outside the lease: once the reservation says `held`, nothing reads the order's `taking`
    // markers any more (a release gives back under `giving` markers), so removing them races
    // with nothing. A crash before it leaves them to the order's next call (its release).
    await this.clearMarkers(r, ["taking"]);
  }

  /** Gives back whatever the order holds, once; resolves to how many lines it gave back. */
  async release(orderId: string): Promise<number> {
    const existing = (await this.reservations.findById(orderId)) as Reservation | null;
    if (!existing) return 0;
    const r = await this.acquire(orderId, existing.lines);
    try {
      const gave = r.state === "released" ? 0 : await this.giveBack(r);
      await this.clearMarkers(r);
      return gave;
    } finally {
      await this.free(orderId);
    }
  }

  /** Creates the order's reservation (first call) and takes its lease, waiting a little. */
  private async acquire(orderId: string, lines: ReserveLine[]): Promise<Reservation> {
    const until = Date.now() + LEASE_WAIT_MS;
    for (;;) {
      const now = Date.now();
      const iso = new Date(now).toISOString();
      try {
        return (await this.reservations.insert({
          _id: orderId,
          lines: lines.map(({ productId, quantity }) => ({ productId, quantity })),
          state: "reserving",
          lease: now + this.leaseMs,
          createdAt: iso,
          updatedAt: iso,
        })) as Reservation;
      } catch (err) {
        if (!this.reservations.isDuplicateKeyError(err)) throw err;
      }
      const took = await this.reservations.updateWhere(
        { _id: orderId, lease: { $lt: now } },
        { $set: { lease: now + this.leaseMs } },
      );
      if (took > 0) {
        const r = (await this.reservations.findById(orderId)) as Reservation | null;
        if (r) return r;
      }
      if (Date.now() > until) {
        throw new ServiceUnavailableError(`The stock of order ${orderId} is busy, retry`);
      }
      await sleep(20);
    }
  }

  private async free(orderId: string): Promise<void> {
    await this.reservations.updateWhere({ _id: orderId }, { $set: { lease: 0 } });
  }

  private async record(orderId: string, state: ReservationState): Promise<void> {
    await this.reservations.updateWhere(
      { _id: orderId },
      { $set: { state, updatedAt: new Date().toISOString() } },
    );
  }

  /** Takes one line, unless an earlier, interrupted call took it (its marker is there). */
  private async take(orderId: string, { productId, quantity }: ReserveLine): Promise<void> {
    const took = await this.products.updateWhere(
      { _id: productId, stock: { $gte: quantity }, [taking(orderId)]: { $exists: false } },
      { $inc: { stock: -quantity }, $set: { [taking(orderId)]: quantity } },
    );
    if (took > 0) return;
    const doc = await this.products.findById(productId);
    if (!doc) throw new NotFoundError("Product");
    if (marker(doc, "taking", orderId) !== undefined) return;
    throw new OutOfStockError({ productId, requested: quantity, available: Number(doc.stock) });
  }

  /**
   * Gives back what the order holds and records it released. Reserving: exactly the lines
   * that carry a `taking` marker, by consuming it. Held: every line, under a `giving` marker
   * that a resumed call finds.
   */
  private async giveBack(r: Reservation): Promise<number> {
    const orderId = r._id;
    let gave = 0;
    for (const { productId, quantity } of r.lines) {
      gave +=
        r.state === "held"
          ? await this.products.updateWhere(
              { _id: productId, [giving(orderId)]: { $exists: false } },
              { $inc: { stock: quantity }, $set: { [giving(orderId)]: quantity } },
            )
          : await this.products.updateWhere(
              { _id: productId, [taking(orderId)]: quantity },
              { $inc: { stock: quantity }, $unset: { [taking(orderId)]: true } },
            );
    }
    await this.record(orderId, "released");
    return gave;
  }

  /**
   * Removes the order's markers of `kinds`; the reservation records what they stood for. A
   * reserve removes only `taking` ones: a `giving` marker of a release that died midway must stay
   * until that release is resumed, or it would give the line back twice.
   */
  private async clearMarkers(
    r: Reservation,
    kinds: ReadonlyArray<(typeof MARKER_FIELDS)[number]> = MARKER_FIELDS,
  ): Promise<void> {
    const fields = kinds.map((kind) => `${kind}.${r._id}`);
    for (const { productId } of r.lines) {
      await this.products.updateWhere(
        { _id: productId, $or: fields.map((f) => ({ [f]: { $exists: true } })) },
        { $unset: Object.fromEntries(fields.map((f) => [f, true])) },
      );
    }
  }
}

function marker(
  doc: Record<string, unknown>,
  kind: (typeof MARKER_FIELDS)[number],
  orderId: string,
): number | undefined {
  const marks = doc[kind];
  if (typeof marks !== "object" || marks === null) return undefined;
  const qty = (marks as Record<string, unknown>)[orderId];
  return typeof qty === "number" ? qty : undefined;
}
