/**
 * The capacity scenario's search (bench/capacity.ts): which offered rate it reports, given what
 * each step measured. Steps are given as measured results, so the policy is checked without a
 * shop: a step passes with every order confirmed, no error and p99 under 500 ms; a failed step
 * runs once more; the search stops at the first rate that fails twice.
 */
import { searchCapacity, settle } from "../../bench/capacity";
import type { CheckoutRun } from "../../bench/checkout";

function run(rate: number, p99: number, overrides: Partial<CheckoutRun> = {}): CheckoutRun {
  const offered = rate * 10;
  return {
    offeredPerSec: rate,
    durationS: 10,
    offered,
    answered: offered,
    placed: offered,
    confirmed: offered,
    polls: offered * 3,
    postLatencyMs: { p50: 20, p90: 30, p99: 40, max: 50 },
    timeToConfirmedMs: { p50: p99 / 2, p90: p99, p99, max: p99 },
    errors: 0,
    errorDetail: {},
    ...overrides,
  };
}

/** A step runner that answers the queued results in order and records the rates asked for. */
function steps(results: CheckoutRun[]) {
  const asked: number[] = [];
  const runStep = async (rate: number) => {
    asked.push(rate);
    const next = results.shift();
    if (!next) throw new Error(`no result queued for ${rate}/s`);
    return next;
  };
  return { asked, runStep };
}

const noCpu = () => 0;
const quiet = () => undefined;

describe("capacity search", () => {
  it("reports the highest rate whose p99 to confirmed is under 500 ms, with its ratio to mesh", async () => {
    const { asked, runStep } = steps([run(10, 120), run(20, 300), run(40, 650), run(40, 700)]);
    const result = await searchCapacity(runStep, [10, 20, 40, 80], 10, 1000, noCpu, quiet);
    expect(result.ordersPerSec).toBe(20);
    expect(result.ratioToMesh).toBeCloseTo(0.02);
    // 40/s failed twice: 80/s is never tried.
    expect(asked).toEqual([10, 20, 40, 40]);
  });

  it("counts p99 of exactly 500 ms as a failure", async () => {
    const { runStep } = steps([run(10, 499), run(20, 500), run(20, 500)]);
    const result = await searchCapacity(runStep, [10, 20], 10, null, noCpu, quiet);
    expect(result.ordersPerSec).toBe(10);
    expect(result.ratioToMesh).toBeNull();
  });

  it("runs a failed step once more and goes on when the second run passes", async () => {
    const { asked, runStep } = steps([run(10, 900), run(10, 200), run(20, 250)]);
    const result = await searchCapacity(runStep, [10, 20], 10, 1000, noCpu, quiet);
    expect(result.ordersPerSec).toBe(20);
    expect(asked).toEqual([10, 10, 20]);
    expect(result.steps.map((s) => s.passed)).toEqual([false, true, true]);
  });

  it("fails a fast step that had an error or left an order unconfirmed", async () => {
    const withError = run(20, 100, { errors: 1, errorDetail: { "POST http 503": 1 } });
    const unconfirmed = run(20, 100, { confirmed: 199 });
    const { runStep } = steps([run(10, 100), withError, unconfirmed]);
    const result = await searchCapacity(runStep, [10, 20, 40], 10, 1000, noCpu, quiet);
    expect(result.ordersPerSec).toBe(10);
  });

  it("reports the shop's CPU per offered order of each step", async () => {
    let cpu = 0;
    const { runStep } = steps([run(10, 100)]);
    const timed = async (rate: number) => {
      const r = await runStep(rate);
      cpu += 2.5; // seconds of CPU spent during the step
      return r;
    };
    const result = await searchCapacity(timed, [10], 10, 1000, () => cpu, quiet);
    expect(result.steps[0].cpuMsPerOrder).toBeCloseTo(25);
  });

  it("waits for the shop to settle before each step, and counts that tail in the step's CPU", async () => {
    let cpu = 0;
    let busyWindows = 0;
    const order: string[] = [];
    const runStep = async (rate: number) => {
      order.push(`step ${rate}`);
      cpu += 2; // the step's own work
      busyWindows = 2; // and a tail that keeps the shop busy afterwards
      return run(rate, 100);
    };
    const settled = async () => {
      order.push("settle");
      cpu += busyWindows-- > 0 ? 1 : 0;
      return 0;
    };
    const result = await searchCapacity(runStep, [10], 10, 1000, () => cpu, quiet, settled);
    expect(order).toEqual(["settle", "step 10", "settle"]);
    // 2 s of the step and the 1 s of its tail seen while settling, over 100 orders.
    expect(result.steps[0].cpuMsPerOrder).toBeCloseTo(30);
  });

  it("settles once the shop uses under a tenth of a core", async () => {
    // Busy (half a core) for the first two half-second windows, then idle.
    let reads = 0;
    const cpu = () => {
      reads++;
      return Math.min(reads, 4) * 0.25;
    };
    const took = await settle(cpu);
    expect(reads).toBe(6);
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect(took).toBeLessThan(5_000);
  });
});
