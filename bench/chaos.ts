/**
 * `npm run chaos`: the shop as separate processes (gateway ×2, users ×2, payments ×2,
 * notifications ×2, products, orders) over real NATS, Redis and a Mongo-wire database, under a
 * steady stream of orders, while processes are SIGKILLed (one at a time) and restarted:
 *
 *   phase 1 (first half of CHAOS_DURATION): a random service process every CHAOS_INTERVAL_MS;
 *   phase 2 (second half): one of the two gateway processes.
 *
 * Then the faults stop, the stream drains, the sweeper settles what is left, and the
 * invariants are checked on the services' own collections:
 *
 *   1. every order a gateway accepted (200/201) ends confirmed or cancelled, nothing pending;
 *   2. no order has two charges: the provider's charge log (PAYMENT_CHARGE_LOG, appended by
 *      every payments process, killed or not) holds exactly one charge, for its amount, per
 *      order whose payment succeeded or was refunded and none for any other, made by an attempt
 *      its payment counts (`attempts`: more than one after a resumed crash); one payment per
 *      order; confirmed ⇔ payment succeeded;
 *   3. stock is conserved per product: initial − confirmed quantities = stock, and only
 *      confirmed orders still hold a reservation;
 *   4. no HTTP answer was a 5xx other than 503. Connection errors from a killed gateway are
 *      counted apart and expected: the client retries on the other gateway with the same
 *      Idempotency-Key, as a client behind a load balancer would.
 *
 * Availability is what the client saw: it retries a failed checkout with the same
 * Idempotency-Key for up to CLIENT_PATIENCE_MS, then gives up; `N offered, M accepted` and the
 * share are reported (the target is ≥ 99 %).
 *
 * Prints a report, writes bench/results/chaos-<time>.json, exits 1 when an invariant fails.
 * Products and orders run one process each (restarted after a kill): FerretDB 1.24 applies
 * concurrent conditional updates of one document non-atomically (bench/README.md), and those
 * two services update shared documents (a product's stock, an order's state) from whichever
 * process serves the call. Users, payments and notifications run two each.
 */
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { config, loadToolConfig, resetConfig } from "../lib/config";
import { readChargeLog } from "../services/payments/provider";
import { Cluster, ROOT } from "./cluster";
import { openProbe } from "./db-probe";
import { clusterEnv, request, runData, runScript, seed, sleep, startNode, waitReady } from "./shop";

const tools = loadToolConfig();
const app = config();

const SERVICE_NODES: Record<string, string[]> = {
  users1: ["users"],
  users2: ["users"],
  products: ["products"],
  orders: ["orders"],
  payments1: ["payments"],
  payments2: ["payments"],
  notifications1: ["notifications"],
  notifications2: ["notifications"],
};
const GATEWAYS = ["gw1", "gw2"];
const START_BATCH = 4;
const INITIAL_STOCK = 100_000;
/** Card mix: mostly good, some declined, some slow (a charge in flight when payments dies). */
const CARDS = ["tok_visa", "tok_visa", "tok_visa", "tok_chargeDeclined", "tok_slow"];
/** How long one order may keep being retried (503s, dead gateways) before the client gives up. */
const CLIENT_PATIENCE_MS = 10_000;
const SETTLE_TIMEOUT_MS = 180_000;
/** Short saga timings so a run settles in seconds; the payment window stays generous. */
const SAGA_ENV = {
  SWEEPER_INTERVAL_MS: "500",
  SAGA_STEP_DEADLINE_MS: "3000",
  ORDER_PAYMENT_TIMEOUT_MS: "90000",
  PAYMENT_SLOW_MS: "1000",
};

