/**
 * The e-mail deliveries of the notifications collection: the loop that sends every due one and
 * the single attempt. No Moleculer: the service hands in its store, its mailer and how to
 * compose a mail (which needs the users and orders services).
 */
import type { Doc, Store } from "../../mixins/db.mixin";
import { afterFailure, type Delivery, type RetryPolicy } from "./delivery";
import { describeSendError, type Mailer } from "./mailer";
import type { Mail } from "./templates";

/** What an attempt needs of a stored notification. */
export interface MailableDoc extends Doc {
  userId: string;
  type: string;
  subject: string;
  body: string;
  orderId?: string | null;
  delivery?: Delivery;
}

export type MailOutcome = "sent" | "retried" | "failed";

export interface MailDeliveryOptions {
  store: Store;
  mailer: Mailer;
  retry: RetryPolicy;
  /** How long a claim lasts: longer than an attempt can take (every SMTP step is bounded). */
  claimMs: number;
  compose(doc: MailableDoc): Promise<{ to: string; mail: Mail }>;
  counted(type: string, outcome: MailOutcome): void;
  warn(message: string): void;
}

/** Mails one pass of the loop claims; the rest wait for the next pass. */
const DUE_BATCH = 20;

export class MailDelivery {
  private loop: NodeJS.Timeout | null = null;
  /** Sends under way in this process; `stop` waits for them. */
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly o: MailDeliveryOptions) {}

  /** Pending deliveries live in the database: the loop finds them after a restart too. */
  start(intervalMs: number): void {
    let busy = false;
    this.loop = setInterval(() => {
      if (busy) return;
      busy = true;
      this.deliverDue()
        .catch((err) => this.o.warn(`Sending due mails failed: ${String(err)}`))
        .finally(() => (busy = false));
    }, intervalMs);
  }

  async stop(): Promise<void> {
    if (this.loop) clearInterval(this.loop);
    await Promise.allSettled([...this.sending]);
    this.o.mailer.close();
  }

  /** Sends one mail now, without holding up the caller (an event handler). */
  sendSoon(id: string): void {
    const sending = this.deliverOne(id)
      .catch((err) => this.o.warn(`Mail of notification ${id} not sent: ${String(err)}`))
      .finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }

  /** One pass: every pending delivery that is due and unclaimed, the longest waiting first. */
  async deliverDue(): Promise<void> {
    const now = Date.now();
    const due = await this.o.store.find({
      query: {
        "delivery.status": "pending",
        "delivery.nextAttemptAt": { $lte: now },
        "delivery.claimedUntil": { $lte: now },
      },
      sort: ["delivery.nextAttemptAt"],
      limit: DUE_BATCH,
    });
    for (const doc of due) await this.deliverOne(doc._id);
  }

  /**
   * One attempt, by at most one process at a time. The claim is an insert under the unique
   * dedupe-key index, keyed by the delivery's state (attempt count and claim deadline): of the
   * processes that read the same state, the database lets exactly one insert it — unique indexes
   * hold on FerretDB too, where concurrent conditional updates of one document do not
   * (the test bench's FerretDB 1.24). The winner checks the state is still the one it read (a process that
   * read it long ago can insert the key only after the winner removed it, by which time the
   * state has moved on), then takes a lease: if it dies, another process takes over after it.
   */
  async deliverOne(id: string): Promise<void> {
    const { store } = this.o;
    const now = Date.now();
    const seen = (await store.findById(id)) as MailableDoc | null;
    const state = seen?.delivery;
    if (!state || state.status !== "pending" || state.claimedUntil > now) return;
    const claimKey = `mail-claim:${id}:${state.attempts}:${state.claimedUntil}`;
    let claim: Doc;
    try {
      claim = await store.insert({ dedupeKey: claimKey, claimOf: id, createdAt: now });
    } catch (err) {
      if (!store.isDuplicateKeyError(err)) throw err;
      // A holder that died between its claim and its lease leaves the key: free it once stale.
      const held = await store.findOne({ dedupeKey: claimKey });
      if (held && Number(held.createdAt) < now - this.o.claimMs) await store.removeById(held._id);
      return;
    }
    try {
      const doc = (await store.findById(id)) as MailableDoc | null;
      const d = doc?.delivery;
      if (!doc || !d || d.status !== "pending" || d.attempts !== state.attempts) return;
      if (d.claimedUntil !== state.claimedUntil) return;
      await store.updateWhere(
        { _id: id },
        { $set: { "delivery.claimedUntil": now + this.o.claimMs, "delivery.claimedBy": claimKey } },
      );
      await this.attempt(doc, d.attempts + 1, claimKey);
    } finally {
      await store.removeById(claim._id);
    }
  }

  /** Composes and sends the mail, then records the outcome (only while the claim is ours). */
  private async attempt(doc: MailableDoc, attempts: number, claimKey: string): Promise<void> {
    const { store, mailer, retry } = this.o;
    const id = doc._id;
    const mine = { _id: id, "delivery.claimedBy": claimKey };
    try {
      const { to, mail } = await this.o.compose(doc);
      await mailer.send({ notificationId: id, to, ...mail });
    } catch (err) {
      const update = afterFailure(attempts, describeSendError(err), Date.now(), retry);
      await store.updateWhere(mine, { $set: update });
      const outcome = update["delivery.status"] === "failed" ? "failed" : "retried";
      this.o.counted(doc.type, outcome);
      this.o.warn(
        `Mail of notification ${id} (attempt ${attempts}) ${outcome}: ${update["delivery.lastError"]}`,
      );
      return;
    }
    await store.updateWhere(mine, {
      $set: {
        "delivery.status": "sent",
        "delivery.attempts": attempts,
        "delivery.sentAt": new Date().toISOString(),
        "delivery.claimedUntil": 0,
      },
    });
    this.o.counted(doc.type, "sent");
  }
}
