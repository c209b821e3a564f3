/**
 * CPU time per request of each process serving a closed-loop scenario: far steadier than req/s
 * on a shared box (a neighbour's burst moves req/s by a third, the CPU a request costs hardly),
 * and it says which process a request's cost is in. Read from `/proc/<pid>/stat` (every thread:
 * the compiler's and GC's too) before and after each measured run; the load generator is this
 * process (`process.cpuUsage`). The NATS server every call crosses is counted too when it runs on
 * this host (found by its listening port).
 */
import fs from "node:fs";
import { cpuSeconds, type Cluster } from "./cluster";

/** The process listening on TCP `port` on this host, from /proc; undefined when none is found. */
export function listeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    // sl local_address rem_address st … inode: state 0A is LISTEN, the port is hex.
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === "0A" && parseInt(f[1].split(":")[1], 16) === port) {
        inodes.add(f[9]);
      }
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link = "";
      try {
        link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1])) return Number(pid);
    }
  }
  return undefined;
}

/** `{ "NATS server": pid }` for the first server of a `nats://` TRANSPORTER running here. */
export function natsServer(transporter: string | undefined): Record<string, number> {
  if (!transporter) return {};
  const url = new URL(transporter.split(",")[0].trim());
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) return {};
  const pid = listeningPid(Number(url.port || 4222));
  return pid === undefined ? {} : { "NATS server": pid };
}

/** CPU seconds used so far by each named process. */
export type CpuProbe = () => Record<string, number>;

export const LOAD_GENERATOR = "load generator";

/** A probe of the named nodes of `cluster`, of `others` (name → pid) and of the load generator. */
export function cpuProbe(
  cluster: Cluster,
  names: string[],
  others: Record<string, number> = {},
): CpuProbe {
  return () => {
    const used: Record<string, number> = {};
    for (const name of names) {
      const s = cpuSeconds(cluster.pid(name));
      if (s !== null) used[name] = s;
    }
    for (const [name, pid] of Object.entries(others)) {
      const s = cpuSeconds(pid);
      if (s !== null) used[name] = s;
    }
    const self = process.cpuUsage();
    used[LOAD_GENERATOR] = (self.user + self.system) / 1e6;
    return used;
  };
}

/** µs of CPU per request of each process between two probes; none without requests. */
export function cpuPerRequest(
  before: Record<string, number>,
  after: Record<string, number>,
  requests: number,
): Record<string, number> {
  if (requests <= 0) return {};
  const per: Record<string, number> = {};
  for (const [name, s] of Object.entries(after)) {
    if (name in before) per[name] = ((s - before[name]) * 1e6) / requests;
  }
  return per;
}

/** Each process's median over the rounds (a process missing from a round is left out of it). */
export function medianCpu(rounds: Array<Record<string, number>>): Record<string, number> {
  const names = [...new Set(rounds.flatMap((r) => Object.keys(r)))];
  const out: Record<string, number> = {};
  for (const name of names) {
    const xs = rounds
      .filter((r) => name in r)
      .map((r) => r[name])
      .sort((a, b) => a - b);
    out[name] = xs[Math.floor((xs.length - 1) / 2)];
  }
  return out;
}

/** `gw 150, products 70, load generator 40` (µs, rounded). */
export function cpuLine(per: Record<string, number>): string {
  return Object.entries(per)
    .map(([name, us]) => `${name} ${Math.round(us)}`)
    .join(", ");
}
