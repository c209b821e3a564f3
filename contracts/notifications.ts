/** notifications: what the customer is told, and when they read it. */
import { id, pagingProps } from "./common";
import { params, s, type Infer, type InferParams } from "./schema";

export const NOTIFICATION_TYPES = [
  "welcome",
  "order_confirmed",
  "order_cancelled",
  "payment_refunded",
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const notification = s.object({
  id: s.string({ example: "n_0a4f19" }),
  userId: s.string(),
  type: s.enum(NOTIFICATION_TYPES, { example: "order_confirmed" }),
  subject: s.string({ example: "Your order is confirmed" }),
  body: s.string(),
  createdAt: s.dateTime(),
  readAt: s.nullable(s.dateTime({ description: "When first marked read; null while unread" })),
  delivery: s.optional(
    s.object({
      channel: s.enum(["email"] as const),
      status: s.enum(["pending", "sent", "failed"] as const),
      attempts: s.int({ min: 0 }),
      sentAt: s.optional(s.dateTime()),
    }),
  ),
});
export type Notification = Infer<typeof notification>;

export const listParams = params(
  {
    ...pagingProps,
    unread: s.optional(s.boolean({ convert: true, description: "Only unread notifications" })),
  },
  { strip: true },
);
export type ListParams = InferParams<typeof listParams>;

export const idParams = params({ id: id("Notification id") });
