/* global process, fetch, AbortSignal */
// Container health check (Dockerfile HEALTHCHECK): exit 0 when this node answers.
// A node with the gateway (SERVICES unset means all services, so it has one) must answer
// /health/live; any other node has no HTTP server but the Prometheus reporter on METRICS_PORT.
const services = (process.env.SERVICES ?? "").split(",").map((s) => s.trim());
const hasGateway = services.every((s) => s === "" || s === "*") || services.includes("api");
const url = hasGateway
  ? `http://127.0.0.1:${process.env.PORT || 3000}/health/live`
  : `http://127.0.0.1:${process.env.METRICS_PORT || 3030}/metrics`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
