/**
 * `GET /api/orders/stream` (issue 13): a customer's open stream gets each status change of its
 * own orders, as `GET /api/orders/{id}` answers them, and nothing of another customer's; no
 * token is a 401; a closed stream leaves no subscriber behind; a password change ends it, and so
 * does the end of the token that opened it; one account holds at most MAX_STREAMS_PER_USER.
 * Runs in the embedded default and, unchanged, in the stack run (the status changes then
 * arrive over the transporter as a broadcast).
 */
import { startSystem, type TestSystem } from "../helpers/system";
import { createProduct, type Order, type Product } from "../helpers/shop";
import { openSse, type SseClient, type SseEvent } from "../helpers/sse";
import { waitFor } from "../helpers/wait";
import { MAX_STREAMS_PER_USER, type EventStreams } from "../../services/api/event-stream";

/** Resolves when the stream has ended; fails the test if it is still open after `ms`. */
async function endsWithin(s: SseClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    s.ended,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("still open")), ms))),
  ]).finally(() => clearTimeout(timer));
}

describe("GET /api/orders/stream", () => {
  let sys: TestSystem;
  let product: Product;
  const open: SseClient[] = [];

  beforeAll(async () => {
    sys = await startSystem();
    product = await createProduct(sys.http, await sys.adminToken(), 1000);
  });
  afterEach(() => open.splice(0).forEach((s) => s.close()));
  afterAll(() => sys.stop());

  const stream = async (token?: string) => {
    const s = await openSse(`${sys.baseUrl}/api/orders/stream`, token);
    open.push(s);
    return s;
  };
  const placeOrder = async (token: string, paymentToken = "tok_visa") => {
    const res = await sys.http.post<Order>("/api/orders", {
      token,
      json: { items: [{ productId: product.id, quantity: 1 }], paymentToken },
    });
    expect(res.status).toBe(201);
    return res.body;
  };
  const orderEvent = (id: string, status: string) => (e: SseEvent) =>
    e.event === "order" && (e.data as Order).id === id && (e.data as Order).status === status;
  const openStreams = () =>
    (sys.service("api") as unknown as { orderStreams: EventStreams<string> }).orderStreams.size;

  it("answers 401 without a token, and with a bad one", async () => {
    const anonymous = await stream();
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: 401, type: "UNAUTHORIZED" });
    expect((await stream("not.a.token")).status).toBe(401);
  });

  it("streams the caller's own order from pending to confirmed, and not another customer's", async () => {
    const alice = await sys.customer("alice");
    const bob = await sys.customer("bob");
    const aliceStream = await stream(alice.token);
    const bobStream = await stream(bob.token);
    expect(aliceStream.status).toBe(200);
    expect(aliceStream.contentType).toMatch(/^text\/event-stream/);
    await aliceStream.waitFor((e) => e.event === "ready");
    await bobStream.waitFor((e) => e.event === "ready");
    expect(aliceStream.events[0]).toEqual({ event: "ready", data: {} });

    const order = await placeOrder(alice.token);
    await aliceStream.waitFor(orderEvent(order.id, "pending"));
    const confirmed = await aliceStream.waitFor(orderEvent(order.id, "confirmed"));
    // The event carries the order as the order's own route answers it.
    const read = await sys.http.get<Order>(`/api/orders/${order.id}`, { token: alice.token });
    expect(confirmed.data).toEqual(read.body);

    // Bob's own order reaches Bob's stream after Alice's changes were published: had any of
    // hers been sent to him, it would be there before it.
    const bobs = await placeOrder(bob.token);
    await bobStream.waitFor(orderEvent(bobs.id, "pending"));
    const seenByBob = bobStream.events.filter((e) => e.event === "order");
    expect(seenByBob.map((e) => (e.data as Order).userId)).not.toContain(alice.id);
    expect(seenByBob.length).toBeGreaterThan(0);
    await aliceStream.waitFor(orderEvent(order.id, "confirmed"));
    expect(
      aliceStream.events.filter((e) => e.event === "order").map((e) => (e.data as Order).userId),
    ).not.toContain(bob.id);
  });

  it("streams a declined order's cancellation with its reason", async () => {
    const carol = await sys.customer("carol");
    const carolStream = await stream(carol.token);
    await carolStream.waitFor((e) => e.event === "ready");
    const order = await placeOrder(carol.token, "tok_chargeDeclined");
    const cancelled = await carolStream.waitFor(orderEvent(order.id, "cancelled"));
    expect((cancelled.data as Order).cancelReason).toBe("payment_declined");
  });

  it("forgets a stream once its client goes away", async () => {
    // The streams of the tests before may still be closing.
    await waitFor(
      async () => openStreams(),
      (n) => n === 0,
      5_000,
    );
    const dave = await sys.customer("dave");
    const streams = await Promise.all([stream(dave.token), stream(dave.token)]);
    await Promise.all(streams.map((s) => s.waitFor((e) => e.event === "ready")));
    expect(openStreams()).toBe(2);
    streams.forEach((s) => s.close());
    await waitFor(
      async () => openStreams(),
      (n) => n === 0,
      5_000,
    );
  });

  it("ends the streams of an account whose password changed", async () => {
    const erin = await sys.customer("erin");
    const erinStream = await stream(erin.token);
    await erinStream.waitFor((e) => e.event === "ready");
    const res = await sys.http.patch("/api/users/me", {
      token: erin.token,
      json: { password: "a-new-password-1", currentPassword: "password-123" },
    });
    expect(res.status).toBe(200);
    await endsWithin(erinStream, 5_000);
    await waitFor(
      async () => openStreams(),
      (n) => n === 0,
      5_000,
    );
  });

  it("refuses an account's stream past MAX_STREAMS_PER_USER with 429, and opens one again once one closes", async () => {
    const fay = await sys.customer("fay");
    const streams = await Promise.all(
      Array.from({ length: MAX_STREAMS_PER_USER }, () => stream(fay.token)),
    );
    await Promise.all(streams.map((s) => s.waitFor((e) => e.event === "ready")));
    const over = await stream(fay.token);
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ code: 429, type: "RATE_LIMITED" });
    // Another account's streams are its own.
    const gus = await sys.customer("gus");
    expect((await stream(gus.token)).status).toBe(200);
    streams[0].close();
    const again = await waitFor(
      () => stream(fay.token),
      (s) => s.status === 200,
      5_000,
      100,
    );
    await again.waitFor((e) => e.event === "ready");
  });
});

describe("GET /api/orders/stream with short-lived tokens", () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem(["api", "users"], { JWT_EXPIRES_IN: "3s" });
  });
  afterAll(() => sys.stop());

  it("ends a stream when the token that opened it expires", async () => {
    const hal = await sys.customer("hal");
    const opened = Date.now();
    const s = await openSse(`${sys.baseUrl}/api/orders/stream`, hal.token);
    try {
      expect(s.status).toBe(200);
      await s.waitFor((e) => e.event === "ready");
      await endsWithin(s, 8_000);
      // Not before the token's end (3 s after registering, a moment before the stream opened).
      expect(Date.now() - opened).toBeGreaterThan(1_500);
    } finally {
      s.close();
    }
  });
});
