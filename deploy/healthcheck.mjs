/* global process, fetch, AbortSignal */
// Container health check (Dockerfile HEALTHCHECK, docker-compose.yml): exit 0 when this node is
// ready — broker started, transporter connected, database answering (lib/health.ts). Every node
// answers on HEALTH_PORT (3100), gateway or not; never /metrics, which answers 200 while NATS
// and Mongo are gone.
const url = `http://127.0.0.1:${process.env.HEALTH_PORT || 3100}/health/ready`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
