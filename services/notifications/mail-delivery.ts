/**
 * The e-mail deliveries of the notifications collection: the loop that sends every due one and
 * the single attempt. No Moleculer: the service hands in its store, its mailer and how to
 * compose a mail (which needs the users and orders services).
 */
import { randomUUID } from "node:crypto";
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
  /** Names this process in its claims. */
  nodeId: string;
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
   * One attempt. The claim (still pending, no live claim) keeps a second process or a
   * redelivered event from sending the same mail meanwhile; reading back who holds it narrows
   * the race of two claims on a database that applies them non-atomically (see delivery.ts).
   */
  async deliverOne(id: string): Promise<void> {
    const { store, mailer, retry } = this.o;
    const now = Date.now();
    const token = `${this.o.nodeId}:${randomUUID()}`;
    const claimed = await store.updateWhere(
      { _id: id, "delivery.status": "pending", "delivery.claimedUntil": { $lte: now } },
      { $set: { "delivery.claimedUntil": now + this.o.claimMs, "delivery.claimedBy": token } },
    );
    if (claimed === 0) return;
    const doc = (await store.findById(id)) as MailableDoc | null;
    if (!doc?.delivery || doc.delivery.claimedBy !== token) return;
    const attempts = doc.delivery.attempts + 1;
    const mine = { _id: id, "delivery.claimedBy": token };
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
