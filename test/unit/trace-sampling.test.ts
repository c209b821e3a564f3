/**
 * TRACING_SAMPLE_RATE: read by lib/config.ts, handed to the broker's tracer by
 * moleculer.config.ts; a broker built from those options records that share of its traces.
 */
import { ServiceBroker, TracerExporters } from "moleculer";
import { ConfigError, loadConfig } from "../../lib/config";
import { brokerOptions } from "../../moleculer.config";

/** An exporter that keeps the root spans the tracer decided to record. */
class Recorder extends TracerExporters.Base {
  roots: string[] = [];
  override spanFinished(span: { parentID?: string | null; name: string }): void {
    if (!span.parentID) this.roots.push(span.name);
  }
}

async function recordedOf(rate: string, calls: number): Promise<number> {
  const opts = brokerOptions(
    loadConfig({ NODE_ENV: "test", TRACING: "true", TRACING_SAMPLE_RATE: rate }),
  );
  const recorder = new Recorder({});
  // Moleculer takes an exporter instance (its resolver checks `instanceof Base`), but its typings
  // list only `{ type, options }` objects and names: hence the cast below.
  const broker = new ServiceBroker({
    logger: false,
    tracing: { ...(opts.tracing as object), exporter: [recorder as never] },
  });
  broker.createService({ name: "probe", actions: { hello: () => "hi" } });
  await broker.start();
  try {
    for (let i = 0; i < calls; i++) await broker.call("probe.hello");
  } finally {
    await broker.stop();
  }
  return recorder.roots.length;
}

describe("trace sampling (TRACING_SAMPLE_RATE)", () => {
  it("defaults to every trace and reads a share from 0 to 1", () => {
    expect(loadConfig({}).tracing.sampleRate).toBe(1);
    expect(loadConfig({ TRACING_SAMPLE_RATE: "0.1" }).tracing.sampleRate).toBe(0.1);
    expect(loadConfig({ TRACING_SAMPLE_RATE: "0" }).tracing.sampleRate).toBe(0);
  });

  it.each(["ten percent", "1.5", "-0.1", "NaN"])(
    "refuses TRACING_SAMPLE_RATE=%s in one line",
    (value) => {
      let refusal: unknown;
      try {
        loadConfig({ TRACING_SAMPLE_RATE: value });
      } catch (err) {
        refusal = err;
      }
      expect(refusal).toBeInstanceOf(ConfigError);
      expect((refusal as ConfigError).variable).toBe("TRACING_SAMPLE_RATE");
      expect((refusal as ConfigError).message).toBe(
        `TRACING_SAMPLE_RATE=${value} is not valid: TRACING_SAMPLE_RATE must be a number from 0 to 1`,
      );
    },
  );

  it("records that share of the broker's traces", async () => {
    expect(await recordedOf("1", 20)).toBe(20);
    expect(await recordedOf("0.25", 20)).toBe(5);
    expect(await recordedOf("0", 20)).toBe(0);
  });
});
