/**
 * Puts the request id of the context being handled (moleculer's requestID, which its tracing
 * also uses as the trace id) into every log line written while it runs, so one grep of the
 * JSON logs follows a request across services and nodes. Node's AsyncLocalStorage carries it
 * through awaits; only JSON logging turns it on, so the embedded default pays nothing.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Context, Middleware } from "moleculer";

interface LogScope {
  requestID: string | null;
}

const scope = new AsyncLocalStorage<LogScope>();

type Handler = (ctx: Context) => unknown;

function wrap(next: Handler): Handler {
  return (ctx: Context) => scope.run({ requestID: ctx.requestID ?? null }, () => next(ctx));
}

export const LogContextMiddleware = {
  name: "LogContext",
  localAction: wrap,
  localEvent: wrap,
} as unknown as Middleware;

/** moleculer's Console logger formatter: one JSON object a line, with the request id. */
export function jsonLogFormatter(
  type: string,
  args: unknown[],
  bindings: Record<string, unknown>,
  { printArgs }: { printArgs: (a: unknown[]) => unknown[] },
): string[] {
  const requestID = scope.getStore()?.requestID;
  return [
    JSON.stringify({
      time: new Date().toISOString(),
      level: type,
      msg: printArgs(args).join(" "),
      ...bindings,
      ...(requestID ? { requestID } : {}),
    }),
  ];
}
