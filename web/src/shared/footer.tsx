/**
 * The links of the gateway's former landing page: the API reference, health, this node's
 * metrics (the gateway writes the port into the page's `metrics-port` meta tag) and the docs.
 */
function metricsHref(): string | null {
  const port = document.querySelector<HTMLMetaElement>('meta[name="metrics-port"]')?.content;
  return port ? `http://${location.hostname}:${port}/metrics` : null;
}

export function Footer() {
  const metrics = metricsHref();
  return (
    <footer class="site-footer">
      <nav aria-label="Developer links">
        <ul>
          <li>
            <a href="/api/docs">API reference</a> (
            <a href="/api/openapi.json">OpenAPI 3 document</a>, generated from contracts/)
          </li>
          <li>
            <a href="/api/products">Catalog as JSON</a>
          </li>
          <li>
            <a href="/health/ready">Readiness</a> and <a href="/health/live">liveness</a>
          </li>
          <li>
            {metrics ? (
              <a href={metrics}>Metrics</a>
            ) : (
              <span>
                Metrics: off on this node (set <code>METRICS</code>, <code>METRICS_PORT</code>)
              </span>
            )}
          </li>
        </ul>
      </nav>
      <p>
        In the repository: <code>README.md</code>, <code>docs/API.md</code>,{" "}
        <code>docs/ARCHITECTURE.md</code>, <code>docs/OPERATIONS.md</code> (the operator's runbook),{" "}
        <code>docs/DEPLOY.md</code>. The operator console is at <a href="/console">/console</a>{" "}
        (admins).
      </p>
    </footer>
  );
}
