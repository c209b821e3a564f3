/**
 * Reads a Server-Sent Events response the way the pages do (fetch + the body's reader, the token
 * in `Authorization`), for the tests of the gateway's stream routes.
 */
export interface SseEvent {
  event: string;
  data: unknown;
}

export interface SseClient {
  status: number;
  contentType: string | null;
  /** Events received so far, in order (comments aside). */
  events: SseEvent[];
  /** Comment lines received so far (`: keep-alive`). */
  comments: string[];
  /** Resolves once an event satisfies `match`; fails after `timeoutMs`. */
  waitFor(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** The body, for a response that is not a stream (an error). */
  body: unknown;
  close(): void;
}

export async function openSse(url: string, token?: string): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    signal: abort.signal,
  });
  const contentType = res.headers.get("content-type");
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters: Array<() => void> = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  let body: unknown = null;
  let ended: Promise<void> = Promise.resolve();

  if (!contentType?.startsWith("text/event-stream")) {
    body = await res.json();
  } else {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    ended = (async () => {
      let buffer = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = "message";
            const data: string[] = [];
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) comments.push(line.slice(1).trim());
              else if (line.startsWith("event: ")) event = line.slice(7);
              else if (line.startsWith("data: ")) data.push(line.slice(6));
            }
            if (data.length > 0) events.push({ event, data: JSON.parse(data.join("\n")) });
            notify();
          }
        }
      } catch {
        // Aborted by close(): the stream's end for the reader.
      } finally {
        notify();
      }
    })();
  }

  return {
    status: res.status,
    contentType,
    events,
    comments,
    body,
    ended,
    close: () => abort.abort(),
    async waitFor(match, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        const left = until - Date.now();
        if (left <= 0)
          throw new Error(
            `no matching event within ${timeoutMs} ms; got ${JSON.stringify(events).slice(0, 800)}`,
          );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}
