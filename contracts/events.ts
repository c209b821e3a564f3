/**
 * Domain events: one declaration each (name and payload schema), shared by the producer, the
 * consumers and the tests. Every payload carries an `eventId` so a consumer can recognise a
 * redelivery; `eventId(...)` writes it the one way all events do, `<event name>:<key parts>`,
 * so a re-emission of the same fact (the sweeper's, the outbox's) carries the same id.
 * Events are emitted balanced (`ctx.emit`): one instance of each subscribing service handles
 * each event, unless the declaration says it is broadcast.
 */
import { params, s, type ObjectOf, type Params, type Schema } from "./schema";

type Props = Record<string, Schema<unknown>>;
type WithId<P extends Props> = P & { eventId: Schema<string, "required"> };

export interface EventContract<P extends Props> {
  readonly name: string;
  /** The payload's schema: `params.rule` is what consumers declare as the handler's `params`. */
  readonly params: Params<WithId<P>>;
  /** The event id of the fact identified by `parts` (e.g. the order id). */
  eventId(...parts: string[]): string;
  /** The payload of the fact identified by `key`, with its event id. */
  build(key: string, payload: ObjectOf<P>): ObjectOf<WithId<P>>;
}

/** The payload type of an event contract. */
export type EventOf<E> = E extends EventContract<infer P> ? ObjectOf<WithId<P>> : never;

export function defineEvent<P extends Props>(name: string, props: P): EventContract<P> {
  const eventId = (...parts: string[]) => [name, ...parts].join(":");
  return {
    name,
    params: params({ eventId: s.string(), ...props } as WithId<P>),
    eventId,
    build: (key, payload) => ({ eventId: eventId(key), ...payload }) as ObjectOf<WithId<P>>,
  };
}
