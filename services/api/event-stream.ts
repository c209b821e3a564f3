/**
 * Server-Sent Events for the gateway's stream routes (`GET /api/orders/stream`, the console's
 * `GET /api/admin/stream`). A stream is the body an action of the gateway answers with
 * (moleculer-web pipes a readable answer to the response), so the route keeps the normal alias,
 * authentication and `auth` check. Each open stream is one subscriber here; moleculer-web's
 * pipeline destroys the body when the client goes away, which removes the subscriber, so a
 * closed stream leaves nothing behind.
 */
import type { ServerResponse } from "node:http";
import { PassThrough, pipeline } from "node:stream";
import { Errors } from "moleculer";

/**
 * A comment line this often keeps proxies and the browser from dropping an idle stream
 * (most cut an idle connection after 30-60 s).
 */
export const KEEP_ALIVE_MS = 15_000;

/**
 * A client that reads slower than events come gets its stream ended past this much unread text,
 * instead of the gateway holding an ever longer backlog for it (the page reconnects and reloads).
 */
const MAX_BACKLOG_BYTES = 1 << 20;

/** The response headers of a stream: never cached, never buffered by a proxy. */
export const EVENT_STREAM_HEADERS: Record<string, string> = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Accel-Buffering": "no",
};

/** One event in the SSE wire format; `data` is JSON on one line. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A stream's body, as an action answers it. */
export class EventStream extends PassThrough {}

/**
 * Writes an event stream out (in place of moleculer-web's writer, which logs a warning for every
 * stream whose client leaves: the normal end of an event stream).
 */
export function writeEventStream(res: ServerResponse, stream: EventStream): void {
  res.writeHead(200, EVENT_STREAM_HEADERS);
  // Flushed now, so the client sees the answer (and `ready`) before the first event.
  res.flushHeaders();
  pipeline(stream, res, () => stream.destroy());
}

/**
 * How many streams of one kind one account may hold open at once (a tab each): past it, 429.
 * Each open stream holds a socket and a subscriber at the gateway until its client leaves.
 */
export const MAX_STREAMS_PER_USER = 10;

/** setTimeout's longest delay (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The open streams of one kind; `K` is what a subscriber is known by (its user, say). */
export class EventStreams<K> {
  private readonly subscribers = new Map<
    EventStream,
    { key: K; owner: string; expiry: NodeJS.Timeout | null }
  >();
  /** Open streams per owning account. */
  private readonly owners = new Map<string, number>();
  private keepAlive: NodeJS.Timeout | null = null;

  /**
   * Opens a stream for `key`, held by the account `owner`; it starts with `event: ready` and
   * ends at `until` (epoch ms: the end of the token that opened it), when given.
   */
  open(key: K, owner: string, until?: number): EventStream {
    const held = this.owners.get(owner) ?? 0;
    if (held >= MAX_STREAMS_PER_USER) {
      throw new Errors.MoleculerClientError(
        `At most ${MAX_STREAMS_PER_USER} streams open at once: close one first`,
        429,
        "RATE_LIMITED",
      );
    }
    if (until !== undefined && until <= Date.now()) {
      throw new Errors.MoleculerClientError("Invalid or expired token", 401, "UNAUTHORIZED");
    }
    const stream = new EventStream();
    const expiry =
      until === undefined
        ? null
        : setTimeout(() => this.end(stream), Math.min(until - Date.now(), MAX_TIMER_MS));
    expiry?.unref();
    this.subscribers.set(stream, { key, owner, expiry });
    this.owners.set(owner, held + 1);
    stream.once("close", () => this.forget(stream));
    stream.write(sseEvent("ready", {}));
    if (!this.keepAlive) {
      this.keepAlive = setInterval(() => this.writeAll(": keep-alive\n\n"), KEEP_ALIVE_MS);
      this.keepAlive.unref();
    }
    return stream;
  }

  /** Sends the event to every stream whose key `to` accepts. */
  publish(to: (key: K) => boolean, event: string, data: unknown): void {
    let text: string | null = null;
    for (const [stream, { key }] of this.subscribers) {
      if (!to(key)) continue;
      text ??= sseEvent(event, data);
      this.send(stream, text);
    }
  }

  /** Ends the streams whose key `which` accepts (all without it): their clients see the end. */
  close(which: (key: K) => boolean = () => true): void {
    for (const [stream, { key }] of [...this.subscribers]) {
      if (which(key)) this.end(stream);
    }
  }

  /** How many streams are open. */
  get size(): number {
    return this.subscribers.size;
  }

  private end(stream: EventStream): void {
    stream.end();
    this.forget(stream);
  }

  private writeAll(text: string): void {
    for (const stream of this.subscribers.keys()) this.send(stream, text);
  }

  private send(stream: EventStream, text: string): void {
    if (stream.writableLength > MAX_BACKLOG_BYTES) stream.destroy();
    else stream.write(text);
  }

  private forget(stream: EventStream): void {
    const sub = this.subscribers.get(stream);
    if (!sub) return;
    this.subscribers.delete(stream);
    if (sub.expiry) clearTimeout(sub.expiry);
    const left = (this.owners.get(sub.owner) ?? 1) - 1;
    if (left > 0) this.owners.set(sub.owner, left);
    else this.owners.delete(sub.owner);
    if (this.subscribers.size === 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }
}
