/**
 * Domain metrics, next to the broker's own request/error/latency metrics on every node's
 * Prometheus endpoint (`:3030/metrics`). Registered on first use; no-ops when metrics are off.
 */
import type { ServiceBroker } from "moleculer";

export const DOMAIN_METRICS = {
  ordersFinal: {
    type: "counter",
    name: "commerce_orders_final_total",
    description: "Orders that reached a final status",
    labelNames: ["status", "reason"],
  },
  ordersRedriven: {
    type: "counter",
    name: "commerce_orders_redriven_total",
    description: "Orders the sweeper re-drove because their step deadline passed",
    labelNames: ["status"],
  },
  payments: {
    type: "counter",
    name: "commerce_payments_total",
    description: "Payment attempts by outcome",
    labelNames: ["outcome"],
  },
  rateLimited: {
    type: "counter",
    name: "commerce_gateway_rate_limited_total",
    description: "Requests refused with 429 by the gateway",
    labelNames: ["route"],
  },
  mails: {
    type: "counter",
    name: "commerce_notification_mails_total",
    description:
      "Notification e-mail attempts by outcome: sent, retried (will try again), failed (gave up)",
    labelNames: ["type", "outcome"],
  },
} as const;

type MetricKey = keyof typeof DOMAIN_METRICS;

export function countDomain(
  broker: ServiceBroker,
  key: MetricKey,
  labels: Record<string, string>,
): void {
  if (!broker.isMetricsEnabled()) return;
  const def = DOMAIN_METRICS[key];
  if (!broker.metrics.getMetric(def.name)) {
    broker.metrics.register({ ...def, labelNames: [...def.labelNames] });
  }
  broker.metrics.increment(def.name, labels);
}
