/**
 * bench/cpu.ts: CPU per request of each process of a closed-loop scenario (bench/README.md).
 */
import net from "node:net";
import {
  cpuPerRequest,
  cpuProbe,
  listeningPid,
  LOAD_GENERATOR,
  medianCpu,
  natsServer,
} from "../../bench/cpu";
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

  it("finds the process listening on a port (the NATS server's, for its CPU line)", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      expect(listeningPid(port)).toBe(process.pid);
      expect(natsServer(`nats://127.0.0.1:${port}`)).toEqual({ "NATS server": process.pid });
      const cluster = { pid: () => undefined };
      const probe = cpuProbe(
        cluster as unknown as Cluster,
        [],
        natsServer(`nats://localhost:${port}`),
      );
      expect(Object.keys(probe()).sort()).toEqual([LOAD_GENERATOR, "NATS server"].sort());
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(listeningPid(port)).toBeUndefined();
    expect(natsServer(`nats://10.1.2.3:${port}`)).toEqual({});
    expect(natsServer(undefined)).toEqual({});
  });
});
