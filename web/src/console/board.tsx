/** The saga board: orders per status and the stuck ones, each with a re-drive button. */
import { useState } from "preact/hooks";
import { api, problem, type Schemas } from "../shared/api";
import { usePolled } from "./poll";

export function BoardPanel() {
  const board = usePolled<Schemas["OrderBoard"]>(() => api.GET("/api/admin/orders/board"), 2_000);
  const [message, setMessage] = useState<string | null>(null);

  async function redrive(id: string) {
    const { data, error } = await api.POST("/api/admin/orders/{id}/redrive", {
      params: { path: { id } },
    });
    setMessage(
      data
        ? `Re-drove ${id}: ${data.effects.join(", ") || "nothing was due"}`
        : `Re-drive of ${id} failed: ${problem(error)}`,
    );
    await board.refresh();
  }

  const counts = board.data?.counts;
  return (
    <section aria-labelledby="board-title">
      <h2 id="board-title">Saga board</h2>
      {board.error && <p class="alert">{board.error}</p>}
      {counts && (
        <p data-testid="order-counts">
          {(["pending", "confirmed", "cancelled", "reserving", "abandoned"] as const).map((s) => (
            <span key={s} class="badge">
              {s}: <strong data-status={s}>{counts[s]}</strong>
            </span>
          ))}
        </p>
      )}
      {message && <p role="status">{message}</p>}
      {board.data && board.data.stuck.length === 0 ? (
        <p class="muted">No stuck orders.</p>
      ) : (
        <table data-testid="stuck">
          <caption>Stuck orders (past their step's deadline)</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Status</th>
              <th scope="col">Next step</th>
              <th scope="col">Deadline</th>
              <th scope="col">Attempts</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {(board.data?.stuck ?? []).map((o) => (
              <tr key={o.id} data-order={o.id}>
                <td>{o.id}</td>
                <td>{o.status}</td>
                <td>{o.step}</td>
                <td>{new Date(o.deadline).toLocaleTimeString()}</td>
                <td>{o.attempts}</td>
                <td>
                  <button type="button" onClick={() => void redrive(o.id)}>
                    Re-drive <span class="visually-hidden">order {o.id}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
