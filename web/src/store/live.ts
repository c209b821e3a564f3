/**
 * The signed-in user's order updates, pushed by the gateway (`GET /api/orders/stream`): one
 * connection for the whole page, shared by the order page (the saga moving) and the header
 * (a confirmation or cancellation brings a notification).
 */
import { useEffect, useState } from "preact/hooks";
import type { Order } from "../shared/api";
import { readEventStream } from "../shared/sse";

type Listener = (order: Order | null) => void;
const listeners = new Set<Listener>();
let connection: AbortController | null = null;
let following: string | null = null;
let connected = false;
const statusListeners = new Set<(connected: boolean) => void>();

/** Opens the stream for `token` (closing any other); null closes it. */
export function followOrders(token: string | null): void {
  following = token;
  connection?.abort();
  connection = null;
  setConnected(false);
  if (!token) return;
  const controller = new AbortController();
  connection = controller;
  void readEventStream("/api/orders/stream", {
    token,
    signal: controller.signal,
    onStatus: setConnected,
    onEvent(event) {
      // `ready` (null): what happened while not connected is unknown, so readers fetch again.
      const order = event.event === "order" ? (JSON.parse(event.data) as Order) : null;
      if (event.event === "order" || event.event === "ready")
        for (const listener of listeners) listener(order);
    },
  });
}

// A page left for another may be kept for the Back button (the back/forward cache) with its
// fetches still open: over HTTP/1.1 the browser opens at most six connections to one host, and
// a few such pages holding their streams would leave none for the page in front. The stream
// closes when the page is hidden and opens again if it comes back.
addEventListener("pagehide", () => {
  connection?.abort();
  connection = null;
});
addEventListener("pageshow", (event) => {
  if (event.persisted) followOrders(following);
});

function setConnected(value: boolean): void {
  connected = value;
  for (const listener of statusListeners) listener(value);
}

/** Calls `listener` with each order update, and with null whenever the stream (re)connects. */
export function useOrderUpdates(listener: Listener): void {
  useEffect(() => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, [listener]);
}

export function useLive(): boolean {
  const [value, setValue] = useState(connected);
  useEffect(() => {
    statusListeners.add(setValue);
    return () => void statusListeners.delete(setValue);
  }, []);
  return value;
}
