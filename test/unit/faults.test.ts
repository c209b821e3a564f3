/** The fault-injection rules and middleware (middlewares/faults.ts) in one in-process broker. */
import { ServiceBroker } from "moleculer";
import {
  FAULTS_CLEAR,
  FAULTS_SET,
  FaultsMiddleware,
  InjectedFaultError,
  describeRule,
  parseRule,
  parseRules,
} from "../../middlewares/faults";

describe("fault rules", () => {
  it("parses the REPL's syntax and FAULTS lists", () => {
    expect(parseRule("payments:order.created error=0.5 latency=200ms")).toEqual({
      target: "payments:order.created",
      error: 0.5,
      latencyMs: 200,
      retryable: false,
    });
    expect(parseRule("users.* latency=1.5s retryable")).toMatchObject({
      latencyMs: 1500,
      retryable: true,
    });
    expect(parseRules(" users.me latency=5 ;; orders.create error=1 ").map(describeRule)).toEqual([
      "users.me latency=5ms",
      "orders.create error=1",
    ]);
  });

  it("refuses rules that are wrong or do nothing", () => {
    expect(() => parseRule("users.me error=1.5")).toThrow(/probability/);
    expect(() => parseRule("users.me latency=fast")).toThrow(/duration/);
    expect(() => parseRule("users.me colour=red")).toThrow(/unknown fault setting/);
    expect(() => parseRule("users.me")).toThrow(/does nothing/);
    expect(() => parseRule("")).toThrow(/needs a target/);
  });
});

describe("the faults middleware", () => {
  let broker: ServiceBroker;
  const seen: string[] = [];

  beforeAll(async () => {
    broker = new ServiceBroker({
      logger: false,
      middlewares: [FaultsMiddleware(parseRules("echo.slow latency=50"))],
    });
    broker.createService({
      name: "echo",
      actions: { hello: () => "hello", slow: () => "slow" },
      events: { "thing.happened": () => void seen.push("handled") },
    });
    await broker.start();
  });
  afterAll(() => broker.stop());

  it("applies FAULTS from the start: a delay before the handler", async () => {
    const started = Date.now();
    expect(await broker.call("echo.slow")).toBe("slow");
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("fails an action with a non-retryable 503 when set, and stops when cleared", async () => {
    await broker.broadcast(FAULTS_SET, { rules: [parseRule("echo.hello error=1")] });
    const err = await broker.call("echo.hello").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InjectedFaultError);
    expect(err).toMatchObject({ code: 503, type: "SERVICE_UNAVAILABLE", retryable: false });
    await broker.broadcast(FAULTS_CLEAR, { target: "echo.hello" });
    expect(await broker.call("echo.hello")).toBe("hello");
  });

  it("fails event handlers by service:event, and lists what it injected", async () => {
    await broker.broadcast(FAULTS_SET, { rules: [parseRule("echo:thing.* error=1")] });
    await broker.emit("thing.happened", {});
    expect(seen).toEqual([]);
    await broker.broadcast(FAULTS_CLEAR, {});
    await broker.emit("thing.happened", {});
    expect(seen).toEqual(["handled"]);
    const report = await broker.call<{ injected: Record<string, number> }>("$faults.list");
    expect(report.injected).toEqual({ "echo.hello": 1, "echo:thing.happened": 1 });
  });
});
