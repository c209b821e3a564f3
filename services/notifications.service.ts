/**
 * notifications: each user's inbox (API.md, "Notifications") and its delivery. Owns the
 * `notifications` collection. Consumes `user.registered`, `order.confirmed`, `order.cancelled`
 * and `payment.refunded`; every event may be redelivered, so each notification has a dedupe key
 * (user, type, order) under a unique index: a second copy of an event adds nothing, and a
 * notification whose delivery failed is delivered again instead.
 *
 * With SMTP_URL each notification is also e-mailed to the user's address, asked of the users
 * service when the mail is sent (`users.contact`). The delivery is a record on the notification
 * (services/notifications/delivery.ts): a loop sends every due one, so a pending mail survives a
 * restart, and a failed attempt is retried with exponential backoff up to MAIL_MAX_ATTEMPTS.
 */
import { callWithFailover } from "../lib/failover-call";
import type { Context, ServiceSettingSchema } from "moleculer";
import { defineService } from "../lib/define-service";
import { config } from "../lib/config";
import { NotFoundError } from "../lib/errors";
import type { GatewayMeta } from "../lib/auth";
import type { Page } from "../contracts/common";
import {
  idParams,
  listParams,
  type ListParams,
  type Notification,
} from "../contracts/notifications";
import * as orders from "../contracts/orders";
import * as payments from "../contracts/payments";
import * as users from "../contracts/users";
import { dbMixin, type DbMethods, type DbVars, type Query } from "../mixins/db.mixin";
import { countDomain } from "../lib/metrics";
import { logChannel, type NotificationChannel } from "./notifications/channels";
import { maskSmtpUrl, smtpMailer } from "./notifications/mailer";
import { MailDelivery, type MailableDoc } from "./notifications/mail-delivery";
import { newDelivery, publicDelivery, type Delivery } from "./notifications/delivery";
import {
  renderMail,
  type Mail,
  type MailOrder,
  orderCancelled,
  orderConfirmed,
  paymentRefunded,
  welcome,
  type Message,
  type NotificationType,
} from "./notifications/templates";

/** For operators (`notifications.deliveries`, the REPL's `deliveries`): the error text too. */
export interface DeliveryReport {
  id: string;
  userId: string;
  type: NotificationType;
  subject: string;
  createdAt: string;
  delivery: Omit<Delivery, "claimedBy">;
}

interface NotificationDoc extends MailableDoc {
  type: NotificationType;
  /** `<userId>:<type>:<orderId or "account">`, unique. */
  dedupeKey: string;
  createdAt: string;
  readAt: string | null;
  deliveredAt: string | null;
  /** The order the notification is about (order mails show its lines); `null` for welcome. */
  orderId?: string | null;
}

interface NotificationsVars extends DbVars<NotificationDoc> {
  channel: NotificationChannel;
  /** The e-mail channel; `null` without SMTP_URL. */
  mail: MailDelivery | null;
}

interface NotificationsMethods extends DbMethods {
  publicNotification(doc: NotificationDoc): Notification;
  notify(userId: string, type: NotificationType, about: string, message: Message): Promise<void>;
  composeMail(doc: MailableDoc): Promise<{ to: string; mail: Mail }>;
}

/** The longest wait between two attempts of one mail. */
const MAX_BACKOFF_MS = 60 * 60_000;

