/**
 * The live mesh: every node and the services it runs, from `GET /api/admin/nodes`, read again
 * each time `GET /api/admin/stream` reports a node joining or leaving (listed as they come).
 */
import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../shared/api";
import { readEventStream } from "../shared/sse";
import { usePolled } from "./poll";

type NodeChange = { id: string; change: "connected" | "disconnected" };

export function MeshPanel({ token }: { token: string }) {
  const nodes = usePolled<Schemas["MeshNodes"]>(() => api.GET("/api/admin/nodes"), 30_000);
  const [changes, setChanges] = useState<Array<NodeChange & { at: string }>>([]);
  const [live, setLive] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    void readEventStream("/api/admin/stream", {
      token,
      signal: abort.signal,
      onStatus: setLive,
      onEvent(event) {
        if (event.event !== "node") return;
        const change = JSON.parse(event.data) as NodeChange;
        const at = new Date().toLocaleTimeString();
        setChanges((list) => [{ ...change, at }, ...list].slice(0, 20));
        void nodes.refresh();
      },
    });
    return () => abort.abort();
  }, [token]);

  return (
    <section aria-labelledby="mesh-title">
      <h2 id="mesh-title">Mesh</h2>
      <p class="muted" role="status">
        {live ? "Live: nodes joining and leaving show here as it happens." : "Connecting…"}
      </p>
      {nodes.error && <p class="alert">{nodes.error}</p>}
      <table data-testid="nodes">
        <caption class="visually-hidden">Nodes and their services</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Host</th>
            <th scope="col">State</th>
            <th scope="col">Services (actions)</th>
          </tr>
        </thead>
        <tbody>
          {(nodes.data?.nodes ?? []).map((node) => (
            <tr key={node.id} data-node={node.id}>
              <td>
                {node.id}
                {node.local ? " (this gateway)" : ""}
              </td>
              <td>{node.hostname}</td>
              <td>{node.available ? "up" : "gone"}</td>
              <td>{node.services.map((s) => `${s.name} (${s.actions})`).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {changes.length > 0 && (
        <>
          <h3>Joined and left</h3>
          <ul data-testid="node-changes">
            {changes.map((c, i) => (
              <li key={`${c.id}-${i}`}>
                {c.at}: {c.id} {c.change}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
