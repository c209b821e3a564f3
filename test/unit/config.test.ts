import { Cachers } from "moleculer";
import { loadConfig } from "../../lib/config";
import { brokerOptions, redisOptions } from "../../moleculer.config";
import { NamedNatsTransporter } from "../../lib/nats-transporter";

describe("configuration from the environment", () => {
  it("defaults to the embedded default: no transporter, memory cacher, NeDB files in ./data", () => {
    const cfg = loadConfig({ NODE_ENV: "development" });
    expect(cfg.transporter).toBeUndefined();
    expect(cfg.mongoUri).toBeUndefined();
    expect(cfg.dataDir).toMatch(/\/data$/);
    expect(cfg.port).toBe(3000);
    const opts = brokerOptions(cfg);
    expect(opts.transporter).toBeNull();
    expect(opts.cacher).toBeInstanceOf(Cachers.MemoryLRU);
    expect(opts.tracking).toMatchObject({ enabled: true });
  });

  it("keeps NeDB in memory under test unless DATA_DIR is given", () => {
    expect(loadConfig({ NODE_ENV: "test" }).dataDir).toBeNull();
    expect(loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp/x" }).dataDir).toBe("/tmp/x");
    expect(loadConfig({ DATA_DIR: ":memory:" }).dataDir).toBeNull();
  });

  it("points the broker at NATS and Redis when the variables name them", () => {
    const cfg = loadConfig({
      TRANSPORTER: "nats://nats:4222",
      CACHER: "redis://:s3cret@redis:6380/2",
      NAMESPACE: "shop",
    });
    const opts = brokerOptions(cfg);
    expect(opts.transporter).toBeInstanceOf(NamedNatsTransporter);
    expect((opts.transporter as NamedNatsTransporter).opts).toMatchObject({
      servers: ["nats:4222"],
    });
    expect(opts.cacher).toBeInstanceOf(Cachers.Redis);
    expect((opts.cacher as Cachers.Redis).opts).toMatchObject({
      prefix: "MOL-shop",
      redis: { host: "redis", port: 6380, password: "s3cret", db: 2 },
    });
  });

  it("refuses what it cannot honour, with a clear message", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/JWT_SECRET must be set/);
    expect(() => loadConfig({ JWT_SECRET: "short" })).toThrow(/at least 32/);
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT must be a non-negative integer/);
    expect(() => brokerOptions(loadConfig({ TRANSPORTER: "amqp://x" }))).toThrow(/nats:\/\//);
    expect(() => redisOptions("http://x")).toThrow(/redis:\/\//);
    const secret = "x".repeat(32);
    expect(() =>
      loadConfig({
        NODE_ENV: "production",
        JWT_SECRET: secret,
        CRASH_AFTER_WRITE: "order.created",
      }),
    ).toThrow(/CRASH_AFTER_WRITE is a test fault hook/);
    expect(loadConfig({ CRASH_AFTER_WRITE: "order.created" }).outbox.crashAfterWrite).toBe(
      "order.created",
    );
  });

  it("picks the services of a process from SERVICES", () => {
    expect(loadConfig({ SERVICES: "api, orders" }).services).toEqual(["api", "orders"]);
    expect(loadConfig({}).services).toBeNull();
  });
});
