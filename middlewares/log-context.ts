/**
 * Puts the request id of the context being handled (moleculer's requestID, which its tracing
 * also uses as the trace id) into every log line written while it runs, so one grep of the
 * JSON logs follows a request across services and nodes. Node's AsyncLocalStorage carries it
 * through awaits; only JSON logging turns it on, so the embedded default pays nothing.
 *
 * Node 22 implements AsyncLocalStorage with promise hooks unless it runs with
 * `--experimental-async-context-frame` (the default from Node 24): with hooks, every promise of
 * the process pays, and the gateway loses about a quarter of its throughput (bench/README.md).
 * Every way this project starts a node passes the flag (`npm start`, the Dockerfile, the
 * cluster of the tests and the bench); a node started without it says so at start.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Context, Middleware } from "moleculer";

interface LogScope {
  requestID: string | null;
}

const scope = new AsyncLocalStorage<LogScope>();

export const ASYNC_CONTEXT_FRAME_FLAG = "--experimental-async-context-frame";

/** Whether this process's AsyncLocalStorage runs without promise hooks. */
export function asyncContextFrames(): boolean {
  const major = Number(process.versions.node.split(".")[0]);
  return major >= 24 || process.execArgv.includes(ASYNC_CONTEXT_FRAME_FLAG);
}

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
