/**
 * `npm run repl` (or another process offering the REPL: `npm run dev`'s node) driven through its
 * standard input and read from its output (ANSI colours stripped), for the tests of the
 * operator's REPL.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { waitFor } from "./wait";

const ROOT = path.resolve(__dirname, "../..");
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

export class ReplProcess {
  output = "";
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(
    env: NodeJS.ProcessEnv,
    command: [string, string[]] = ["npm", ["run", "repl", "--silent"]],
    cwd = ROOT,
  ) {
    this.child = spawn(command[0], command[1], { cwd, env });
    const take = (chunk: Buffer) => (this.output += chunk.toString().replace(ANSI, ""));
    this.child.stdout.on("data", take);
    this.child.stderr.on("data", take);
  }

  /** Types a command and resolves with what it printed once `expected` appears. */
  async run(command: string, expected: RegExp, timeoutMs = 30_000): Promise<string> {
    const from = this.output.length;
    this.child.stdin.write(`${command}\n`);
    return waitFor(
      async () => this.output.slice(from),
      (text) => expected.test(text),
      timeoutMs,
      100,
    );
  }

  /** Resolves once the output so far matches `expected`. */
  async waitForOutput(expected: RegExp, timeoutMs = 30_000): Promise<string> {
    return waitFor(
      async () => this.output,
      (text) => expected.test(text),
      timeoutMs,
      100,
    );
  }

  /** Ends the process if it still runs (a test that failed half-way). */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }

  async quit(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once("exit", resolve));
    this.child.stdin.write("quit\n");
    return exited;
  }
}
