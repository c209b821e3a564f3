/**
 * The README's "Running a cluster" commands, read from the README and run as written: several
 * `node dist/main.js` processes on one host over NATS. Every node keeps running (the metrics
 * port they all default to is shared out, each node saying where it moved), the gateway is
 * ready and a request crosses to the other nodes. The servers are the test run's (TRANSPORTER,
 * CACHER, MONGO_URI with this file's database); PORT and METRICS_PORT are ports the test
 * picks, so a shared machine's 3000 and 3030 do not matter, and METRICS_PORT is held by the
 * test so that every node has to move.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { freePort } from "../helpers/cluster";
import { client } from "../helpers/http";
import { MainProcess, STACK_LINE } from "../helpers/main-process";
import { waitFor } from "../helpers/wait";

const README = path.resolve(__dirname, "../../README.md");

/** The `SERVICES=… node <flags> dist/main.js &` lines of the README's cluster section. */
function readmeCommands(): Array<{ services: string; flags: string[] }> {
  const text = fs.readFileSync(README, "utf8");
  const section = text.slice(text.indexOf("## Running a cluster"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return [...block.matchAll(/^SERVICES=(\S+) node (.*?)\s*dist\/main\.js &$/gm)].map((m) => ({
    services: m[1],
    flags: m[2].split(/\s+/).filter(Boolean),
  }));
}

describe("the README's cluster on one host", () => {
  const nodes: MainProcess[] = [];
  const held = net.createServer();

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    held.close();
  });

  it("runs every node, shares out the metrics port, and serves requests across nodes", async () => {
    const commands = readmeCommands();
    expect(commands.length).toBeGreaterThanOrEqual(2);
    expect(commands.map((c) => c.services)).toContain("api");

    await new Promise<void>((resolve) => held.listen(0, "0.0.0.0", resolve));
    const metricsPort = (held.address() as net.AddressInfo).port;
    const port = await freePort();
    const env = {
      TRANSPORTER: process.env.TRANSPORTER!,
      CACHER: process.env.CACHER ?? "",
      MONGO_URI: process.env.MONGO_URI ?? "",
      JWT_SECRET: randomBytes(32).toString("hex"),
      PORT: String(port),
      METRICS: "true",
      METRICS_PORT: String(metricsPort),
      // Free for the first node only: the others move on from it, as they do from 3100.
      HEALTH_PORT: String(await freePort()),
    };
    for (const { services, flags } of commands) {
      nodes.push(new MainProcess({ ...env, SERVICES: services }, { args: flags }));
    }
    await Promise.all(nodes.map((node) => node.says(/commerce-mesh node \S+ ready/, 60_000)));

    const http = client(`http://127.0.0.1:${port}`);
    // Ready, and every service the routes call is offered by some node of the cluster.
    const ready = await waitFor(
      () => http.get("/health/ready"),
      (res) => res.status === 200 && !("unavailableServices" in res.body),
      30_000,
      200,
    );
    expect(ready.body).toEqual({ status: "ok" });
    const email = `one-host-${randomBytes(4).toString("hex")}@example.com`;
    const registered = await http.post<{ token: string }>("/api/auth/register", {
      json: { email, password: "correct-horse", name: "One Host" },
    });
    expect(registered.status).toBe(201);
    const me = await http.get<{ email: string }>("/api/users/me", {
      token: registered.body.token,
    });
    expect(me.body.email).toBe(email);
    expect((await http.get("/api/orders", { token: registered.body.token })).status).toBe(200);

    const ports = new Set<number>();
    for (const node of nodes) {
      const moved = new RegExp(
        `METRICS_PORT ${metricsPort} is taken: metrics of this node on port (\\d+) instead`,
      ).exec(node.output);
      expect(moved).not.toBeNull();
      const at = Number(moved![1]);
      ports.add(at);
      const metrics = await fetch(`http://127.0.0.1:${at}/metrics`);
      expect(metrics.status).toBe(200);
      expect(node.code).toBeNull();
      expect(node.output).not.toMatch(STACK_LINE);
    }
    expect(ports.size).toBe(nodes.length);

    // Every node's own readiness, each on its own health port.
    const healthPorts = new Set<number>();
    for (const node of nodes) {
      const at = Number(/probes\s+http:\/\/localhost:(\d+)\/health\/ready/.exec(node.output)?.[1]);
      healthPorts.add(at);
      const res = await fetch(`http://127.0.0.1:${at}/health/ready`);
      expect({ at, status: res.status, body: await res.json() }).toEqual({
        at,
        status: 200,
        body: { status: "ok" },
      });
    }
    expect(healthPorts.size).toBe(nodes.length);
  });
});
