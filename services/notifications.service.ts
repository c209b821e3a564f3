/**
 * notifications: each user's inbox (API.md, "Notifications") and its delivery. Owns the
 * `notifications` collection. Consumes `user.registered`, `order.confirmed`, `order.cancelled`
 * and `payment.refunded`; every event may be redelivered, so each notification has a dedupe key
 * (user, type, order) under a unique index: a second copy of an event adds nothing, and a
 * notification whose delivery failed is delivered again instead.
 */
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
import { dbMixin, type DbMethods, type DbVars, type Doc, type Query } from "../mixins/db.mixin";
import { logChannel, type NotificationChannel } from "./notifications/channels";
import {
  orderCancelled,
  orderConfirmed,
  paymentRefunded,
  welcome,
  type Message,
  type NotificationType,
} from "./notifications/templates";

interface NotificationDoc extends Doc {
  userId: string;
  type: NotificationType;
  subject: string;
  body: string;
  /** `<userId>:<type>:<orderId or "account">`, unique. */
  dedupeKey: string;
  createdAt: string;
  readAt: string | null;
  deliveredAt: string | null;
}

interface NotificationsVars extends DbVars {
  channel: NotificationChannel;
}

interface NotificationsMethods extends DbMethods {
  publicNotification(doc: NotificationDoc): Notification;
  notify(userId: string, type: NotificationType, about: string, message: Message): Promise<void>;
}

export default defineService<ServiceSettingSchema, NotificationsMethods, NotificationsVars>({
  name: "notifications",
  mixins: [
    dbMixin({
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
          this.publicNotification(d as NotificationDoc),
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
        const doc = (await this.store.findOne(mine)) as NotificationDoc | null;
        if (!doc) throw new NotFoundError("Notification");
        return this.publicNotification(doc);
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
      };
    },

    /** Stores the notification once per dedupe key, then delivers it if not yet delivered. */
    async notify(userId, type, about, message) {
      const dedupeKey = `${userId}:${type}:${about}`;
      let doc: NotificationDoc | null;
      try {
        doc = (await this.store.insert({
          userId,
          type,
          subject: message.subject,
          body: message.body,
          dedupeKey,
          createdAt: new Date().toISOString(),
          readAt: null,
          deliveredAt: null,
        })) as NotificationDoc;
      } catch (err) {
        if (!this.store.isDuplicateKeyError(err)) throw err;
        doc = (await this.store.findOne({ dedupeKey })) as NotificationDoc | null;
      }
      if (!doc || doc.deliveredAt) return;
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
  },

  created() {
    this.channel = logChannel((message) => this.logger.info(message));
  },

  started() {
    if (config().notifications.smtpUrl) {
      this.logger.warn(
        "SMTP_URL is set, but this build has no SMTP channel yet: notifications go to the log.",
      );
    }
  },
});
