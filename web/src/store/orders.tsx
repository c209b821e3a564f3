/**
 * The customer's orders, and one order with its saga shown live: the gateway pushes every
 * status change (live.ts), so pending turns confirmed or cancelled, with the reason, without a
 * reload or polling.
 */
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, problem, type Order } from "../shared/api";
import { money, when } from "../shared/format";
import { useLive, useOrderUpdates } from "./live";

const REASONS: Record<string, string> = {
  payment_declined: "the payment was declined",
  cancelled_by_customer: "you cancelled it",
  payment_timeout: "the payment did not complete in time",
};

function Status({ status }: { status: Order["status"] }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

export function OrderPage({ id }: { id: string }) {
  const [order, setOrder] = useState<Order | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const live = useLive();

  const load = useCallback(() => {
    api
      .GET("/api/orders/{id}", { params: { path: { id } } })
      .then(({ data, error }) => (data ? setOrder(data) : setError(problem(error))))
      .catch((err) => setError(problem(err)));
  }, [id]);
  useEffect(load, [load]);
  useOrderUpdates(
    useCallback(
      (update: Order | null) => {
        if (update === null) load();
        else if (update.id === id) setOrder(update);
      },
      [id, load],
    ),
  );

  async function cancelOrder() {
    setCancelling(true);
    setError(null);
    try {
      const { data, error } = await api.POST("/api/orders/{id}/cancel", {
        params: { path: { id } },
      });
      if (data) setOrder(data);
      else setError(problem(error));
    } catch (err) {
      setError(problem(err));
    } finally {
      setCancelling(false);
    }
  }

  if (!order)
    return error ? (
      <p class="alert" role="alert">
        {error}
      </p>
    ) : (
      <p>Loading…</p>
    );
  return (
    <article aria-labelledby="order-title">
      <h1 id="order-title">Order {order.id}</h1>
      <p aria-live="polite" data-testid="order-status">
        Status: <Status status={order.status} />
        {order.status === "cancelled" && order.cancelReason && (
          <span class="cancel-reason">
            {" "}
            — cancelled because {REASONS[order.cancelReason] ?? order.cancelReason}
          </span>
        )}
      </p>
      <p class="muted">
        {live ? "Live: updates appear as they happen." : "Connecting for live updates…"}
      </p>
      <table>
        <caption class="visually-hidden">Lines of the order</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Quantity</th>
            <th scope="col">Line total</th>
          </tr>
        </thead>
        <tbody>
          {order.items.map((item) => (
            <tr key={item.productId}>
              <td>{item.name}</td>
              <td>{item.quantity}</td>
              <td>{money(item.lineTotal, order.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="price">Total: {money(order.total, order.currency)}</p>
      <h2>History</h2>
      <ol>
        {order.history.map((step, i) => (
          <li key={i}>
            <Status status={step.status} /> {when(step.at)}
            {step.reason ? ` (${REASONS[step.reason] ?? step.reason})` : ""}
          </li>
        ))}
      </ol>
      {(order.status === "pending" || order.status === "confirmed") && (
        <button
          type="button"
          class="secondary cancel-order"
          disabled={cancelling}
          onClick={() => void cancelOrder()}
        >
          Cancel this order
        </button>
      )}
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

export function OrdersPage() {
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api
      .GET("/api/orders", { params: { query: { pageSize: 50 } } })
      .then(({ data, error }) => (data ? setOrders(data.rows) : setError(problem(error))))
      .catch((err) => setError(problem(err)));
  }, []);
  useEffect(load, [load]);
  useOrderUpdates(useCallback(() => load(), [load]));

  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">Your orders</h1>
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      {orders && orders.length === 0 && <p>No orders yet.</p>}
      {orders && orders.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Total</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((order) => (
              <tr key={order.id}>
                <td>
                  <a href={`#/orders/${order.id}`}>{order.id}</a>
                </td>
                <td>{when(order.createdAt)}</td>
                <td>{money(order.total, order.currency)}</td>
                <td>
                  <Status status={order.status} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
