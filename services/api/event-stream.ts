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

/** The open streams of one kind; `K` is what a subscriber is known by (its user, say). */
export class EventStreams<K> {
  private readonly subscribers = new Map<EventStream, K>();
  private keepAlive: NodeJS.Timeout | null = null;

  /** Opens a stream for `key`; it starts with `event: ready`. */
  open(key: K): EventStream {
    const stream = new EventStream();
    this.subscribers.set(stream, key);
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
    for (const [stream, key] of this.subscribers) {
      if (!to(key)) continue;
      text ??= sseEvent(event, data);
      this.send(stream, text);
    }
  }

  /** Ends the streams whose key `which` accepts (all without it): their clients see the end. */
  close(which: (key: K) => boolean = () => true): void {
    for (const [stream, key] of [...this.subscribers]) {
      if (which(key)) {
        stream.end();
        this.forget(stream);
      }
    }
  }

  /** How many streams are open. */
  get size(): number {
    return this.subscribers.size;
  }

  private writeAll(text: string): void {
    for (const stream of this.subscribers.keys()) this.send(stream, text);
  }

  private send(stream: EventStream, text: string): void {
    if (stream.writableLength > MAX_BACKLOG_BYTES) stream.destroy();
    else stream.write(text);
  }

  private forget(stream: EventStream): void {
    this.subscribers.delete(stream);
    if (this.subscribers.size === 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }
}
