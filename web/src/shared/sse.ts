/**
 * Reads an authenticated event stream of the gateway (`GET /api/orders/stream`): fetch with the
 * `Authorization` header and the body's ReadableStream, not EventSource, which cannot send a
 * header (a token in the URL would end up in logs). Reconnects after a drop, with a growing
 * pause, until `signal` aborts; a 401 or 403 ends it (signing in again will not happen here).
 */
import { SseParser, type SseEvent } from "./sse-parser";

export interface StreamOptions {
  token: string;
  signal: AbortSignal;
  onEvent(event: SseEvent): void;
  /** Connected (true, on each `ready`) or lost (false). */
  onStatus?(connected: boolean): void;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

export async function readEventStream(url: string, options: StreamOptions): Promise<void> {
  const { signal } = options;
  let pause = RETRY_MIN_MS;
  while (!signal.aborted) {
    try {
      const res = await fetch(url, {
        headers: { Authorization: `Bearer ${options.token}`, Accept: "text/event-stream" },
        signal,
        cache: "no-store",
      });
      if (res.status === 401 || res.status === 403) return;
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (event.event === "ready") {
            pause = RETRY_MIN_MS;
            options.onStatus?.(true);
          }
          options.onEvent(event);
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    options.onStatus?.(false);
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, RETRY_MAX_MS);
  }
}
