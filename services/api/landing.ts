/**
 * The page at `/`: where a newcomer who opens the gateway in a browser finds the API reference,
 * health, metrics and the documentation. Plain HTML with no style, script or external resource,
 * so the gateway's `Content-Security-Policy: default-src 'none'` holds for it too.
 */

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** The host name the browser used: the Host header without its port. */
function hostnameOf(hostHeader: string | undefined): string {
  try {
    return new URL(`http://${hostHeader ?? "localhost"}`).hostname;
  } catch {
    return "localhost";
  }
}

/** `metricsPort`: where this node serves its metrics; `null` when it does not. */
export function landingPage(hostHeader: string | undefined, metricsPort: number | null): string {
  const hostname = hostnameOf(hostHeader);
  const metrics =
    metricsPort === null
      ? "<li>Metrics: off on this node (set <code>METRICS</code>, <code>METRICS_PORT</code>)</li>"
      : `<li><a href="http://${escapeHtml(hostname)}:${metricsPort}/metrics">Metrics</a> (Prometheus text)</li>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>commerce-mesh</title>
</head>
<body>
<h1>commerce-mesh</h1>
<p>An online shop of Moleculer services behind this gateway. Everything is under <code>/api</code>.</p>
<ul>
<li><a href="/api/docs">API reference</a> (<a href="/api/openapi.json">OpenAPI 3 document</a>, generated from contracts/)</li>
<li><a href="/api/products">Catalog</a> (<code>GET /api/products</code>)</li>
<li><a href="/health/ready">Readiness</a>: 200, or 503 naming what is missing</li>
<li><a href="/health/live">Liveness</a></li>
${metrics}
</ul>
<h2>Documentation</h2>
<p>In the repository: <code>README.md</code> (start, cluster, configuration),
<code>docs/API.md</code> (the REST API), <code>docs/ARCHITECTURE.md</code> (how it is built),
<code>docs/OPERATIONS.md</code> (the operator's runbook), <code>docs/DEPLOY.md</code> (Docker, Kubernetes).</p>
<p>Admin routes answer 403 until an admin exists: start a node with <code>ADMIN_EMAIL</code> and
<code>ADMIN_PASSWORD</code> set to create one.</p>
</body>
</html>
`;
}
