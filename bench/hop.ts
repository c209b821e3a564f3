/**
 * The scenarios across the hop (issue 20): a gateway and the service it calls in separate
 * processes over NATS, with no Redis. Each process then caches in its own memory (`CACHER`
 * unset, moleculer.config.ts): a cached catalog page is answered by the products process, so
 * every request crosses NATS both ways — the path a deployment without Redis takes on every
 * read, and the one `catalog-read` (answered from Redis at the gateway,
 * middlewares/caller-cache.ts) never shows.
 *
 *   catalog-hop   anonymous GET /api/products?page=1: gateway → NATS → products (memory hit)
 *   me-hop        authenticated GET /api/users/me: token remembered at the gateway (≤ 1 s),
 *                 users.me over NATS (memory hit at users)
 *
 * Three processes of their own (`hop-gw`, `hop-products`, `hop-users`), their own namespace and
 * database, seeded with the same data set as the shop. The rate limiter still runs on every
 * request, in the gateway's memory as it does without Redis.
 */
import type autocannon from "autocannon";
import type { AppConfig } from "../lib/config";
import { Cluster } from "./cluster";
import { cpuProbe, natsServer, type CpuProbe } from "./cpu";
import { clusterEnv, request, runData, seed, sleep, startNode, type RunData } from "./shop";

export const HOP_SCENARIOS = ["catalog-hop", "me-hop"] as const;

const HOP_NODES: Record<string, string[]> = {
  "hop-gw": ["api"],
  "hop-products": ["products"],
  "hop-users": ["users"],
};

/** The targets of issue 20, against baseline-mesh within each round (medians of the rounds). */
export const HOP_TARGETS = {
  "catalog-hop": { ratio: 0.8, p99Ratio: 1.5, sameLoad: "baseline-mesh-page" },
  "me-hop": { ratio: 0.7, p99Ratio: null, sameLoad: null },
} as const;

export interface HopShop {
  cluster: Cluster;
  data: RunData;
  scenarios: Array<{ name: string; opts: autocannon.Options; cpu: CpuProbe }>;
}

/** Waits until the hop gateway sees users and products (the shop's other services are absent). */
async function waitServices(baseUrl: string, services: string[], timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await request<{ unavailableServices?: string[] }>(
      baseUrl,
      "GET",
      "/health/ready",
    ).catch(() => null);
    const missing = res?.body.unavailableServices ?? [];
    if (res?.status === 200 && services.every((s) => !missing.includes(s))) return;
    if (Date.now() > until) throw new Error(`hop gateway ${baseUrl} not ready in ${timeoutMs} ms`);
    await sleep(200);
  }
}

/**
 * Starts the hop cluster, seeds it and primes its caches as a running shop would have them.
 * `profiled` names the nodes to run with `--cpu-prof` (profiles in `profileDir`).
 */
export async function startHop(
  app: AppConfig,
  tag: string,
  keepData: boolean,
  profiled: string[],
  profileDir: string,
): Promise<HopShop> {
  const data = runData(app, `${tag}hop`, keepData);
  // CACHER empty: no Redis anywhere in this cluster (the bench's environment names one).
  const cluster = new Cluster(clusterEnv(data, { CACHER: "" }), `${tag}hop`);
  await Promise.all(
    Object.entries(HOP_NODES).map(([name, services]) =>
      startNode(
        cluster,
        name,
        services,
        profiled.includes(name) ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {},
      ),
    ),
  );
  const gw = cluster.baseUrl("hop-gw");
  let token: string;
  try {
    await waitServices(gw, ["users", "products"]);
    const seeded = await seed(gw, `${tag}hop`, 100, 1_000_000, 20);
    token = seeded.customers[0].token;
    await request(gw, "GET", "/api/users/me", { token });
    await request(gw, "GET", "/api/products?page=1");
  } catch (err) {
    await cluster.stopAll();
    await data.drop().catch(() => undefined);
    throw err;
  }
  const cpu = cpuProbe(cluster, Object.keys(HOP_NODES), natsServer(app.transporter));
  return {
    cluster,
    data,
    scenarios: [
      { name: "catalog-hop", opts: { url: `${gw}/api/products?page=1` }, cpu },
      {
        name: "me-hop",
        opts: { url: `${gw}/api/users/me`, headers: { authorization: `Bearer ${token}` } },
        cpu,
      },
    ],
  };
}

interface RoundFigures {
  requestsPerSec: number;
  p99: number;
  ratioToMesh: number | null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** The median over the rounds of a scenario's req/s ÷ another's in the same round. */
const medianRatio = (rounds: RoundFigures[], against: RoundFigures[]) =>
  median(rounds.map((r, i) => r.requestsPerSec / against[i].requestsPerSec));

export interface HopVerdict {
  scenario: string;
  ratio: number;
  ratioTarget: number;
  /** Median of the rounds' p99 ÷ baseline-mesh's p99 of the same round. */
  p99Ratio: number;
  p99Target: number | null;
  met: boolean;
  /**
   * Against the bare mesh carrying the same answer (`baseline-mesh-page` for the catalog page):
   * the scenario's name and the median of the rounds' req/s ratios; null when it did not run.
   */
  sameLoad: { scenario: string; ratio: number } | null;
}

/** Each hop scenario's ratios against baseline-mesh, round by round, and whether it met its target. */
export function hopVerdicts(
  results: Array<{ name: string; rounds?: RoundFigures[] }>,
): HopVerdict[] {
  const mesh = results.find((r) => r.name === "baseline-mesh")?.rounds;
  if (!mesh) return [];
  const verdicts: HopVerdict[] = [];
  for (const [scenario, target] of Object.entries(HOP_TARGETS)) {
    const rounds = results.find((r) => r.name === scenario)?.rounds;
    if (!rounds || rounds.length !== mesh.length) continue;
    const ratio = medianRatio(rounds, mesh);
    // A p99 of 0 ms (autocannon's whole-millisecond histogram) counts as 1 ms.
    const p99Ratio = median(rounds.map((r, i) => Math.max(1, r.p99) / Math.max(1, mesh[i].p99)));
    const same = target.sameLoad
      ? results.find((r) => r.name === target.sameLoad)?.rounds
      : undefined;
    verdicts.push({
      scenario,
      ratio,
      ratioTarget: target.ratio,
      p99Ratio,
      p99Target: target.p99Ratio,
      met: ratio >= target.ratio && (target.p99Ratio === null || p99Ratio <= target.p99Ratio),
      sameLoad:
        target.sameLoad && same?.length === rounds.length
          ? {
              scenario: target.sameLoad,
              ratio: medianRatio(rounds, same),
            }
          : null,
    });
  }
  return verdicts;
}

/** One line per hop scenario: its ratios and met/missed. */
export function hopVerdictLines(verdicts: HopVerdict[]): string[] {
  return verdicts.map((v) => {
    const p99 =
      v.p99Target === null
        ? `p99 ${v.p99Ratio.toFixed(2)} × mesh`
        : `p99 ${v.p99Ratio.toFixed(2)} × mesh (≤ ${v.p99Target.toFixed(2)})`;
    const same = v.sameLoad
      ? `; ${v.sameLoad.ratio.toFixed(2)} × ${v.sameLoad.scenario} (the bare mesh carrying the same answer)`
      : "";
    return `target ${v.scenario}: ${v.ratio.toFixed(2)} × mesh req/s (≥ ${v.ratioTarget.toFixed(2)}), ${p99}: ${v.met ? "met" : "missed"}${same}`;
  });
}
