/**
 * Domain events: one definition each (name, validator schema, TypeScript type), shared by the
 * producer, the consumers and the tests. Every payload carries an `eventId` so a consumer can
 * recognise a redelivery. Events are emitted balanced (`ctx.emit`): one instance of each
 * subscribing service handles each event.
 */
export const USER_REGISTERED = "user.registered";

export interface UserRegisteredEvent {
  eventId: string;
  userId: string;
  email: string;
  name: string;
}

export const userRegisteredSchema = {
  eventId: "string",
  userId: "string",
  email: "string",
  name: "string",
} as const;
