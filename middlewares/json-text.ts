/**
 * A cached answer crosses the hop as JSON text, not as an object rebuilt and re-serialised on
 * each side (issue 20, bench/README.md). Without a shared Redis, a catalog page is cached in the
 * products process's memory; each request to the gateway then cost three passes over its ≈ 5 KB:
 * products serialised the page into the response packet, the gateway parsed the packet back
 * into objects, and moleculer-web serialised them again for the client.
 *
 * - The caller that will only write the answer out (the gateway: its API routes' `jsonText`
 *   call option, middlewares/caller-cache.ts) marks a call to a cached action with its own
 *   context id in `meta.$jsonText` (JsonTextMiddleware).
 * - The callee's serializer answers that call — and no other: a sub-call made by the handler
 *   carries the mark but has another id — with the answer's JSON text placed at the end of the
 *   packet, its length up front. The text of an answer object is kept while the object lives
 *   (a WeakMap): a cache hit hands back the same object, so its text is built once per entry.
 * - The caller's serializer takes that text out without parsing it and answers the call with
 *   it as a Buffer, `meta.$responseType` saying it is JSON, which moleculer-web writes as is.
 *
 * The packet stays JSON: a node with moleculer's own JSON serializer reads it as an ordinary
 * answer (the length is one more field), and a callee without this serializer answers objects
 * as before. Nothing but a marked call ever gets a Buffer.
 */
import { Serializers, type Context, type Middleware } from "moleculer";
import { JSON_TEXT_OPTION } from "./caller-cache";

const MARK = "$jsonText";
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
/** Every packet in text form starts with these bytes, the text's length in bytes follows. */
const PREFIX = Buffer.from('{"$textLength":');
const DATA_FIELD = ',"data":';
const CLOSE = Buffer.from("}");
const RESPONSE = "RES";

interface ResponsePayload {
  id?: string;
  success?: boolean;
  stream?: unknown;
  data?: unknown;
  meta?: Record<string, unknown> | null;
}

/** Marks calls to cached actions made with the `jsonText` option (see the top of this file). */
export const JsonTextMiddleware: Middleware = {
  name: "JsonText",
  remoteAction(next, action) {
    if (!action.cache) return next;
    const call = next as (ctx: Context) => Promise<unknown>;
    return function jsonText(ctx: Context) {
      if ((ctx.options as Record<string, unknown>)[JSON_TEXT_OPTION] === true) {
        (ctx.meta as Record<string, unknown>)[MARK] = ctx.id;
      }
      return call(ctx);
    } as typeof next;
  },
};

export class JsonTextSerializer extends Serializers.JSON {
  /** The JSON text of answer objects sent in text form, while the object lives. */
  private readonly texts = new WeakMap<object, Buffer>();

  override serialize(obj: Record<string, unknown>, type?: string): Buffer {
    const payload = obj as ResponsePayload;
    const data = payload.data;
    if (
      type !== RESPONSE ||
      payload.success !== true ||
      payload.stream != null ||
      typeof data !== "object" ||
      data === null ||
      Buffer.isBuffer(data) ||
      payload.meta?.[MARK] === undefined ||
      payload.meta[MARK] !== payload.id
    ) {
      return super.serialize(obj);
    }
    let text = this.texts.get(data);
    if (!text) {
      text = Buffer.from(JSON.stringify(data));
      this.texts.set(data, text);
    }
    // `{"$textLength":N,…other fields…,"data":<text>}`: JSON for any reader, and this
    // serializer's reader finds the text from N without reading it.
    const head = JSON.stringify({ ...obj, data: undefined });
    return Buffer.concat([
      PREFIX,
      Buffer.from(`${text.length},${head.slice(1, -1)}${DATA_FIELD}`),
      text,
      CLOSE,
    ]);
  }

  override deserialize(buf: Buffer | string, type?: string): unknown {
    if (type !== RESPONSE || typeof buf === "string" || !startsWith(buf, PREFIX)) {
      return super.deserialize(buf);
    }
    const comma = buf.indexOf(0x2c, PREFIX.length); // ","
    const length = Number(buf.toString("latin1", PREFIX.length, comma));
    const start = buf.length - CLOSE.length - length;
    const head = buf.toString("utf8", comma + 1, start);
    if (!Number.isInteger(length) || start <= comma || !head.endsWith(DATA_FIELD)) {
      return super.deserialize(buf);
    }
    const payload = JSON.parse(`{${head}null}`) as ResponsePayload;
    // No copy: the transporter hands each packet over in a Buffer of its own (moleculer's NATS
    // transporter copies the message), which the answer keeps alive until it is written out.
    payload.data = buf.subarray(start, start + length);
    payload.meta = { ...payload.meta, $responseType: JSON_CONTENT_TYPE };
    return payload;
  }
}

function startsWith(buf: Buffer, prefix: Buffer): boolean {
  return (
    buf.length > prefix.length && buf.compare(prefix, 0, prefix.length, 0, prefix.length) === 0
  );
}
