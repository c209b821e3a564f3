/**
 * The circuit breaker and the bulkhead of moleculer.config.ts, through the gateway: what a
 * client sees when an action keeps failing or is flooded. The thresholds, the failure check and
 * the queue sizes are the project's; only the circuit breaker's half-open wait is shortened
 * (10 s in production) to keep the test short.
 */
import { Errors, type Context, type ServiceSchema } from "moleculer";
import api, { NEEDED_SERVICES } from "../../services/api.service";
import { selectServices } from "../../services";
import { brokerOptions } from "../../moleculer.config";
import { config } from "../../lib/config";
import { FAULTS_CLEAR, FAULTS_SET, parseRule, type FaultReport } from "../../middlewares/faults";
import { startTuned, type TunedSystem } from "../helpers/tuned-system";
import { waitFor } from "../helpers/wait";
import type { Product } from "../helpers/shop";

const UNAVAILABLE = {
  name: "ServiceUnavailableError",
  code: 503,
  type: "SERVICE_UNAVAILABLE",
};

describe("the circuit breaker", () => {
  const HALF_OPEN_MS = 1_500;
  const cb = brokerOptions(config()).circuitBreaker!;
  let sys: TunedSystem;

  beforeAll(async () => {
    sys = await startTuned(selectServices(["api", "users", "products"]), {
      tune: (o) => ({
        ...o,
        logger: false,
        circuitBreaker: { ...o.circuitBreaker, halfOpenTime: HALF_OPEN_MS },
      }),
    });
  });
  afterAll(() => sys?.stop());

  const injected = async () =>
    (await sys.broker.call<FaultReport>("$faults.list")).injected["products.get"] ?? 0;

  it("opens after the configured failures (fast 503s), half-opens and closes on a good probe", async () => {
    expect(cb).toMatchObject({ enabled: true, threshold: 0.5, minRequestCount: 20 });
    const admin = await sys.http.post<{ token: string }>("/api/auth/login", {
      json: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
    });
    const created = await sys.http.post<Product>("/api/products", {
      token: admin.body.token,
      json: { sku: "CB-1", name: "Breaker", price: 100, stock: 1 },
    });
    expect(created.status).toBe(201);

    // products.get fails every call with a server error (middlewares/faults.ts), before its
    // handler; each request asks for an id never read, so no cached answer hides the fault.
    await sys.broker.broadcast(FAULTS_SET, { rules: [parseRule("products.get error=1")] });
    for (let i = 0; i < cb.minRequestCount!; i++) {
      const res = await sys.http.get(`/api/products/missing-${i}`);
      expect(res).toMatchObject({ status: 503, body: UNAVAILABLE });
    }
    // Every one of them reached the action: the circuit stayed closed up to the threshold.
    expect(await injected()).toBe(cb.minRequestCount);

    // The dependency recovers at once, but the circuit is open: the next call fails fast,
    // without reaching the action, although the product exists.
    await sys.broker.broadcast(FAULTS_CLEAR, {});
    const openedAt = Date.now();
    const fast = await sys.http.get(`/api/products/${created.body.id}`);
    expect(fast).toMatchObject({ status: 503, body: UNAVAILABLE });
    expect(await injected()).toBe(cb.minRequestCount);

    // After halfOpenTime a probe goes through and closes the circuit again.
    const recovered = await waitFor(
      () => sys.http.get<Product>(`/api/products/${created.body.id}`),
      (res) => res.status === 200,
      HALF_OPEN_MS + 10_000,
    );
    expect(recovered.body.id).toBe(created.body.id);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(HALF_OPEN_MS - 100);
    for (let i = 0; i < 5; i++) {
      expect((await sys.http.get(`/api/products/missing-after-${i}`)).status).toBe(404);
    }
  });
});

describe("the bulkhead", () => {
  const { concurrency, maxQueueSize } = brokerOptions(config()).bulkhead as {
    concurrency: number;
    maxQueueSize: number;
  };
  let sys: TunedSystem;
  let running = 0;
  let maxRunning = 0;
  let entered = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    // The gateway with stand-ins for the services it needs; products.get waits at a gate.
    const standIns: ServiceSchema[] = NEEDED_SERVICES.map((name) => ({ name, actions: {} }));
    standIns.find((s) => s.name === "products")!.actions!.get = async (
      ctx: Context<{ id: string }>,
    ) => {
      entered++;
      maxRunning = Math.max(maxRunning, ++running);
      await gate;
      running--;
      // A contract-shaped answer: the test client checks every answer against the OpenAPI.
      const at = new Date().toISOString();
      const product: Product = {
        ...{ id: ctx.params.id, sku: "HELD-1", name: "Held", description: "", price: 1 },
        ...{ currency: "USD", stock: 1, createdAt: at, updatedAt: at },
      };
      return product;
    };
    sys = await startTuned([api, ...standIns], {
      tune: (o) => ({ ...o, transporter: null, logger: false }),
    });
  });
  afterAll(async () => {
    release();
    await sys?.stop();
  });

  it("runs the configured number at once, queues the rest, and refuses past the queue with 503", async () => {
    expect({ concurrency, maxQueueSize }).toEqual({ concurrency: 100, maxQueueSize: 1000 });
    const held = Array.from({ length: concurrency + maxQueueSize }, (_, i) =>
      sys.broker.call<{ id: string }, { id: string }>("products.get", { id: `held-${i}` }),
    );
    await waitFor(
      async () => entered,
      (n) => n === concurrency,
    );

    // The queue is full: a direct call is refused with the bulkhead's own error ...
    await expect(sys.broker.call("products.get", { id: "one-more" })).rejects.toMatchObject({
      type: "QUEUE_FULL",
      constructor: Errors.QueueIsFullError,
    });
    // ... and a client gets the contract's 503 at once, while the gate is still closed.
    const refused = await sys.http.get("/api/products/one-more");
    expect(refused).toMatchObject({ status: 503, body: UNAVAILABLE });
    expect(entered).toBe(concurrency);

    // Opened, every queued call runs, never more than `concurrency` at a time.
    release();
    const answers = await Promise.all(held);
    expect(answers.map((a) => a.id)).toEqual(held.map((_, i) => `held-${i}`));
    expect(maxRunning).toBe(concurrency);
    expect(entered).toBe(concurrency + maxQueueSize);
    expect(await sys.http.get("/api/products/after")).toMatchObject({
      status: 200,
      body: { id: "after" },
    });
  });
});