function log(text: string) {
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 23)}] ${text}\n`);
}

/** mulberry32: a small seeded generator, so CHAOS_SEED replays the same victims. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Traffic {
  offered: number;
  accepted: Set<string>;
  /** HTTP status → count, over every attempt. */
  statuses: Record<string, number>;
  connectionErrors: number;
  /** Tries still unanswered when the client's patience ran out. */
  timeouts: number;
  retries: number;
  gaveUp: number;
  /** 4xx answers other than the expected ones (none are expected). */
  refused: number;
  /** `<gateway> <status>` → count of 5xx answers, to tell a sick gateway from a sick service. */
  failuresByGateway: Record<string, number>;
}

interface OrderDoc {
  _id: string;
  status: string;
  cancelReason?: string;
  items: Array<{ productId: string; quantity: number }>;
  deadline: number | null;
}
interface PaymentDoc {
  orderId: string;
  amount: number;
  status: string;
  /** Provider calls made for it: more than one when a charge was resumed after a crash. */
  attempts: number;
}
interface ProductDoc {
  _id: string;
  stock: number;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function main(): Promise<number> {
  if (!app.transporter || !app.cacher || !app.mongoUri) {
    throw new Error(
      "npm run chaos needs TRANSPORTER, CACHER and MONGO_URI (real NATS, Redis, Mongo-wire): run it through `npm run chaos`",
    );
  }
  const tag = `chaos${randomBytes(3).toString("hex")}`;
  const data = runData(app, tag, tools.keepData);
  // Kept beside the process logs of the run (see the end of main).
  const logs = path.join(ROOT, "bench", "results", "logs", tag);
  fs.mkdirSync(logs, { recursive: true });
  const chargeLog = path.join(logs, "charges.jsonl");
  const cluster = new Cluster(
    clusterEnv(data, { ...SAGA_ENV, PAYMENT_CHARGE_LOG: chargeLog }),
    tag,
  );
  // Two generators: the victims and their timing do not depend on how many orders went out.
  const rand = random(tools.chaos.seed);
  const trafficRand = random(tools.chaos.seed + 1);
  const pick = <T>(xs: T[], r = rand): T => xs[Math.floor(r() * xs.length)];
  const kills: Array<{ at: string; node: string; downMs: number }> = [];
  const traffic: Traffic = {
    offered: 0,
    accepted: new Set(),
    statuses: {},
    connectionErrors: 0,
    timeouts: 0,
    retries: 0,
    gaveUp: 0,
    refused: 0,
    failuresByGateway: {},
  };
  const startedAt = new Date();
  log(
    `seed ${tools.chaos.seed}, ${tools.chaos.durationS}s of faults every ${tools.chaos.intervalMs} ms, ${tools.chaos.rate} orders/s`,
  );

  try {
    // A few at a time: ten Node processes loading at once on a busy 2-core box can take
    // longer than a node's 30 s start limit.
    const nodes: Array<[string, string[]]> = [
      ...Object.entries(SERVICE_NODES),
      ...GATEWAYS.map((gw): [string, string[]] => [gw, ["api"]]),
    ];
    for (let i = 0; i < nodes.length; i += START_BATCH) {
      await Promise.all(
        nodes
          .slice(i, i + START_BATCH)
          .map(([name, services]) => startNode(cluster, name, services)),
      );
    }
    for (const gw of GATEWAYS) await waitReady(cluster.baseUrl(gw));
    const shop = await seed(cluster.baseUrl("gw1"), tag, 5, INITIAL_STOCK, 10);
    log("cluster up and seeded: 5 products, 10 customers");

    // ---- the order stream ------------------------------------------------------------------
    const placeOne = async (n: number): Promise<void> => {
      const customer = shop.customers[n % shop.customers.length];
      const body = {
        items: [{ productId: pick(shop.products, trafficRand).id, quantity: 1 + (n % 3) }],
        paymentToken: pick(CARDS, trafficRand),
      };
      const key = `${tag}-${n}`;
      let gw = n % GATEWAYS.length;
      const until = Date.now() + CLIENT_PATIENCE_MS;
      for (let attempt = 0; Date.now() < until; attempt++) {
        if (attempt > 0) traffic.retries++;
        try {
          const res = await request<{ id: string }>(
            cluster.baseUrl(GATEWAYS[gw]),
            "POST",
            "/api/orders",
            {
              token: customer.token,
              headers: { "Idempotency-Key": key },
              json: body,
              // Never past the client's patience: an answer after it is an order given up.
              timeoutMs: Math.max(1, until - Date.now()),
            },
          );
          traffic.statuses[res.status] = (traffic.statuses[res.status] ?? 0) + 1;
          if (res.status >= 500) {
            const where = `${GATEWAYS[gw]} ${res.status}`;
            traffic.failuresByGateway[where] = (traffic.failuresByGateway[where] ?? 0) + 1;
          }
          if (res.status === 200 || res.status === 201) {
            traffic.accepted.add(res.body.id);
            return;
          }
          if (res.status < 500) {
            traffic.refused++;
            return;
          }
          // Back off like a real client: hammering a recovering system keeps it down.
          await sleep(Math.min(2_000, 250 * 2 ** attempt, Math.max(0, until - Date.now())));
        } catch (err) {
          // The gateway died under the request, is down, or did not answer in time: the other
          // one takes the retry.
          if ((err as Error).name === "TimeoutError") traffic.timeouts++;
          else traffic.connectionErrors++;
          gw = (gw + 1) % GATEWAYS.length;
          await sleep(100);
        }
      }
      traffic.gaveUp++;
    };

    let streaming = true;
    const inFlight: Array<Promise<void>> = [];
    const stream = (async () => {
      const t0 = Date.now();
      for (let n = 0; streaming; n++) {
        const wait = t0 + (n * 1000) / tools.chaos.rate - Date.now();
        if (wait > 0) await sleep(wait);
        traffic.offered++;
        inFlight.push(placeOne(n));
      }
    })();

    // ---- the faults --------------------------------------------------------------------------
    const killLoop = async (victims: string[], durationMs: number) => {
      const until = Date.now() + durationMs;
      while (Date.now() < until) {
        await sleep(tools.chaos.intervalMs * (0.5 + rand()));
        if (Date.now() >= until) break;
        const node = pick(victims);
        const downMs = Math.round(300 + rand() * 1500);
        log(`SIGKILL ${node}; restart in ${downMs} ms`);
        kills.push({ at: new Date().toISOString(), node, downMs });
        await cluster.kill(node);
        await sleep(downMs);
        await cluster.restart(node);
        log(`${node} is back`);
      }
    };
    const half = (tools.chaos.durationS * 1000) / 2;
    log("phase 1: killing service processes");
    await killLoop(Object.keys(SERVICE_NODES), half);
    log("phase 2: killing gateway processes");
    await killLoop(GATEWAYS, half);

    // ---- settle --------------------------------------------------------------------------------
    streaming = false;
    await stream;
    log(`faults over; waiting for ${inFlight.length} orders' requests to finish`);
    await Promise.all(inFlight);
    const settleStart = Date.now();
    resetConfig();
    process.env.MONGO_URI = data.mongoUri;
    const probe = await openProbe(["orders", "payments", "products", "reservations"]);
    try {
      let orders: OrderDoc[] = [];
      for (;;) {
        orders = (await probe.store("orders").find({})) as unknown as OrderDoc[];
        const open = orders.filter(
          (o) => !["confirmed", "cancelled"].includes(o.status) || o.deadline !== null,
        );
        if (open.length === 0) break;
        if (Date.now() - settleStart > SETTLE_TIMEOUT_MS) {
          log(`${open.length} orders still open after ${SETTLE_TIMEOUT_MS} ms`);
          break;
        }
        await sleep(500);
      }
      const settleMs = Date.now() - settleStart;
      log(`settled in ${settleMs} ms`);

      // ---- invariants ----------------------------------------------------------------------------
      const checks: Check[] = [];
      const byId = new Map(orders.map((o) => [o._id, o]));
      const missing = [...traffic.accepted].filter((id) => !byId.has(id));
      const notFinal = orders.filter(
        (o) => !["confirmed", "cancelled"].includes(o.status) || o.deadline !== null,
      );
      checks.push({
        name: "every accepted order is confirmed or cancelled",
        ok: missing.length === 0 && notFinal.length === 0,
        detail: `${traffic.accepted.size} accepted, ${missing.length} missing, ${notFinal.length} not final${
          notFinal.length ? ` (${notFinal.slice(0, 5).map((o) => `${o._id}:${o.status}`)})` : ""
        }`,
      });

      const payments = (await probe.store("payments").find({})) as unknown as PaymentDoc[];
      const perOrder = new Map<string, PaymentDoc[]>();
      for (const p of payments) perOrder.set(p.orderId, [...(perOrder.get(p.orderId) ?? []), p]);
      const doubled = [...perOrder.entries()].filter(([, ps]) => ps.length > 1);
      const mismatched = orders.filter((o) => {
        const p = perOrder.get(o._id)?.[0];
        if (o.status === "confirmed") return p?.status !== "succeeded";
        return p !== undefined && !["failed", "refunded"].includes(p.status);
      });
      // The provider's side: what it charged, whichever process asked and however often.
      const charges = readChargeLog(chargeLog);
      const chargedAmounts = new Map<string, number[]>();
      for (const c of charges) {
        chargedAmounts.set(c.idempotencyKey, [
          ...(chargedAmounts.get(c.idempotencyKey) ?? []),
          c.amount,
        ]);
      }
      const wrongCharges = [...new Set([...orders.map((o) => o._id), ...chargedAmounts.keys()])]
        .map((orderId) => {
          const p = perOrder.get(orderId)?.[0];
          const expected = p && ["succeeded", "refunded"].includes(p.status) ? [p.amount] : [];
          const actual = chargedAmounts.get(orderId) ?? [];
          return { orderId, expected, actual };
        })
        .filter((c) => JSON.stringify(c.expected) !== JSON.stringify(c.actual));
      // A charge resumed after a crash is counted in its payment's attempts, and the attempt
      // that charged is one of them.
      const resumed = payments.filter((p) => p.attempts > 1);
      const uncounted = charges.filter(
        (c) => (c.attempt ?? 1) > (perOrder.get(c.idempotencyKey)?.[0]?.attempts ?? 0),
      );
      checks.push({
        name: "no order has two charges",
        ok:
          doubled.length === 0 &&
          mismatched.length === 0 &&
          wrongCharges.length === 0 &&
          uncounted.length === 0,
        detail: `${charges.length} charges at the provider, ${wrongCharges.length} orders charged other than once per successful payment${
          wrongCharges.length ? ` (${JSON.stringify(wrongCharges.slice(0, 3))})` : ""
        }; ${resumed.length} payments resumed after a crash, ${uncounted.length} charges by an attempt their payment does not count; ${payments.length} payments, ${doubled.length} orders with more than one, ${mismatched.length} disagreeing with their order`,
      });

      const confirmed = orders.filter((o) => o.status === "confirmed");
      const confirmedIds = new Set(confirmed.map((o) => o._id));
      const stockProblems: string[] = [];
      for (const product of shop.products) {
        const doc = (await probe.store("products").findById(product.id)) as unknown as ProductDoc;
        const sold = confirmed
          .flatMap((o) => o.items)
          .filter((l) => l.productId === product.id)
          .reduce((sum, l) => sum + l.quantity, 0);
        if (doc.stock !== INITIAL_STOCK - sold) {
          stockProblems.push(
            `${product.id}: stock ${doc.stock}, expected ${INITIAL_STOCK - sold} (sold ${sold})`,
          );
        }
      }
      const heldByOthers = (
        await probe.store("reservations").find({ query: { state: { $ne: "released" } } })
      ).filter((r) => !confirmedIds.has(r._id) && orders.some((o) => o._id === r._id));
      if (heldByOthers.length > 0) {
        stockProblems.push(`stock held by ${heldByOthers.length} unconfirmed orders`);
      }
      checks.push({
        name: "stock is conserved for every product",
        ok: stockProblems.length === 0,
        detail: stockProblems.length
          ? stockProblems.join("; ")
          : `${shop.products.length} products exact`,
      });

      const bad5xx = Object.entries(traffic.statuses).filter(
        ([s]) => Number(s) >= 500 && Number(s) !== 503,
      );
      checks.push({
        name: "no 5xx other than 503",
        ok: bad5xx.length === 0,
        detail: `statuses ${JSON.stringify(traffic.statuses)}`,
      });

      // ---- report ----------------------------------------------------------------------------------
      const cancelled = orders.filter((o) => o.status === "cancelled");
      const reasons: Record<string, number> = {};
      for (const o of cancelled) {
        reasons[o.cancelReason ?? "?"] = (reasons[o.cancelReason ?? "?"] ?? 0) + 1;
      }
      const killCount: Record<string, number> = {};
      for (const k of kills) killCount[k.node] = (killCount[k.node] ?? 0) + 1;
      const lines = [
        "",
        `chaos report (seed ${tools.chaos.seed}, ${tools.chaos.durationS}s of faults)`,
        `  kills: ${kills.length} ${JSON.stringify(killCount)}`,
        `  availability: ${traffic.offered} offered, ${traffic.accepted.size} accepted (${((100 * traffic.accepted.size) / Math.max(1, traffic.offered)).toFixed(1)} %) by a client that retries for ${CLIENT_PATIENCE_MS / 1000} s`,
        `  orders: ${confirmed.length} confirmed, ${cancelled.length} cancelled ${JSON.stringify(reasons)}; ${orders.length} in the database`,
        `  client: ${traffic.retries} retries, ${traffic.connectionErrors} connection errors (killed gateway, expected), ${traffic.timeouts} tries timed out, ${traffic.refused} refused (4xx), ${traffic.gaveUp} gave up`,
        `  5xx by gateway: ${JSON.stringify(traffic.failuresByGateway)}`,
        `  settled ${settleMs} ms after the faults stopped`,
        "invariants:",
        ...checks.map((c) => `  ${c.ok ? "PASS" : "FAIL"}  ${c.name}: ${c.detail}`),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);

      const dir = path.join(ROOT, "bench", "results");
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `chaos-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
      fs.writeFileSync(
        file,
        `${JSON.stringify({ startedAt, settings: tools.chaos, kills, traffic: { ...traffic, accepted: traffic.accepted.size }, settleMs, checks }, null, 2)}\n`,
      );
      process.stdout.write(`results: ${path.relative(ROOT, file)}\n`);
      const failed = checks.filter((c) => !c.ok).length;
      if (failed > 0) {
        process.stdout.write(`FAILED: ${failed} invariant(s)\n`);
        if (tools.keepData) process.stdout.write(`data kept in ${data.mongoUri}\n`);
      }
      return failed > 0 ? 1 : 0;
    } finally {
      await probe.close();
    }
  } finally {
    await cluster.stopAll();
    // Every process's log, for the post-mortem of a run (beside the charge log).
    cluster.saveLogs(logs);
    log(`process logs: ${path.relative(ROOT, logs)}`);
    await data
      .drop()
      .catch((err: unknown) => log(`dropping the run's database failed: ${String(err)}`));
  }
}

runScript("chaos", main);
