/**
 * bench/cpu.ts: CPU per request of each process of a closed-loop scenario (bench/README.md).
 */
import { cpuPerRequest, cpuProbe, LOAD_GENERATOR, medianCpu } from "../../bench/cpu";
import type { Cluster } from "../../bench/cluster";

describe("CPU per request in the bench", () => {
  it("divides each process's CPU seconds between two probes by the requests, in µs", () => {
    const per = cpuPerRequest({ gw: 10, svc: 2, gone: 1 }, { gw: 12, svc: 2.5, late: 3 }, 10_000);
    expect(per).toEqual({ gw: 200, svc: 50 });
    expect(cpuPerRequest({ gw: 1 }, { gw: 2 }, 0)).toEqual({});
  });

  it("takes each process's median over the rounds", () => {
    expect(medianCpu([{ gw: 300, svc: 10 }, { gw: 100, svc: 30 }, { gw: 200 }])).toEqual({
      gw: 200,
      svc: 10,
    });
  });

  it("reads the nodes' CPU from /proc and the load generator's from this process", () => {
    const cluster = { pid: (name: string) => (name === "me" ? process.pid : undefined) };
    const probe = cpuProbe(cluster as unknown as Cluster, ["me", "absent"]);
    const before = probe();
    expect(Object.keys(before).sort()).toEqual([LOAD_GENERATOR, "me"].sort());
    const until = Date.now() + 300;
    let spin = 0;
    while (Date.now() < until) spin += Math.sqrt(spin + 1);
    const after = probe();
    expect(spin).toBeGreaterThan(0);
    // 300 ms of busy loop: /proc counts it (10 ms ticks), and so does process.cpuUsage.
    expect(after.me - before.me).toBeGreaterThanOrEqual(0.2);
    expect(after[LOAD_GENERATOR] - before[LOAD_GENERATOR]).toBeGreaterThanOrEqual(0.2);
  });
});
