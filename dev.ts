/**
 * `npm run dev`: the TypeScript compiler in watch mode and the node (dist/main.js, every service
 * unless SERVICES says otherwise) restarted after each build that succeeds, so a changed service
 * is running a second or two after it is saved. A build with errors keeps the running node and
 * says so. Restarting the whole node rather than hot-swapping one service keeps it simple and
 * always consistent (our services are imported by main.ts, not loaded from files by a runner).
 *
 * On a terminal the node also opens the Moleculer REPL there, with the operator commands of
 * `npm run repl` (repl.ts: `stuck`, `redrive`, `faults`, `deliveries`, … besides `services`,
 * `call`, …) acting on the running node; each reload opens it again. DEV_REPL=0 turns it off,
 * DEV_REPL=1 opens it even when stdin is not a terminal (a pipe). Leaving the REPL (`quit`,
 * Ctrl+D, Ctrl+C twice) ends `npm run dev`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ASYNC_CONTEXT_FRAME_FLAG } from "./middlewares/log-context";

// dist/dev.js → the project root.
const ROOT = path.resolve(__dirname, "..");
const MAIN = path.join(__dirname, "main.js");
/** dev.js started with this runs the node with the REPL instead of the watch loop. */
const NODE_WITH_REPL = "--node-with-repl";

function say(text: string): void {
  process.stdout.write(`[dev] ${text}\n`);
}

/** DEV_REPL: unset follows the terminal; anything but 0 or 1 is one line and exit 1. */
function replWanted(): boolean {
  const value = process.env.DEV_REPL ?? "";
  if (value === "") return process.stdin.isTTY === true;
  if (value === "0" || value === "1") return value === "1";
  process.stderr.write(
    `[dev] cannot run: DEV_REPL=${value} must be 0 (no REPL) or 1 (a REPL even without a terminal)\n`,
  );
  process.exit(1);
}

/** The node of the loop, its REPL on the terminal this process shares with `npm run dev`. */
async function nodeWithRepl(): Promise<void> {
  const { runNode } = await import("./main");
  const broker = await runNode();
  // Loaded once the node runs: repl.ts reads the configuration main.ts has just checked.
  const { openRepl } = await import("./repl");
  openRepl(broker);
}

function devLoop(repl: boolean): void {
  let node: ChildProcess | null = null;
  let stopping = false;

  function stopNode(): Promise<void> {
    const running = node;
    node = null;
    if (!running || running.exitCode !== null || running.signalCode !== null)
      return Promise.resolve();
    return new Promise((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGTERM");
    });
  }

  function stopAll(): void {
    stopping = true;
    tsc.kill("SIGTERM");
    void stopNode().then(() => process.exit(0));
  }

  /** One restart at a time: builds that finish while the node restarts fold into one more. */
  let restarting: Promise<void> = Promise.resolve();
  function restartNode(reason: string): void {
    restarting = restarting.then(async () => {
      if (stopping) return;
      const first = node === null;
      await stopNode();
      say(first ? `starting the node (${reason})` : `reloading the node (${reason})`);
      const child = spawn(
        process.execPath,
        repl
          ? [ASYNC_CONTEXT_FRAME_FLAG, __filename, NODE_WITH_REPL]
          : [ASYNC_CONTEXT_FRAME_FLAG, MAIN],
        { cwd: process.cwd(), stdio: "inherit" },
      );
      node = child;
      // Stopped by a reload, `node` is already the next one; otherwise it ended on its own.
      child.once("exit", (code, signal) => {
        if (node !== child || stopping) return;
        node = null;
        if (repl && code === 0) {
          say("the REPL was closed: stopping");
          stopAll();
        } else
          say(`the node exited (${signal ?? `code ${code}`}): it restarts after the next build`);
      });
    });
  }

  const tsc = spawn(
    process.execPath,
    [
      require.resolve("typescript/bin/tsc"),
      "-p",
      "tsconfig.build.json",
      "--watch",
      "--preserveWatchOutput",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  let pending = "";
  tsc.stdout!.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const found = /Found (\d+) errors?\. Watching for file changes/.exec(line);
      if (!found) {
        if (/error TS\d+/.test(line)) process.stdout.write(`${line}\n`);
        continue;
      }
      if (found[1] === "0") restartNode("build succeeded");
      else say(`the build has ${found[1]} error(s): the running node is kept`);
    }
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, stopAll);
}

if (process.argv.includes(NODE_WITH_REPL)) void nodeWithRepl();
else devLoop(replWanted());