export default defineService<ServiceSettingSchema, NotificationsMethods, NotificationsVars>({
  name: "notifications",
  mixins: [
    dbMixin<NotificationDoc>({
      collection: "notifications",
      indexes: [{ field: "dedupeKey", unique: true }, { field: "userId" }],
    }),
  ],

  actions: {
    list: {
      auth: "user",
      params: listParams.rule,
      async handler(ctx: Context<ListParams, GatewayMeta>): Promise<Page<Notification>> {
        const { page, pageSize, unread } = ctx.params;
        const query: Query = { userId: ctx.meta.user!.id };
        if (unread) query.readAt = null;
        return this.store.findPage(query, ["-createdAt", "-_id"], page, pageSize, (d) =>
          this.publicNotification(d),
        );
      },
    },

    markRead: {
      auth: "user",
      params: idParams.rule,
      async handler(ctx: Context<{ id: string }, GatewayMeta>): Promise<Notification> {
        const mine = { _id: ctx.params.id, userId: ctx.meta.user!.id };
        // The first read time is kept: marking twice changes nothing.
        await this.store.updateWhere(
          { ...mine, readAt: null },
          { $set: { readAt: new Date().toISOString() } },
        );
        const doc = await this.store.findOne(mine);
        if (!doc) throw new NotFoundError("Notification");
        return this.publicNotification(doc);
      },
    },

    /** For operators (the REPL's `deliveries`): e-mail deliveries by status, newest first. */
    deliveries: {
      visibility: "public",
      params: {
        status: { type: "enum", values: ["pending", "sent", "failed"], optional: true },
        limit: { type: "number", integer: true, min: 1, max: 500, optional: true, default: 20 },
      },
      async handler(
        ctx: Context<{ status?: Delivery["status"]; limit: number }>,
      ): Promise<DeliveryReport[]> {
        const query: Query = { "delivery.channel": "email" };
        if (ctx.params.status) query["delivery.status"] = ctx.params.status;
        const docs = await this.store.find({
          query,
          sort: ["-createdAt"],
          limit: ctx.params.limit,
        });
        return docs.map((doc) => {
          const { channel, status, attempts, lastError, sentAt, nextAttemptAt, claimedUntil } =
            doc.delivery!;
          const delivery = {
            channel,
            status,
            attempts,
            lastError,
            sentAt,
            nextAttemptAt,
            claimedUntil,
          };
          const { _id: id, userId, type, subject, createdAt } = doc;
          return { id, userId, type, subject, createdAt, delivery };
        });
      },
    },
  },

  events: {
    [users.USER_REGISTERED]: {
      params: users.userRegistered.params.rule,
      async handler(ctx: Context<users.UserRegisteredEvent>) {
        const e = ctx.params;
        await this.notify(e.userId, "welcome", "account", welcome(e.name));
      },
    },
    [orders.ORDER_CONFIRMED]: {
      params: orders.orderConfirmed.params.rule,
      async handler(ctx: Context<orders.OrderConfirmedEvent>) {
        const e = ctx.params;
        const message = orderConfirmed(e.orderId, e.total, e.currency);
        await this.notify(e.userId, "order_confirmed", e.orderId, message);
      },
    },
    [orders.ORDER_CANCELLED]: {
      params: orders.orderCancelled.params.rule,
      async handler(ctx: Context<orders.OrderCancelledEvent>) {
        const e = ctx.params;
        const message = orderCancelled(e.orderId, e.reason);
        await this.notify(e.userId, "order_cancelled", e.orderId, message);
      },
    },
    [payments.PAYMENT_REFUNDED]: {
      params: payments.paymentRefunded.params.rule,
      async handler(ctx: Context<payments.PaymentRefundedEvent>) {
        const e = ctx.params;
        const message = paymentRefunded(e.orderId, e.amount, e.currency);
        await this.notify(e.userId, "payment_refunded", e.orderId, message);
      },
    },
  },

  methods: {
    publicNotification(doc: NotificationDoc): Notification {
      return {
        id: doc._id,
        userId: doc.userId,
        type: doc.type,
        subject: doc.subject,
        body: doc.body,
        createdAt: doc.createdAt,
        readAt: doc.readAt,
        ...(doc.delivery ? { delivery: publicDelivery(doc.delivery) } : {}),
      };
    },

    /** Stores the notification once per dedupe key, then delivers it if not yet delivered. */
    async notify(userId, type, about, message) {
      const dedupeKey = `${userId}:${type}:${about}`;
      let doc: NotificationDoc | null;
      try {
        doc = await this.store.insert({
          userId,
          type,
          subject: message.subject,
          body: message.body,
          dedupeKey,
          createdAt: new Date().toISOString(),
          readAt: null,
          deliveredAt: null,
          orderId: about === "account" ? null : about,
          ...(this.mail ? { delivery: newDelivery(Date.now()) } : {}),
        });
      } catch (err) {
        if (!this.store.isDuplicateKeyError(err)) throw err;
        doc = await this.store.findOne({ dedupeKey });
      }
      if (!doc) return;
      if (this.mail && doc.delivery?.status === "pending") this.mail.sendSoon(doc._id);
      if (doc.deliveredAt) return;
      try {
        await this.channel.deliver({ id: doc._id, ...message, userId, type });
        await this.store.updateWhere(
          { _id: doc._id, deliveredAt: null },
          { $set: { deliveredAt: new Date().toISOString() } },
        );
      } catch (err) {
        // Kept in the inbox either way; the next copy of the event tries the delivery again.
        this.logger.warn(
          `Delivering notification ${doc._id} over ${this.channel.name} failed:`,
          err,
        );
      }
    },

    /** The address and name now (a user may have renamed), and the order for order mails. */
    async composeMail(doc) {
      // Hedged to another users replica when the first is slow or silent (a dying node).
      const contact = await callWithFailover<
        { email: string; name: string } | null,
        { userId: string }
      >(this.broker, "users.contact", { userId: doc.userId });
      if (!contact) throw new Error(`user ${doc.userId} has no address`);
      let order: MailOrder | null = null;
      if (doc.orderId) {
        // Read as its owner would: the order's lines and total as the customer sees them.
        order = await this.broker.call<MailOrder, { id: string }>(
          "orders.get",
          { id: doc.orderId },
          { meta: { user: { id: doc.userId, roles: ["customer"] } } },
        );
      }
      const message = { subject: doc.subject, body: doc.body };
      return { to: contact.email, mail: renderMail(message, contact.name, order) };
    },
  },

  created() {
    this.channel = logChannel((message) => this.logger.info(message));
    const mail = config().notifications;
    this.mail = mail.smtpUrl
      ? new MailDelivery({
          store: this.store,
          mailer: smtpMailer(mail.smtpUrl, mail.mailFrom!, mail.sendTimeoutMs),
          retry: { maxAttempts: mail.maxAttempts, baseMs: mail.retryBaseMs, capMs: MAX_BACKOFF_MS },
          // Every SMTP step is bounded by sendTimeoutMs: ten of them outlast an attempt.
          claimMs: 10 * mail.sendTimeoutMs,
          compose: (doc) => this.composeMail(doc),
          counted: (type, outcome) => countDomain(this.broker, "mails", { type, outcome }),
          warn: (message) => this.logger.warn(message),
        })
      : null;
  },

  started() {
    const mail = config().notifications;
    if (!this.mail) {
      this.logger.info("SMTP_URL is not set: notifications go to the inbox and the log only.");
      return;
    }
    this.logger.info(
      `Notifications are e-mailed through ${maskSmtpUrl(mail.smtpUrl!)} from ${mail.mailFrom} ` +
        `(up to ${mail.maxAttempts} attempts).`,
    );
    this.mail.start(Math.max(50, Math.min(1_000, mail.retryBaseMs)));
  },

  async stopped() {
    await this.mail?.stop();
  },
});
