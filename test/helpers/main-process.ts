/**
 * `node dist/main.js` as a newcomer runs it: one process, the given environment, its output
 * read as text. For the tests of what a node says when the environment is wrong.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { waitFor } from "./wait";

export const MAIN = path.resolve(__dirname, "../../dist/main.js");

/** A line of a stack trace as Node prints it. */
export const STACK_LINE = /^\s+at .+/m;

export class MainProcess {
  output = "";
  code: number | null = null;
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  /**
   * `env` replaces the stack variables of the test run (TRANSPORTER, CACHER, MONGO_URI are
   * dropped unless given), so the node is on the embedded default unless told otherwise.
   */
  constructor(env: Record<string, string>, opts: { cwd?: string; args?: string[] } = {}) {
    const base = { ...process.env };
    for (const name of ["TRANSPORTER", "CACHER", "MONGO_URI"]) delete base[name];
    this.child = spawn(process.execPath, [...(opts.args ?? []), MAIN], {
      cwd: opts.cwd ?? path.resolve(__dirname, "../.."),
      env: { ...base, DATA_DIR: ":memory:", LOGLEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const take = (chunk: Buffer) => (this.output += chunk.toString());
    this.child.stdout!.on("data", take);
    this.child.stderr!.on("data", take);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code) => {
        this.code = code;
        resolve(code);
      }),
    );
  }

  /** Resolves with the exit code, or fails if the process is still running after `ms`. */
  async exitWithin(ms: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`still running after ${ms} ms:\n${this.output}`)),
        ms,
      );
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits until the output matches `pattern` (or fails with the output after `ms`). */
  async says(pattern: RegExp, ms = 20_000): Promise<string> {
    await waitFor(
      async () => this.output,
      (text) => pattern.test(text) || this.code !== null,
      ms,
      50,
    );
    if (!pattern.test(this.output)) throw new Error(`no ${pattern} in:\n${this.output}`);
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.code === null && this.child.exitCode === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}
