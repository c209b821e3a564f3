/**
 * The customer's notifications and their unread count. The notifications service writes one
 * when an order is confirmed or cancelled, moments after the status change the page was told
 * of: the count is read again on each change, and once more shortly after it.
 */
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, problem, type Notification } from "../shared/api";
import { when } from "../shared/format";
import { useOrderUpdates } from "./live";

const AFTER_CHANGE_MS = 1_500;
const listeners = new Set<() => void>();

/** Someone read a notification: every count on the page is read again. */
function notificationsChanged(): void {
  for (const listener of listeners) listener();
}

function useRefresh(load: () => void): void {
  useEffect(() => {
    load();
    listeners.add(load);
    return () => void listeners.delete(load);
  }, [load]);
  useOrderUpdates(
    useCallback(() => {
      load();
      setTimeout(load, AFTER_CHANGE_MS);
    }, [load]),
  );
}

export function useUnreadCount(signedIn: boolean): number {
  const [count, setCount] = useState(0);
  const load = useCallback(() => {
    if (!signedIn) return setCount(0);
    api
      .GET("/api/notifications", { params: { query: { unread: true, pageSize: 1 } } })
      .then(({ data }) => data && setCount(data.total))
      .catch(() => undefined);
  }, [signedIn]);
  useRefresh(load);
  return count;
}

export function NotificationsPage() {
  const [rows, setRows] = useState<Notification[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api
      .GET("/api/notifications", { params: { query: { pageSize: 50 } } })
      .then(({ data, error }) => (data ? setRows(data.rows) : setError(problem(error))))
      .catch((err) => setError(problem(err)));
  }, []);
  useRefresh(load);

  async function markRead(id: string) {
    const { error } = await api.POST("/api/notifications/{id}/read", { params: { path: { id } } });
    if (error) setError(problem(error));
    notificationsChanged();
  }

  return (
    <section aria-labelledby="notifications-title">
      <h1 id="notifications-title">Notifications</h1>
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      {rows && rows.length === 0 && <p>Nothing yet.</p>}
      <ul class="grid">
        {rows?.map((n) => (
          <li key={n.id} class={`card notification${n.readAt ? "" : " unread"}`}>
            <h3>{n.subject}</h3>
            <p>{n.body}</p>
            <p class="muted">
              {when(n.createdAt)} · {n.readAt ? "read" : "unread"}
            </p>
            {!n.readAt && (
              <button type="button" class="secondary" onClick={() => void markRead(n.id)}>
                Mark as read<span class="visually-hidden">: {n.subject}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
