/** Per action: rates, error rate, p50/p99 and circuit state (`GET /api/admin/actions`, every 2 s). */
import { api, type Schemas } from "../shared/api";
import { usePolled } from "./poll";

const percent = (n: number) => `${(n * 100).toFixed(1)} %`;

export function ActionsPanel() {
  const figures = usePolled<Schemas["ActionsReport"]>(() => api.GET("/api/admin/actions"), 2_000);
  const rows = (figures.data?.actions ?? []).filter(
    (a) => a.requestsPerSecond > 0 || a.p99Ms > 0 || a.circuit !== "closed",
  );
  return (
    <section aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      {figures.error && <p class="alert">{figures.error}</p>}
      {rows.length === 0 ? (
        <p class="muted">No traffic yet (or metrics are off: METRICS=false).</p>
      ) : (
        <table data-testid="actions">
          <caption class="visually-hidden">Per-action figures over about the last minute</caption>
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">Requests/s</th>
              <th scope="col">Errors/s</th>
              <th scope="col">Error rate</th>
              <th scope="col">p50 ms</th>
              <th scope="col">p99 ms</th>
              <th scope="col">Circuit</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.name}>
                <td>{a.name}</td>
                <td>{a.requestsPerSecond.toFixed(2)}</td>
                <td>{a.errorsPerSecond.toFixed(2)}</td>
                <td>{percent(a.errorRate)}</td>
                <td>{a.p50Ms}</td>
                <td>{a.p99Ms}</td>
                <td>{a.circuit.replace("_", "-")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
