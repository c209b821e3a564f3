/**
 * `npm run dev`: the TypeScript compiler in watch mode and the node (dist/main.js, every service
 * unless SERVICES says otherwise) restarted after each build that succeeds, so a changed service
 * is running a second or two after it is saved. A build with errors keeps the running node and
 * says so. Restarting the whole node rather than hot-swapping one service keeps it simple and
 * always consistent (our services are imported by main.ts, not loaded from files by a runner).
 * For a REPL on the running node: `npm run repl` with the node's TRANSPORTER.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ASYNC_CONTEXT_FRAME_FLAG } from "./middlewares/log-context";

// dist/dev.js → the project root.
const ROOT = path.resolve(__dirname, "..");
const MAIN = path.join(__dirname, "main.js");

function say(text: string): void {
  process.stdout.write(`[dev] ${text}\n`);
}

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

/** One restart at a time: builds that finish while the node restarts fold into one more. */
let restarting: Promise<void> = Promise.resolve();
function restartNode(reason: string): void {
  restarting = restarting.then(async () => {
    if (stopping) return;
    const first = node === null;
    await stopNode();
    say(first ? `starting the node (${reason})` : `reloading the node (${reason})`);
    node = spawn(process.execPath, [ASYNC_CONTEXT_FRAME_FLAG, MAIN], {
      cwd: process.cwd(),
      stdio: "inherit",
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

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stopping = true;
    tsc.kill("SIGTERM");
    void stopNode().then(() => process.exit(0));
  });
}
