/**
 * What the gateway accepts as a request before any action sees it (API.md, "Hardening"):
 * OPTIONS never reaches an action, the body of a write comes from the body only, and a JSON body
 * is read by one parser whose every failure is a 400, 413 or 415 — never a 500.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import ApiGateway from "moleculer-web";
import { NotFoundError, RequestBodyError } from "../../lib/errors";
import { escapeRegExp } from "../../lib/paging";

/** Deeper bodies are refused before parsing: the validator and cache keys recurse over them. */
export const MAX_BODY_DEPTH = 32;

/** Keys that reach an object's prototype when params are merged (`Object.assign`). */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Methods whose params are the body and the path, never the query string. */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

type Next = (err?: unknown) => void;
interface ShapedRequest extends IncomingMessage {
  /** The URL as the client sent it (moleculer-web makes `url` relative to the route). */
  originalUrl?: string;
  query?: Record<string, unknown>;
}

/** The deepest nesting of `[`/`{` in a JSON text, ignoring brackets inside strings. */
export function jsonDepth(text: Buffer): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      // A backslash escapes the next byte, so `\"` does not end the string.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"]) > 0
  );
}

function isJson(req: IncomingMessage): boolean {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  return type === "application/json";
}

/** The order in which `Allow` names methods. */
const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/** `METHOD /path/:param` strings → for a request path, the methods it has (none: unknown). */
function methodsByPath(routes: string[]): (path: string) => string[] {
  const table = routes.map((route) => {
    const [method, path] = route.split(" ");
    const pattern = escapeRegExp(path).replace(/:\w+/g, "[^/]+");
    return { method, match: new RegExp(`^${pattern}$`) };
  });
  const order = (m: string) => METHOD_ORDER.indexOf(m);
  return (path) =>
    [...new Set(table.filter((r) => r.match.test(path)).map((r) => r.method))].sort(
      (a, b) => order(a) - order(b),
    );
}

/**
 * For a request no route took: the methods its path does have, when the path is known and its
 * method is not among them (the gateway answers 405 with `Allow`, not 404); null otherwise.
 * HEAD and OPTIONS keep their own answers.
 */
export function otherMethods(routes: string[]): (req: ShapedRequest) => string[] | null {
  const methodsOf = methodsByPath(routes);
  return (req) => {
    if (!req.method || req.method === "HEAD" || req.method === "OPTIONS") return null;
    const methods = methodsOf(requestPath(req));
    return methods.length > 0 && !methods.includes(req.method) ? methods : null;
  };
}

/** The request's path as the client sent it, without the query and a trailing slash. */
function requestPath(req: ShapedRequest): string {
  return (req.originalUrl ?? req.url ?? "").split("?")[0].replace(/(.)\/+$/, "$1");
}

/**
 * Runs first on every route. moleculer-web resolves an OPTIONS request with
 * `Access-Control-Request-Method` to that method's alias and, unless CORS answers it, calls the
 * action: here an OPTIONS ends before that. With CORS on, a preflight goes on to moleculer-web,
 * which answers it (204 or 403) before any action; any other OPTIONS is a 204 whose `Allow`
 * names the path's methods (`routes`, as `METHOD /path/:param`), or a 404 for an unknown path.
 */
export function requestShape(corsEnabled: boolean, routes: string[]) {
  const methodsOf = methodsByPath(routes);
  return function shapeRequest(req: ShapedRequest, res: ServerResponse, next: Next): void {
    if (req.method === "OPTIONS") {
      if (corsEnabled && req.headers["access-control-request-method"]) return next();
      const methods = methodsOf(requestPath(req));
      if (methods.length === 0) return next(new NotFoundError("Route"));
      res.writeHead(204, { Allow: [...methods, "OPTIONS"].join(", "), "Content-Length": "0" });
      res.end();
      return;
    }
    if (req.method && BODY_METHODS.has(req.method)) {
      // moleculer-web merges the query over the body: `POST /auth/login?password=…` would log in.
      // Path params (`:id`) are added after this and stay.
      req.query = {};
      if (hasBody(req) && !isJson(req)) {
        return next(new RequestBodyError(415, "Request bodies must be application/json"));
      }
    }
    next();
  };
}

/** A query string of plain `name=value` pairs: letters, digits, `_`, `-` (and `.` in values). */
const PLAIN_QUERY = /^[\w-]+=[\w.-]*(?:&[\w-]+=[\w.-]*)*$/;

/**
 * The query of the gateway's common requests (`page=1&pageSize=20`), parsed without `qs`, which
 * moleculer-web runs on every query (a few per cent of a gateway's CPU per request across the hop,
 * bench/README.md). The same object as `qs.parse` gives, or null — anything that needs `qs`'s
 * rules (escapes, `+`, brackets, a name given twice, a name of Object.prototype's, more than
 * fits its parameter limit) — and then `qs` parses it as before.
 */
export function plainQuery(text: string): Record<string, string> | null {
  if (text.length > 1000 || !PLAIN_QUERY.test(text)) return null;
  const query: Record<string, string> = {};
  for (const pair of text.split("&")) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq);
    if (Object.hasOwn(query, name) || name in Object.prototype) return null;
    query[name] = pair.slice(eq + 1);
  }
  return query;
}

/** Drops prototype keys at any depth while parsing, so no merge can reach a prototype. */
function withoutPrototypeKeys(key: string, value: unknown): unknown {
  return PROTOTYPE_KEYS.has(key) ? undefined : value;
}

function refuseDeepBodies(_req: IncomingMessage, _res: ServerResponse, body: Buffer): void {
  if (jsonDepth(body) > MAX_BODY_DEPTH) {
    throw new RequestBodyError(400, `Request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  }
}

/** body-parser's errors carry their status; the string codes of zlib's must not become one. */
function bodyError(err: unknown): RequestBodyError {
  // verify's error comes back from body-parser with its status and a copy of the body attached.
  if (err instanceof RequestBodyError) return new RequestBodyError(400, err.message);
  const { status, type } = (err ?? {}) as { status?: unknown; type?: unknown };
  if (status === 413) return new RequestBodyError(413, "Request body too large");
  if (status === 415) return new RequestBodyError(415, "Unsupported media type or encoding");
  if (type === "entity.parse.failed") return new RequestBodyError(400, "Malformed JSON body");
  return new RequestBodyError(400, "Unreadable request body");
}

/** The JSON body parser of the API routes (objects and arrays only, at most `limit`). */
export function jsonBody(limit: string | number) {
  // moleculer-web's own copy of body-parser, the one its `bodyParsers` option would use.
  const parse = ApiGateway.bodyParser.json({
    strict: true,
    limit,
    reviver: withoutPrototypeKeys,
    verify: refuseDeepBodies,
  });
  return function readJsonBody(req: IncomingMessage, res: ServerResponse, next: Next): void {
    parse(req, res, (err?: unknown) => {
      next(err === undefined || err === null ? undefined : bodyError(err));
    });
  };
}
