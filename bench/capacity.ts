/**
 * The `capacity` scenario: the open-loop checkout (bench/checkout.ts) at rising offered rates
 * (BENCH_CAPACITY_RATES, each for BENCH_DURATION s, every order of a step ended before the next
 * starts). A step passes when every order was confirmed and the p99 time from POST to confirmed
 * is under 500 ms. The search stops at the first step that fails twice (a failed step runs once
 * more: the machine is shared, and one neighbour's burst should not end the search); the
 * capacity is the highest rate that passed, reported with its ratio to baseline-mesh's req/s
 * measured in the same run.
 *
 * Each step starts on a settled shop: after a step's orders are confirmed, the shop still has
 * that step's tail to finish (outbox marks, notifications, payment records), and a step that
 * started in it failed where the same step run after it passed (bench/README.md). Before each
 * step the search waits until the shop's processes use under SETTLED_CPU_SHARE of a core
 * (at most SETTLE_MAX_MS); that tail counts in the step's CPU per order.
 */
import { openLoopCheckout, type CheckoutRun } from "./checkout";
import type { SeededShop } from "./shop";

export const CAPACITY_P99_MS = 500;
/** The shop counts as settled below this share of one core, over SETTLE_WINDOW_MS. */
const SETTLED_CPU_SHARE = 0.1;
const SETTLE_WINDOW_MS = 500;
const SETTLE_MAX_MS = 15_000;

/** Waits until the shop is settled (or SETTLE_MAX_MS); resolves to how long it took, in ms. */
export async function settle(shopCpuSeconds: () => number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < SETTLE_MAX_MS) {
    const before = shopCpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_WINDOW_MS));
    const share = (shopCpuSeconds() - before) / (SETTLE_WINDOW_MS / 1000);
    if (share < SETTLED_CPU_SHARE) break;
  }
  return Date.now() - started;
}

export interface CapacityStep extends CheckoutRun {
  passed: boolean;
  /**
   * CPU time the shop's processes used per offered order during the step, in ms: unlike the
   * latencies, it hardly depends on what else the machine runs.
   */
  cpuMsPerOrder: number;
}

export interface CapacityResult {
  /** The highest offered rate that passed (orders/s); 0 when none did. */
  ordersPerSec: number;
  /** ordersPerSec ÷ baseline-mesh req/s of the same run; null without baseline-mesh. */
  ratioToMesh: number | null;
  p99LimitMs: number;
  steps: CapacityStep[];
}

function passed(run: CheckoutRun): boolean {
  return (
    run.errors === 0 && run.confirmed === run.offered && run.timeToConfirmedMs.p99 < CAPACITY_P99_MS
  );
}

/** The scenario against a running shop: each step is the open-loop checkout at that rate. */
export function capacity(
  baseUrl: string,
  shop: SeededShop,
  rates: number[],
  durationS: number,
  meshRequestsPerSec: number | null,
  /** CPU seconds used so far by the shop's processes (Cluster.cpuSeconds). */
  shopCpuSeconds: () => number,
  log: (text: string) => void,
): Promise<CapacityResult> {
  const step = (rate: number) => openLoopCheckout(baseUrl, shop, rate, durationS);
  return searchCapacity(step, rates, durationS, meshRequestsPerSec, shopCpuSeconds, log, () =>
    settle(shopCpuSeconds),
  );
}

/** The search itself, given how to run one step (test/unit/capacity-search.test.ts drives it directly). */
export async function searchCapacity(
  runStep: (rate: number) => Promise<CheckoutRun>,
  rates: number[],
  durationS: number,
  meshRequestsPerSec: number | null,
  shopCpuSeconds: () => number,
  log: (text: string) => void,
  /** Waits until the shop has finished its previous work; resolves to the ms it took. */
  settled: () => Promise<number> = async () => 0,
): Promise<CapacityResult> {
  const steps: CapacityStep[] = [];
  let best = 0;
  await settled();
  for (const rate of rates) {
    let step: CapacityStep | undefined;
    for (let attempt = 1; attempt <= 2 && !step?.passed; attempt++) {
      log(`capacity: ${rate} orders/s offered for ${durationS}s${attempt > 1 ? " (again)" : ""}`);
      const cpuBefore = shopCpuSeconds();
      const run = await runStep(rate);
      const settleMs = await settled();
      const cpuMsPerOrder = ((shopCpuSeconds() - cpuBefore) * 1000) / Math.max(1, run.offered);
      step = { ...run, passed: passed(run), cpuMsPerOrder };
      steps.push(step);
      log(
        `capacity: ${rate}/s → ${step.passed ? "pass" : "fail"}, p99 to confirmed ${run.timeToConfirmedMs.p99} ms, ${run.errors} errors; shop settled ${settleMs} ms after its last order`,
      );
    }
    if (!step?.passed) break;
    best = rate;
  }
  return {
    ordersPerSec: best,
    ratioToMesh: meshRequestsPerSec ? best / meshRequestsPerSec : null,
    p99LimitMs: CAPACITY_P99_MS,
    steps,
  };
}

/** The lines of the bench's report about the capacity scenario. */
export function capacityReport(result: CapacityResult): string[] {
  const ratio = result.ratioToMesh === null ? "" : `, ${result.ratioToMesh.toFixed(3)} × mesh`;
  return [
    `capacity: ${result.ordersPerSec} orders/s (highest offered rate with p99 to confirmed < ${result.p99LimitMs} ms and no errors${ratio})`,
    ...result.steps.map(
      (s) =>
        `  ${String(s.offeredPerSec).padStart(4)}/s ${s.passed ? "pass" : "FAIL"}: ${s.confirmed}/${s.offered} confirmed, to confirmed p50 ${s.timeToConfirmedMs.p50} p99 ${s.timeToConfirmedMs.p99} max ${s.timeToConfirmedMs.max} ms, POST p99 ${s.postLatencyMs.p99} ms, shop CPU ${s.cpuMsPerOrder.toFixed(1)} ms/order${s.errors ? `, errors ${JSON.stringify(s.errorDetail)}` : ""}`,
    ),
  ];
}
