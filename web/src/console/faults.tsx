/** Fault injection on every node: each node's rules, a form to set one, clear one or all. */
import { useState } from "preact/hooks";
import { api, problem, type Schemas } from "../shared/api";
import { usePolled } from "./poll";

export function FaultsPanel() {
  const faults = usePolled<Schemas["FaultReports"]>(() => api.GET("/api/admin/faults"), 5_000);
  const [error, setError] = useState<string | null>(null);

  async function set(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const target = String(form.get("target") ?? "").trim();
    const { error } = await api.PUT("/api/admin/faults/{target}", {
      params: { path: { target } },
      body: {
        error: Number(form.get("error") ?? 0),
        latencyMs: Number(form.get("latencyMs") ?? 0),
        retryable: form.get("retryable") === "on",
      },
    });
    setError(error ? problem(error) : null);
    await faults.refresh();
  }

  async function clear(target?: string) {
    const { error } = target
      ? await api.DELETE("/api/admin/faults/{target}", { params: { path: { target } } })
      : await api.DELETE("/api/admin/faults");
    setError(error ? problem(error) : null);
    await faults.refresh();
  }

  const rules = (faults.data?.nodes ?? []).flatMap((n) =>
    n.rules.map((r) => ({ ...r, nodeID: n.nodeID, injected: n.injected[r.target] ?? 0 })),
  );
  return (
    <section aria-labelledby="faults-title">
      <h2 id="faults-title">Faults</h2>
      <form class="form" onSubmit={set} aria-label="Set a fault on every node">
        <label>
          Target (service.action or service:event)
          <input name="target" required placeholder="payments:order.created" />
        </label>
        <label>
          Error probability (0 to 1)
          <input name="error" type="number" min="0" max="1" step="0.05" value="1" />
        </label>
        <label>
          Latency (ms)
          <input name="latencyMs" type="number" min="0" max="60000" step="50" value="0" />
        </label>
        <label>
          <input name="retryable" type="checkbox" /> Retryable
        </label>
        <button type="submit">Set fault</button>
      </form>
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      {rules.length === 0 ? (
        <p class="muted" data-testid="no-faults">
          No faults on any node.
        </p>
      ) : (
        <>
          <table data-testid="faults">
            <caption class="visually-hidden">Fault rules by node</caption>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Target</th>
                <th scope="col">Error</th>
                <th scope="col">Latency ms</th>
                <th scope="col">Injected</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r) => (
                <tr key={`${r.nodeID}-${r.target}`}>
                  <td>{r.nodeID}</td>
                  <td>{r.target}</td>
                  <td>{r.error}</td>
                  <td>{r.latencyMs}</td>
                  <td>{r.injected}</td>
                  <td>
                    <button type="button" class="secondary" onClick={() => void clear(r.target)}>
                      Clear <span class="visually-hidden">{r.target}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => void clear()}>
            Clear every fault
          </button>
        </>
      )}
    </section>
  );
}
