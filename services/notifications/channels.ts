/**
 * How a notification leaves the system. The service stores every notification (the inbox of
 * API.md) and hands it to one channel; the log channel is the default and the only one built
 * in. An SMTP (or push, or webhook) channel implements the same interface.
 */
export interface OutgoingNotification {
  id: string;
  userId: string;
  type: string;
  subject: string;
  body: string;
}

export interface NotificationChannel {
  readonly name: string;
  deliver(notification: OutgoingNotification): Promise<void>;
}

/** Writes each notification to the service log: enough for development and the tests. */
export function logChannel(log: (message: string) => void): NotificationChannel {
  return {
    name: "log",
    async deliver(n) {
      log(`notification ${n.id} to user ${n.userId} [${n.type}]: ${n.subject}`);
    },
  };
}
