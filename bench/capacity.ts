/**
 * The `capacity` scenario: the open-loop checkout (bench/checkout.ts) at rising offered rates
 * (BENCH_CAPACITY_RATES, each for BENCH_DURATION s, every order of a step ended before the next
 * starts). A step passes when every order was confirmed and the p99 time from POST to confirmed
 * is under 500 ms. The search stops at the first step that fails twice (a failed step runs once
 * more: the machine is shared, and one neighbour's burst should not end the search); the
 * capacity is the highest rate that passed, reported with its ratio to baseline-mesh's req/s
 * measured in the same run.
 */
import { openLoopCheckout, type CheckoutRun } from "./checkout";
import type { SeededShop } from "./shop";

export const CAPACITY_P99_MS = 500;

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
  return searchCapacity(step, rates, durationS, meshRequestsPerSec, shopCpuSeconds, log);
}

/** The search itself, given how to run one step (test/unit/capacity-search.test.ts drives it directly). */
export async function searchCapacity(
  runStep: (rate: number) => Promise<CheckoutRun>,
  rates: number[],
  durationS: number,
  meshRequestsPerSec: number | null,
  shopCpuSeconds: () => number,
  log: (text: string) => void,
): Promise<CapacityResult> {
  const steps: CapacityStep[] = [];
  let best = 0;
  for (const rate of rates) {
    let step: CapacityStep | undefined;
    for (let attempt = 1; attempt <= 2 && !step?.passed; attempt++) {
      log(`capacity: ${rate} orders/s offered for ${durationS}s${attempt > 1 ? " (again)" : ""}`);
      const cpuBefore = shopCpuSeconds();
      const run = await runStep(rate);
      const cpuMsPerOrder = ((shopCpuSeconds() - cpuBefore) * 1000) / Math.max(1, run.offered);
      step = { ...run, passed: passed(run), cpuMsPerOrder };
      steps.push(step);
      log(
        `capacity: ${rate}/s → ${step.passed ? "pass" : "fail"}, p99 to confirmed ${run.timeToConfirmedMs.p99} ms, ${run.errors} errors`,
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
