/**
 * A PostgreSQL server of the test's own: initdb into a temporary directory, pg_ctl on a free
 * port, trust authentication on 127.0.0.1 only, fsync off (the data dies with the test). initdb
 * refuses to run as root: as root it runs as the `postgres` OS user (Debian's package creates it).
 * The binaries: $PG_BIN, else the newest /usr/lib/postgresql/<v>/bin.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./cluster";

const run = promisify(execFile);

export interface Postgres {
  url: string;
  /** One SQL statement through psql; rows as arrays of text fields. */
  query(sql: string): Promise<string[][]>;
  stop(): Promise<void>;
}

function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root)
    ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const dir = path.join(root, v, "bin");
    if (fs.existsSync(path.join(dir, "initdb"))) return dir;
  }
  throw new Error("no PostgreSQL binaries: install postgresql or set PG_BIN");
}

export async function startPostgres(): Promise<Postgres> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "commerce-mesh-pg-"));
  const asRoot = process.getuid?.() === 0;
  const as = async (exe: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ["runuser", ["-u", "postgres", "--", path.join(bin, exe), ...args]]
      : [path.join(bin, exe), args];
    return run(file, argv, { cwd: dir });
  };
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const uid = Number(stdout.trim());
    fs.chownSync(dir, uid, os.userInfo().gid);
  }
  const data = path.join(dir, "data");
  const port = await freePort();
  await as("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  await as("pg_ctl", [
    "-D",
    data,
    "-o",
    options,
    "-l",
    path.join(dir, "server.log"),
    "-w",
    "start",
  ]);
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    async query(sql) {
      const { stdout } = await run("psql", [url, "-AtX", "-F", "\t", "-c", sql]);
      return stdout
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => line.split("\t"));
    },
    async stop() {
      await as("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
