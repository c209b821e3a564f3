/**
 * CPU time per request of each process serving a closed-loop scenario: far steadier than req/s
 * on a shared box (a neighbour's burst moves req/s by a third, the CPU a request costs hardly),
 * and it says which process a request's cost is in. Read from `/proc/<pid>/stat` (every thread:
 * the compiler's and GC's too) before and after each measured run; the load generator is this
 * process (`process.cpuUsage`).
 */
import { cpuSeconds, type Cluster } from "./cluster";

/** CPU seconds used so far by each named process. */
export type CpuProbe = () => Record<string, number>;

export const LOAD_GENERATOR = "load generator";

/** A probe of the named nodes of `cluster` and of the load generator. */
export function cpuProbe(cluster: Cluster, names: string[]): CpuProbe {
  return () => {
    const used: Record<string, number> = {};
    for (const name of names) {
      const s = cpuSeconds(cluster.pid(name));
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
