/**
 * Tracing across processes: every node exports to a Jaeger collector endpoint through
 * jaeger-client (moleculer's Jaeger exporter); one request yields one trace whose spans link
 * gateway → service across the NATS hop.
 */
import { Cluster } from "../helpers/cluster";
import { client } from "../helpers/http";
import { JaegerCollector, NO_PARENT, type CollectedSpan } from "../helpers/jaeger-collector";

describe("Jaeger traces across processes", () => {
  const collector = new JaegerCollector();
  let cluster: Cluster;

  beforeAll(async () => {
    const endpoint = await collector.start();
    cluster = new Cluster({ JAEGER_ENDPOINT: endpoint, SEED_DEMO_DATA: "true" });
    await cluster.start("gateway", ["api"]);
    await cluster.start("catalog", ["products"]);
  });
  afterAll(async () => {
    await cluster.stopAll();
    await collector.stop();
  });

  it("links the gateway's span and the products span of one request into one trace", async () => {
    const http = client(cluster.baseUrl("gateway"));
    await waitFor(async () => (await http.get("/api/products?pageSize=3")).status === 200);
    const requestId = "trace-probe-1";
    expect(
      (await http.get("/api/products?pageSize=4", { headers: { "x-request-id": requestId } }))
        .status,
    ).toBe(200);

    let trace: CollectedSpan[] = [];
    await waitFor(async () => {
      trace = collector.traceOf(
        (s) => s.operationName === "action 'products.list'" && s.tags.requestID === requestId,
      );
      return (
        trace.some((s) => s.serviceName === "api") &&
        trace.some((s) => s.serviceName === "products")
      );
    });

    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const list = trace.find((s) => s.operationName === "action 'products.list'")!;
    expect(list.serviceName).toBe("products");
    // Its parent is a gateway span, reached through the NATS hop.
    const parent = byId.get(list.parentSpanId);
    expect(parent?.serviceName).toBe("api");
    const roots = trace.filter((s) => s.parentSpanId === NO_PARENT || !byId.has(s.parentSpanId));
    expect(roots).toHaveLength(1);
    expect(roots[0].serviceName).toBe("api");
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
