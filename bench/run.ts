/**
 * `npm run bench`: the shop as separate processes over real NATS and Redis (and the Mongo-wire
 * database when MONGO_URI is set), measured back to back against two baselines in the same run
 * on the same machine:
 *
 *   baseline-raw    a bare node:http server answering a small JSON (this box's ceiling)
 *   baseline-mesh   a bare moleculer-web gateway calling a one-line action on another node
 *   baseline-mesh-page  the same, the action answering a catalog page (what catalog-hop carries)
 *   catalog-read    anonymous GET /api/products?page=1 (cached)
 *   me-read         authenticated GET /api/users/me (token check, rate limit, remote call)
 *   checkout        POST /api/orders at a fixed offered rate (open loop), each polled until
 *                   `confirmed`: orders/s and time-to-confirmed
 *   catalog-hop     catalog-read and me-read across the hop, without Redis (bench/hop.ts)
 *   me-hop
 *
 * The read scenarios are closed loop (BENCH_CONNECTIONS connections, as fast as answered) after
 * a warm-up; checkout is open loop so a slow saga shows as growing latency, not as a politely
 * slower client. Prints a table and writes bench/results/<time>.json (and latest.json).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import autocannon from "autocannon";
import { config, loadToolConfig } from "../lib/config";
import { Cluster, ROOT, peakRss } from "./cluster";
import { READY } from "./baseline";
import { HOP_SCENARIOS, hopVerdictLines, hopVerdicts, startHop, type HopShop } from "./hop";
import { capacity, capacityReport, type CapacityResult } from "./capacity";
import { openLoopCheckout } from "./checkout";
import { cpuLine, cpuPerRequest, cpuProbe, medianCpu, natsServer, type CpuProbe } from "./cpu";
import {
  clusterEnv,
  request,
  runData,
  runScript,
  seed,
  startNode,
  waitReady,
  type SeededShop,
} from "./shop";

interface ScenarioResult {
  name: string;
  kind: "closed" | "open";
  requestsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  requests: number;
  errors: number;
  errorDetail: Record<string, number>;
  ratioToMesh: number | null;
  /** Closed loop: each round's figures (see `closedLoops`). */
  rounds?: Array<{ requestsPerSec: number; p99: number; ratioToMesh: number | null }>;
  /** Closed loop: µs of CPU per request of each process serving it (median of the rounds). */
  cpuUsPerRequest?: Record<string, number>;
  /** Checkout only. */
  orders?: {
    offeredPerSec: number;
    confirmedPerSec: number;
    placed: number;
    confirmed: number;
    timeToConfirmedMs: { p50: number; p90: number; p99: number; max: number };
  };
}

const tools = loadToolConfig();
const app = config();
const WARMUP_S = Math.min(3, Math.max(1, Math.round(tools.bench.durationS / 3)));
const SHOP_NODES: Record<string, string[]> = {
  gw: ["api"],
  users: ["users"],
  products: ["products"],
  orders: ["orders"],
  payments: ["payments"],
  notifications: ["notifications"],
};

function log(text: string) {
  process.stderr.write(`[bench] ${text}\n`);
}

async function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ timeout: 10, ...opts });
}

