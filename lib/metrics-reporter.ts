/**
 * moleculer's Prometheus reporter, made safe for several nodes on one host. The stock reporter
 * listens on METRICS_PORT and a taken port is an unhandled `EADDRINUSE` that kills the node.
 * Here a taken port moves the endpoint to the next free one (up to PORT_TRIES ports on), with
 * one warning line naming METRICS_PORT; when none is free the node runs without metrics. So the
 * README's cluster of `node dist/main.js` processes on one machine gets 3030, 3031, 3032, …
 */
import type { AddressInfo } from "node:net";
import {
  MetricReporters,
  type BrokerOptions,
  type MetricRegistry,
  type ServiceBroker,
} from "moleculer";
import { flushMetrics } from "./deferred-metrics";

/** How many ports from METRICS_PORT on are tried before the node gives up on metrics. */
export const PORT_TRIES = 10;

export class PortFallbackReporter extends MetricReporters.Prometheus {
  private readonly wantedPort: number;
  private resolveBound!: (port: number | null) => void;
  /** The port the endpoint listens on once it does; `null` when the node runs without metrics. */
  readonly bound: Promise<number | null> = new Promise((resolve) => (this.resolveBound = resolve));

  constructor(port: number) {
    super({ port, path: "/metrics", defaultLabels: () => ({}) });
    this.wantedPort = port;
  }

  override init(registry: MetricRegistry): void {
    super.init(registry);
    const server = this.server;
    const host = this.opts.host;
    let port = this.wantedPort;
    server.on("listening", () => this.resolveBound((server.address() as AddressInfo).port));
    // The stock reporter's listen fails asynchronously, so this handler is in place in time.
    server.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE" && port !== 0 && port - this.wantedPort < PORT_TRIES - 1) {
        port += 1;
        server.listen(port, host ?? undefined);
        return;
      }
      this.logger.warn(
        `METRICS_PORT ${this.wantedPort}: no free port in ${this.wantedPort}-${port} (${err.code ?? err.message}); this node runs without metrics, set METRICS_PORT to a free port`,
      );
      this.resolveBound(null);
    });
    void this.bound.then((bound) => {
      if (bound !== null && bound !== this.wantedPort && this.wantedPort !== 0) {
        this.logger.warn(
          `METRICS_PORT ${this.wantedPort} is taken: metrics of this node on port ${bound} instead (set METRICS_PORT to choose)`,
        );
      }
    });
  }

  /** The endpoint's text, after the updates gathered since the last second are applied. */
  override generatePrometheusResponse(): string {
    flushMetrics(this.registry);
    return super.generatePrometheusResponse();
  }

  override stop(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return super.stop();
  }
}

type ReporterOption = NonNullable<Extract<BrokerOptions["metrics"], object>["reporter"]>;

/** The broker option for the reporter: moleculer takes an instance, its typings only names. */
export function metricsReporter(port: number): ReporterOption {
  return new PortFallbackReporter(port) as unknown as ReporterOption;
}

/** Where this node serves its metrics once the endpoint is bound; `null`: it does not. */
export async function metricsPort(broker: ServiceBroker): Promise<number | null> {
  const reporter = broker.metrics?.reporter?.find((r) => r instanceof PortFallbackReporter);
  return reporter ? reporter.bound : null;
}
