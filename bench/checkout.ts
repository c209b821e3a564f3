/**
 * The open-loop checkout of the benchmark, shared by the `checkout` scenario (one fixed rate)
 * and the `capacity` scenario (rising rates): one order every 1/rate s whatever the answers,
 * each then read back (GET /api/orders/:id every 500 ms) until it is confirmed. Every order
 * pays with the test card that succeeds, so anything but `confirmed` is an error.
 *
 * Time to confirmed runs from the moment the client sent the POST to the moment the order's
 * history says it was confirmed (the shop's clock: the same machine), not to the read that saw
 * it: the reads are the instrument, not the shop's work. Reading every 50 ms, as this did
 * first, made two to three authenticated GETs per order, more requests than the checkout
 * itself, and measured the polling as much as the saga (bench/README.md, capacity). A real
 * client is told over the order's event stream.
 */
import type { Order } from "../contracts/orders";
import { percentile, request, sleep, type SeededShop } from "./shop";

const POLL_MS = 500;
/** An order not confirmed this long after its POST counts as an error. */
const CONFIRM_DEADLINE_MS = 30_000;

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface CheckoutRun {
  offeredPerSec: number;
  durationS: number;
  /** Orders sent (POSTs). */
  offered: number;
  /** POSTs answered (any status). */
  answered: number;
  /** POSTs answered 201. */
  placed: number;
  confirmed: number;
  polls: number;
  postLatencyMs: LatencySummary;
  timeToConfirmedMs: LatencySummary;
  errors: number;
  errorDetail: Record<string, number>;
}

function summary(values: number[]): LatencySummary {
  const xs = [...values].sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(xs, 50)),
    p90: Math.round(percentile(xs, 90)),
    p99: Math.round(percentile(xs, 99)),
    max: Math.round(xs[xs.length - 1] ?? 0),
  };
}

/** Offers `rate` orders per second for `durationS` seconds, then waits for every one to end. */
export async function openLoopCheckout(
  baseUrl: string,
  shop: SeededShop,
  rate: number,
  durationS: number,
): Promise<CheckoutRun> {
  const postLatencies: number[] = [];
  const toConfirmed: number[] = [];
  const errorDetail: Record<string, number> = {};
  const fail = (what: string) => (errorDetail[what] = (errorDetail[what] ?? 0) + 1);
  let placed = 0;
  let polls = 0;
  let seq = 0;

  const one = async (): Promise<void> => {
    const i = seq++;
    const customer = shop.customers[i % shop.customers.length];
    const product = shop.products[i % shop.products.length];
    const started = performance.now();
    const sentAt = Date.now();
    let id: string;
    try {
      const res = await request<Order>(baseUrl, "POST", "/api/orders", {
        token: customer.token,
        json: { items: [{ productId: product.id, quantity: 1 }], paymentToken: "tok_visa" },
      });
      postLatencies.push(performance.now() - started);
      if (res.status !== 201) return void fail(`POST http ${res.status}`);
      id = res.body.id;
      placed++;
    } catch {
      return void fail("POST socket");
    }
    const deadline = started + CONFIRM_DEADLINE_MS;
    while (performance.now() < deadline) {
      await sleep(POLL_MS);
      polls++;
      try {
        const res = await request<Order>(baseUrl, "GET", `/api/orders/${id}`, {
          token: customer.token,
        });
        if (res.status !== 200) return void fail(`GET http ${res.status}`);
        if (res.body.status === "confirmed") {
          const confirmed = res.body.history.find((h) => h.status === "confirmed");
          if (!confirmed) return void fail("confirmed without a history entry");
          toConfirmed.push(Date.parse(confirmed.at) - sentAt);
          return;
        }
        if (res.body.status !== "pending") return void fail(`order ${res.body.status}`);
      } catch {
        return void fail("GET socket");
      }
    }
    fail(`not confirmed in ${CONFIRM_DEADLINE_MS / 1000} s`);
  };

  const inFlight: Array<Promise<void>> = [];
  const t0 = performance.now();
  for (let n = 0; ; n++) {
    const due = t0 + (n * 1000) / rate;
    if (due - t0 >= durationS * 1000) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(one());
  }
  await Promise.all(inFlight);
  return {
    offeredPerSec: rate,
    durationS,
    offered: inFlight.length,
    answered: postLatencies.length,
    placed,
    confirmed: toConfirmed.length,
    polls,
    postLatencyMs: summary(postLatencies),
    timeToConfirmedMs: summary(toConfirmed),
    errors: Object.values(errorDetail).reduce((a, b) => a + b, 0),
    errorDetail,
  };
}
