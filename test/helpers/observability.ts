/**
 * The test bench's Jaeger and Prometheus (tools/test-bench.sh), read through their HTTP query
 * APIs the way an operator's browser does: Jaeger's /api/traces and Prometheus' /api/v1.
 */
import fs from "node:fs";
import path from "node:path";

/** Where the bench's servers are; a stack test without them fails, it does not skip. */
export function benchServers(): {
  jaeger: string;
  collector: string;
  prometheus: string;
  targets: string;
} {
  const {
    JAEGER_QUERY_URL: jaeger,
    JAEGER_COLLECTOR: collector,
    PROMETHEUS_URL: prometheus,
    PROMETHEUS_TARGETS: targets,
  } = process.env;
  if (!jaeger || !collector || !prometheus || !targets) {
    throw new Error(
      "observability tests need JAEGER_QUERY_URL, JAEGER_COLLECTOR, PROMETHEUS_URL and PROMETHEUS_TARGETS (tools/test-bench.sh)",
    );
  }
  return { jaeger, collector, prometheus, targets };
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  tags: Array<{ key: string; type: string; value: unknown }>;
  processID: string;
  /** Filled in by `findTraces`: the service of the span's process. */
  serviceName: string;
}

/** Traces of `service` with all of `tags`, as Jaeger's query API returns them. */
export async function findTraces(
  jaeger: string,
  service: string,
  tags: Record<string, string>,
): Promise<JaegerSpan[][]> {
  const query = new URLSearchParams({
    service,
    tags: JSON.stringify(tags),
    lookback: "1h",
    limit: "20",
  });
  const res = await fetch(`${jaeger}/api/traces?${query}`);
  if (!res.ok) throw new Error(`Jaeger answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as {
    data: Array<{ spans: JaegerSpan[]; processes: Record<string, { serviceName: string }> }>;
  };
  return body.data.map((trace) =>
    trace.spans.map((s) => ({ ...s, serviceName: trace.processes[s.processID].serviceName })),
  );
}

export function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant PromQL query; throws (with Prometheus' message) on a query that does not parse. */
export async function promQuery(prometheus: string, expr: string): Promise<PromSample[]> {
  const res = await fetch(`${prometheus}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ query: expr }),
  });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: PromSample[] };
  };
  if (body.status !== "success") throw new Error(`PromQL ${expr}: ${body.error}`);
  return body.data!.result;
}

export interface PromAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
}

export async function promAlerts(prometheus: string): Promise<PromAlert[]> {
  const res = await fetch(`${prometheus}/api/v1/alerts`);
  const body = (await res.json()) as { data: { alerts: PromAlert[] } };
  return body.data.alerts;
}

/**
 * The processes of one stack run as a Prometheus file-discovery target file: what the DNS
 * discovery of deploy/prometheus/prometheus.yml finds in compose, with the same
 * `__meta_dns_name` (so the shipped relabelling names the `service`), plus the run's namespace.
 */
export function writeTargets(
  dir: string,
  namespace: string,
  nodes: Array<{ service: string; port: number }>,
): string {
  // The folder of the shipped `commerce-mesh` job (tools/prometheus-bench.mjs): each job reads
  // its own, so no process is scraped twice.
  const jobDir = path.join(dir, "commerce-mesh");
  fs.mkdirSync(jobDir, { recursive: true });
  const file = path.join(jobDir, `${namespace}.json`);
  const groups = nodes.map(({ service, port }) => ({
    targets: [`127.0.0.1:${port}`],
    labels: { __meta_dns_name: service, namespace },
  }));
  // Written whole, then renamed: Prometheus must never read half a file.
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(groups));
  fs.renameSync(`${file}.tmp`, file);
  return file;
}
