import { Errors, ServiceBroker } from "moleculer";
import { RanActionErrors, SAFE_TO_REPEAT, shouldRetry } from "../../lib/retry";
import { brokerOptions } from "../../moleculer.config";
import { config } from "../../lib/config";
import { SERVICE_SCHEMAS } from "../../services";

describe("retry policy", () => {
  it("lists only actions that exist", () => {
    const actions = new Set(
      Object.values(SERVICE_SCHEMAS).flatMap((schema) => [
        ...Object.keys(schema.actions ?? {}).map((a) => `${schema.name}.${a}`),
        `${schema.name}.stats`, // every data service gets it from the db mixin
      ]),
    );
    expect([...SAFE_TO_REPEAT].filter((a) => !actions.has(a))).toEqual([]);
  });

  it("repeats a call that never ran, for any action", () => {
    expect(
      shouldRetry(new Errors.ServiceNotAvailableError({ action: "orders.create", nodeID: "n" })),
    ).toBe(true);
    expect(
      shouldRetry(
        new Errors.QueueIsFullError({ action: "orders.create", nodeID: "n", size: 1, limit: 1 }),
      ),
    ).toBe(true);
  });

  it("repeats a call that may have run only when the action is safe to repeat", () => {
    const timeout = (action: string) => new Errors.RequestTimeoutError({ action, nodeID: "n" });
    expect(shouldRetry(timeout("products.get"))).toBe(true);
    expect(shouldRetry(timeout("products.reserve"))).toBe(true);
    expect(shouldRetry(timeout("orders.create"))).toBe(false);
    expect(shouldRetry(timeout("users.register"))).toBe(false);
    expect(
      shouldRetry(new Errors.RequestRejectedError({ action: "orders.cancel", nodeID: "n" })),
    ).toBe(false);
  });

  it("never repeats a client error", () => {
    expect(shouldRetry(new Errors.MoleculerClientError("bad", 422, "VALIDATION_ERROR"))).toBe(
      false,
    );
  });

  it("does not repeat an action whose handler ran, whatever inner call failed inside it", async () => {
    const broker = new ServiceBroker({
      ...brokerOptions(config()),
      transporter: null,
      logger: false,
      middlewares: [RanActionErrors],
    });
    const runs: Record<string, number> = {};
    // Both handlers fail the way a timed-out inner read does: a retryable REQUEST_TIMEOUT
    // naming a read that is safe to repeat.
    const failing = (name: string) => () => {
      runs[name] = (runs[name] ?? 0) + 1;
      throw new Errors.RequestTimeoutError({ action: "products.list", nodeID: "n" });
    };
    broker.createService({ name: "orders", actions: { create: failing("orders.create") } });
    broker.createService({ name: "products", actions: { get: failing("products.get") } });
    await broker.start();
    try {
      await expect(broker.call("orders.create")).rejects.toMatchObject({ type: "REQUEST_TIMEOUT" });
      await expect(broker.call("products.get")).rejects.toMatchObject({ type: "REQUEST_TIMEOUT" });
      expect(runs).toEqual({ "orders.create": 1, "products.get": 3 });
    } finally {
      await broker.stop();
    }
  });
});
