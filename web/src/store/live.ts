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
let connected = false;
const statusListeners = new Set<(connected: boolean) => void>();

/** Opens the stream for `token` (closing any other); null closes it. */
export function followOrders(token: string | null): void {
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
