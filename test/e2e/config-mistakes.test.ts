/**
 * A newcomer's first mistakes, made on `node dist/main.js` itself: each wrong variable is one
 * line naming it and its value (a URL's password masked), a non-zero exit within 5 s, and no
 * stack. A server that does not answer is waited for with one line per attempt while the
 * gateway's readiness names it. Closed ports are ports just freed by the test.
 */
import net from "node:net";
import { freePort } from "../helpers/cluster";
import { client } from "../helpers/http";
import { MainProcess, STACK_LINE } from "../helpers/main-process";
import { waitFor } from "../helpers/wait";

const started: MainProcess[] = [];
function main(env: Record<string, string>): MainProcess {
  const node = new MainProcess(env);
  started.push(node);
  return node;
}

afterAll(async () => {
  await Promise.all(started.map((node) => node.stop()));
});

describe("a configuration mistake", () => {
  const mistakes: Array<[string, Record<string, string>, RegExp]> = [
    [
      "production without JWT_SECRET",
      { NODE_ENV: "production", JWT_SECRET: "" },
      /JWT_SECRET must be set when NODE_ENV=production/,
    ],
    ["a short JWT_SECRET", { JWT_SECRET: "too-short" }, /JWT_SECRET is 9 characters/],
    ["PORT=abc", { PORT: "abc" }, /PORT=abc is not valid/],
    ["LOG_FORMAT=yaml", { LOG_FORMAT: "yaml" }, /LOG_FORMAT=yaml is not valid: .*text, json/],
    ["LOGLEVEL=verbose", { LOGLEVEL: "verbose" }, /LOGLEVEL=verbose is not valid: .*debug/],
    [
      "a TRANSPORTER that is not NATS",
      { TRANSPORTER: "amqp://shop:s3cret@mq:5672" },
      /TRANSPORTER=amqp:\/\/shop:\*\*\*@mq:5672 is not valid/,
    ],
    ["a MONGO_URI that is not Mongo", { MONGO_URI: "mysql://db/shop" }, /MONGO_URI=mysql:/],
    ["a CACHER that is not a URL", { CACHER: "redis//nope" }, /CACHER=redis\/\/nope is not/],
    ["a TRUST_PROXY typo", { TRUST_PROXY: "10.0.0.300" }, /TRUST_PROXY=10\.0\.0\.300 is not valid/],
    ["TRUST_PROXY=0 hops", { TRUST_PROXY: "0" }, /TRUST_PROXY=0 is not valid: a hop count/],
  ];

  it.each(mistakes)(
    "%s: one line naming it, exit non-zero within 5 s, no stack",
    async (_name, env, line) => {
      const node = main(env);
      const code = await node.exitWithin(5_000);
      expect(code).not.toBe(0);
      const lines = node.output.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(line);
      expect(node.output).not.toMatch(STACK_LINE);
      expect(node.output).not.toContain("s3cret");
    },
  );

  it("a taken PORT: one line naming PORT, exit non-zero, no stack", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "0.0.0.0", resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const node = main({ PORT: String(port) });
      expect(await node.exitWithin(5_000)).not.toBe(0);
      expect(node.output.trim()).toBe(
        `commerce-mesh cannot run: PORT=${port} is taken by another process: set PORT to a free port`,
      );
    } finally {
      taken.close();
    }
  });
});

describe("a dependency that does not answer", () => {
  const cases: Array<[string, string, (port: number) => string, string]> = [
    ["TRANSPORTER", "transporter", (p) => `nats://mesh:s3cret@127.0.0.1:${p}`, "nats://mesh:***@"],
    ["CACHER", "cache", (p) => `redis://:s3cret@127.0.0.1:${p}`, "redis://:***@"],
    ["MONGO_URI", "database", (p) => `mongodb://127.0.0.1:${p}/shop`, "mongodb://"],
  ];

  it.each(cases)(
    "%s on a closed port: readiness says what it waits for, one warning line per attempt",
    async (variable, role, url, shown) => {
      const [closed, port] = [await freePort(), await freePort()];
      const node = main({ [variable]: url(closed), PORT: String(port) });
      const http = client(`http://127.0.0.1:${port}`);
      const ready = await waitFor(
        () => http.get<{ missing?: string[] }>("/health/ready").catch(() => null),
        (res) => res !== null,
        10_000,
        100,
      );
      expect(ready!.status).toBe(503);
      expect(ready!.body.missing).toEqual([
        `waiting for ${role} ${shown}127.0.0.1:${closed}${variable === "MONGO_URI" ? "/shop" : ""}`,
      ]);
      expect((await http.get("/health/live")).status).toBe(200);

      await node.says(/attempt 3,/);
      const warnings = node.output.split("\n").filter((l) => l.includes(`waiting for ${role}`));
      expect(warnings.length).toBeGreaterThanOrEqual(3);
      for (const warning of warnings) {
        expect(warning).toContain(`(${variable}): ECONNREFUSED`);
        expect(warning).toContain(`${shown}127.0.0.1:${closed}`);
      }
      // Backoff: the announced delay grows from one attempt to the next.
      expect(warnings[0]).toMatch(/next in 0\.5 s/);
      expect(warnings[2]).toMatch(/next in 2 s/);
      expect(node.output).not.toMatch(STACK_LINE);
      expect(node.output).not.toContain("s3cret");
      expect(node.code).toBeNull();
    },
  );
});

describe("a transporter that answers but does not let the node in", () => {
  it("keeps the gateway's health answering, naming the transporter", async () => {
    // Accepts TCP (so the wait above is over) and never speaks NATS: the broker cannot connect.
    const silent = net.createServer((socket) => socket.on("error", () => socket.destroy()));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const natsPort = (silent.address() as net.AddressInfo).port;
    const port = await freePort();
    try {
      main({ TRANSPORTER: `nats://127.0.0.1:${natsPort}`, PORT: String(port) });
      const http = client(`http://127.0.0.1:${port}`);
      const ready = await waitFor(
        () => http.get<{ missing?: string[] }>("/health/ready").catch(() => null),
        (res) => res !== null,
        10_000,
        100,
      );
      // Asked again a few seconds on: still the holding answer, not a closed port.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const later = await http.get<{ missing?: string[] }>("/health/ready");
      for (const res of [ready!, later]) {
        expect(res.status).toBe(503);
        expect(res.body.missing).toEqual([`waiting for transporter nats://127.0.0.1:${natsPort}`]);
      }
    } finally {
      silent.close();
    }
  });
});