/** One measured run of a closed-loop scenario (warm-up first when asked). */
async function closedLoopRun(
  name: string,
  opts: autocannon.Options,
  warmup: boolean,
  cpu?: CpuProbe,
): Promise<ScenarioResult> {
  if (warmup) {
    log(`${name}: warm-up ${WARMUP_S}s`);
    await cannon({ ...opts, connections: tools.bench.connections, duration: WARMUP_S });
  }
  log(`${name}: ${tools.bench.durationS}s`);
  const before = cpu?.();
  const r = await cannon({
    ...opts,
    connections: tools.bench.connections,
    duration: tools.bench.durationS,
  });
  const cpuUsPerRequest =
    cpu && before ? cpuPerRequest(before, cpu(), r.requests.total) : undefined;
  const errorDetail: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(r.statusCodeStats)) {
    if (!code.startsWith("2")) errorDetail[`http ${code}`] = count;
  }
  if (r.errors > 0) errorDetail.socket = r.errors;
  if (r.timeouts > 0) errorDetail.timeouts = r.timeouts;
  return {
    name,
    kind: "closed",
    requestsPerSec: r.requests.average,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    requests: r.requests.total,
    errors: r.non2xx + r.errors,
    errorDetail,
    ratioToMesh: null,
    rounds: [],
    cpuUsPerRequest,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/**
 * The closed-loop scenarios, interleaved over BENCH_ROUNDS rounds: the machine is shared, and a
 * neighbour's burst then lands on every scenario of a round instead of on one scenario. Each
 * scenario's ratio to baseline-mesh is taken within a round; the reported figures are the
 * median round's (by req/s), the ratio the median of the rounds' ratios, errors the sum.
 */
async function closedLoops(
  scenarios: Array<{ name: string; opts: autocannon.Options; cpu?: CpuProbe }>,
): Promise<ScenarioResult[]> {
  const runs = new Map<string, ScenarioResult[]>(scenarios.map((s) => [s.name, []]));
  for (let round = 0; round < tools.bench.rounds; round++) {
    if (tools.bench.rounds > 1) log(`round ${round + 1}/${tools.bench.rounds}`);
    for (const s of scenarios)
      runs.get(s.name)!.push(await closedLoopRun(s.name, s.opts, round === 0, s.cpu));
  }
  const mesh = runs.get("baseline-mesh");
  return scenarios.map(({ name }) => {
    const rs = runs.get(name)!;
    const mid = [...rs].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[
      Math.floor((rs.length - 1) / 2)
    ];
    const errorDetail: Record<string, number> = {};
    for (const r of rs) {
      for (const [k, v] of Object.entries(r.errorDetail))
        errorDetail[k] = (errorDetail[k] ?? 0) + v;
    }
    return {
      ...mid,
      errors: rs.reduce((sum, r) => sum + r.errors, 0),
      errorDetail,
      ratioToMesh: mesh
        ? median(rs.map((r, i) => r.requestsPerSec / mesh[i].requestsPerSec))
        : null,
      rounds: rs.map((r, i) => ({
        requestsPerSec: r.requestsPerSec,
        p99: r.latencyMs.p99,
        ratioToMesh: mesh ? r.requestsPerSec / mesh[i].requestsPerSec : null,
      })),
      cpuUsPerRequest: rs.every((r) => r.cpuUsPerRequest)
        ? medianCpu(rs.map((r) => r.cpuUsPerRequest!))
        : undefined,
    };
  });
}

/** The `checkout` scenario: BENCH_CHECKOUT_RATE orders/s offered (bench/checkout.ts). */
async function checkout(baseUrl: string, shop: SeededShop): Promise<ScenarioResult> {
  const rate = tools.bench.checkoutRate;
  log(`checkout: ${rate} orders/s offered for ${tools.bench.durationS}s (open loop)`);
  const run = await openLoopCheckout(baseUrl, shop, rate, tools.bench.durationS);
  return {
    name: "checkout",
    kind: "open",
    requestsPerSec: run.answered / run.durationS,
    latencyMs: run.postLatencyMs,
    requests: run.offered + run.polls,
    errors: run.errors,
    errorDetail: run.errorDetail,
    ratioToMesh: null,
    orders: {
      offeredPerSec: rate,
      confirmedPerSec: run.confirmed / run.durationS,
      placed: run.placed,
      confirmed: run.confirmed,
      timeToConfirmedMs: run.timeToConfirmedMs,
    },
  };
}

function pad(s: string | number, n: number, right = false): string {
  const t = String(s);
  return right ? t.padEnd(n) : t.padStart(n);
}

function table(results: ScenarioResult[], rss: Record<string, number | null>): string {
  const lines: string[] = [];
  lines.push(
    `${pad("scenario", 19, true)}${pad("req/s", 9)}${pad("p50", 7)}${pad("p90", 7)}${pad("p99", 7)}${pad("max", 7)}${pad("errors", 8)}${pad("× mesh", 8)}`,
  );
  for (const r of results) {
    lines.push(
      `${pad(r.name, 19, true)}${pad(r.requestsPerSec.toFixed(0), 9)}${pad(r.latencyMs.p50, 7)}${pad(r.latencyMs.p90, 7)}${pad(r.latencyMs.p99, 7)}${pad(r.latencyMs.max, 7)}${pad(r.errors, 8)}${pad(r.ratioToMesh === null ? "-" : r.ratioToMesh.toFixed(2), 8)}`,
    );
  }
  lines.push(
    `(median of ${tools.bench.rounds} interleaved round(s); latency in ms; errors = non-2xx + socket errors, all rounds; × mesh = median of the rounds' req/s ÷ baseline-mesh)`,
  );
  for (const r of results) {
    if (r.rounds && r.rounds.length > 1) {
      lines.push(
        `  ${r.name} rounds: ${r.rounds.map((x) => `${x.requestsPerSec.toFixed(0)} req/s${x.ratioToMesh === null ? "" : ` (${x.ratioToMesh.toFixed(2)})`}`).join(", ")}`,
      );
    }
  }
  for (const r of results) {
    if (r.cpuUsPerRequest)
      lines.push(`  ${r.name} CPU µs per request: ${cpuLine(r.cpuUsPerRequest)}`);
  }
  const checkoutResult = results.find((r) => r.orders);
  if (checkoutResult?.orders) {
    const o = checkoutResult.orders;
    lines.push(
      `checkout: ${o.offeredPerSec} orders/s offered, ${o.confirmedPerSec.toFixed(1)} confirmed/s ` +
        `(${o.confirmed}/${o.placed} placed); time to confirmed p50 ${o.timeToConfirmedMs.p50} ms, ` +
        `p90 ${o.timeToConfirmedMs.p90} ms, p99 ${o.timeToConfirmedMs.p99} ms, max ${o.timeToConfirmedMs.max} ms`,
    );
  }
  for (const r of results) {
    if (r.errors > 0) lines.push(`${r.name} errors: ${JSON.stringify(r.errorDetail)}`);
  }
  lines.push("peak RSS (VmHWM) per process, MB:");
  lines.push(
    "  " +
      Object.entries(rss)
        .map(([n, b]) => `${n} ${b === null ? "?" : (b / 2 ** 20).toFixed(0)}`)
        .join(", "),
  );
  return lines.join("\n");
}

async function main(): Promise<number> {
  if (!app.transporter || !app.cacher) {
    throw new Error(
      "npm run bench needs TRANSPORTER and CACHER (real NATS and Redis): run it through `npm run bench`, which starts them",
    );
  }
  const tag = `bench${randomBytes(3).toString("hex")}`;
  const data = runData(app, tag, tools.keepData);
  const shop = new Cluster(clusterEnv(data), tag);
  const baselines = new Cluster({}, `${tag}mesh`);
  const baselineScript = path.join(ROOT, "dist", "bench", "baseline.js");
  const wanted = (name: string) => !tools.bench.only || tools.bench.only.includes(name);
  const results: ScenarioResult[] = [];
  const startedAt = new Date();
  const profiles = path.join(ROOT, "bench", "results", "profiles", tag);
  // The shop's six processes only for its scenarios (BENCH_ONLY=baseline-mesh,catalog-hop skips them).
  const shopWanted = ["catalog-read", "me-read", "checkout", "capacity"].some(wanted);
  let hop: HopShop | null = null;
  try {
    log(
      shopWanted
        ? `starting the shop (${Object.keys(SHOP_NODES).length} processes) and the baselines`
        : "starting the baselines",
    );
    await Promise.all([
      ...Object.entries(shopWanted ? SHOP_NODES : {}).map(([name, services]) =>
        startNode(
          shop,
          name,
          services,
          tools.bench.profile.includes(name)
            ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profiles}` }
            : {},
        ),
      ),
      baselines.start(
        "baseline-raw",
        [],
        {},
        { script: baselineScript, args: ["raw"], gateway: true, readyText: READY },
      ),
      baselines.start(
        "mesh-echo",
        [],
        {},
        { script: baselineScript, args: ["echo"], readyText: READY },
      ),
    ]);
    await baselines.start(
      "mesh-gateway",
      [],
      {},
      { script: baselineScript, args: ["gateway"], gateway: true, readyText: READY },
    );
    const gw = shopWanted ? shop.baseUrl("gw") : "";
    let seeded: SeededShop = { adminToken: "", products: [], customers: [{ id: "", token: "" }] };
    if (shopWanted) {
      await waitReady(gw);
      log("seeding: 100 products, 20 customers");
      seeded = await seed(gw, tag, 100, 1_000_000, 20);
      // Prime the token cache and the catalog cache as a running shop would have them.
      await request(gw, "GET", "/api/users/me", { token: seeded.customers[0].token });
      await request(gw, "GET", "/api/products?page=1");
    }
    if (HOP_SCENARIOS.some(wanted)) {
      log("starting the hop cluster (gateway, products, users; no Redis) and seeding it");
      hop = await startHop(app, tag, tools.keepData, tools.bench.profile, profiles);
    }

    const nats = natsServer(app.transporter);
    const shopCpu = cpuProbe(shop, Object.keys(SHOP_NODES), nats);
    const meshCpu = cpuProbe(baselines, ["mesh-gateway", "mesh-echo"], nats);
    const closed = [
      {
        name: "baseline-raw",
        opts: { url: `${baselines.baseUrl("baseline-raw")}/` },
        cpu: cpuProbe(baselines, ["baseline-raw"]),
      },
      {
        name: "baseline-mesh",
        opts: { url: `${baselines.baseUrl("mesh-gateway")}/echo` },
        cpu: meshCpu,
      },
      {
        name: "baseline-mesh-page",
        opts: { url: `${baselines.baseUrl("mesh-gateway")}/page` },
        cpu: meshCpu,
      },
      { name: "catalog-read", opts: { url: `${gw}/api/products?page=1` }, cpu: shopCpu },
      {
        name: "me-read",
        opts: {
          url: `${gw}/api/users/me`,
          headers: { authorization: `Bearer ${seeded.customers[0].token}` },
        },
        cpu: shopCpu,
      },
      ...(hop?.scenarios ?? []),
    ].filter((s) => wanted(s.name));
    results.push(...(await closedLoops(closed)));
    if (wanted("checkout")) results.push(await checkout(gw, seeded));
    let capacityResult: CapacityResult | null = null;
    if (wanted("capacity")) {
      const mesh = results.find((r) => r.name === "baseline-mesh")?.requestsPerSec ?? null;
      const { capacityRates, durationS } = tools.bench;
      const cpu = () => shop.cpuSeconds();
      capacityResult = await capacity(gw, seeded, capacityRates, durationS, mesh, cpu, log);
    }

    const rss: Record<string, number | null> = {};
    for (const name of shop.nodes.keys()) rss[name] = shop.peakRss(name);
    for (const name of baselines.nodes.keys()) rss[name] = baselines.peakRss(name);
    for (const name of hop?.cluster.nodes.keys() ?? []) rss[name] = hop!.cluster.peakRss(name);
    rss["bench (load generator)"] = peakRss(process.pid);

    const report = {
      startedAt: startedAt.toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        loadAverageAtStart: os.loadavg(),
      },
      settings: {
        durationS: tools.bench.durationS,
        rounds: tools.bench.rounds,
        warmupS: WARMUP_S,
        connections: tools.bench.connections,
        checkoutRate: tools.bench.checkoutRate,
        database: data.mongoUri ? "Mongo-wire (MONGO_URI)" : "NeDB in memory per process",
        transporter: app.transporter,
        cacher: app.cacher,
      },
      results,
      peakRssBytes: rss,
      targets: {
        catalogRead: results.find((r) => r.name === "catalog-read")?.ratioToMesh ?? null,
        meRead: results.find((r) => r.name === "me-read")?.ratioToMesh ?? null,
        hop: hopVerdicts(results),
        checkoutCapacity: capacityResult?.ratioToMesh ?? null,
      },
      capacity: capacityResult,
    };
    const dir = path.join(ROOT, "bench", "results");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
    const json = `${JSON.stringify(report, null, 2)}\n`;
    fs.writeFileSync(file, json);
    fs.writeFileSync(path.join(dir, "latest.json"), json);

    process.stdout.write(`\n${table(results, rss)}\n`);
    if (capacityResult) process.stdout.write(`${capacityReport(capacityResult).join("\n")}\n`);
    const { catalogRead, meRead } = report.targets;
    if (catalogRead !== null && meRead !== null) {
      process.stdout.write(
        `targets: catalog-read ${catalogRead.toFixed(2)} (≥ 0.80 ${catalogRead >= 0.8 ? "met" : "missed"}), ` +
          `me-read ${meRead.toFixed(2)} (≥ 0.70 ${meRead >= 0.7 ? "met" : "missed"})\n`,
      );
    }
    for (const line of hopVerdictLines(report.targets.hop)) process.stdout.write(`${line}\n`);
    process.stdout.write(`results: ${path.relative(ROOT, file)}\n`);
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) process.stdout.write(`FAILED: ${errors} errors (see above)\n`);
    return errors > 0 ? 1 : 0;
  } finally {
    // A profile is written when the process exits normally: SIGTERM, not SIGKILL.
    for (const name of tools.bench.profile) if (shop.nodes.has(name)) await shop.stop(name);
    for (const name of tools.bench.profile)
      if (hop?.cluster.nodes.has(name)) await hop.cluster.stop(name);
    if (tools.bench.profile.length > 0) log(`CPU profiles: ${path.relative(ROOT, profiles)}`);
    await Promise.all([shop.stopAll(), baselines.stopAll(), hop?.cluster.stopAll()]);
    for (const d of [data, hop?.data]) {
      await d
        ?.drop()
        .catch((err: unknown) => log(`dropping the run's database failed: ${String(err)}`));
    }
  }
}

runScript("bench", main);
