/**
 * moleculer's NATS transporter, saying where. The stock one reports a lost and regained
 * connection only at debug level, as `host:port`, and a refused connection as three lines
 * (`NATS error.`, `Connection is failed.`, `Reconnecting...`) that name no server. Here each
 * event is one line naming TRANSPORTER's URL (password masked), never a stack:
 *
 * - connection lost (warn), each reconnect attempt (warn), reconnected (info), the server going
 *   away in lame-duck mode (info), an error the server sent (warn), the connection closed for
 *   good (error);
 * - a connection the server refuses (a wrong login, say) is retried here, one warning per
 *   attempt, so moleculer's transit never logs its own lines.
 *
 * Attempts back off from 0.5 s to 10 s (as lib/startup.ts and lib/redis-cacher.ts do), instead
 * of a line every 2 s for as long as NATS is away.
 *
 * And what a node publishes goes out in fewer socket writes (`coalesceWrites`, below).
 */
import { Transporters } from "moleculer";
import { connect, type ConnectionOptions, type NatsConnection } from "nats";
import { redactUrl } from "./redact";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The part of nats.js's protocol handler (`NatsConnectionImpl.protocol`) that writes. */
interface NatsProtocol {
  outbound: {
    size(): number;
    fill(buf: Uint8Array, ...payloads: Uint8Array[]): void;
  };
  pendingLimit: number;
  flushPending(): void;
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
}

/**
 * Writes what `client` publishes once per turn of the event loop instead of once per callback.
 *
 * nats.js buffers a publish and writes the buffer to its socket in a microtask, so at the end of
 * the callback that published. A gateway serving many clients publishes one request per HTTP
 * request, each from its own socket callback, and a service answers each request from its own
 * callback: one `write` system call per message, each waking NATS, which reads and forwards
 * that one message with a system call of its own. Here the buffer is written in a
 * `setImmediate`, after every callback of the current turn (the HTTP requests and NATS messages
 * that arrived together): one write for all of them, and NATS handles them as one read. Nothing
 * waits longer than the turn it was published in; a buffer past nats.js's own limit
 * (`pendingLimit`) is still written at once, and the order of messages is the order of
 * publishing. Measured in bench/README.md ("NATS writes per turn").
 *
 * Returns false, leaving nats.js as it is, when its protocol handler is not the one this was
 * written against (another version of nats.js).
 */
export function coalesceWrites(client: NatsConnection): boolean {
  const protocol = (client as unknown as { protocol?: Partial<NatsProtocol> }).protocol;
  if (
    !protocol ||
    typeof protocol.sendCommand !== "function" ||
    typeof protocol.flushPending !== "function" ||
    typeof protocol.outbound?.fill !== "function" ||
    typeof protocol.outbound?.size !== "function" ||
    typeof protocol.pendingLimit !== "number"
  ) {
    return false;
  }
  const handler = protocol as NatsProtocol;
  const encoder = new TextEncoder();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    handler.flushPending();
  };
  handler.sendCommand = (cmd, ...payloads) => {
    handler.outbound.fill(typeof cmd === "string" ? encoder.encode(cmd) : cmd, ...payloads);
    if (handler.outbound.size() >= handler.pendingLimit) handler.flushPending();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return true;
}

export class NamedNatsTransporter extends Transporters.NATS {
  /** Failed attempts since the connection was last up. */
  private attempts = 0;

  constructor(
    private readonly url: string,
    opts: ConnectionOptions,
  ) {
    super(opts);
  }

  private get where(): string {
    return `NATS ${redactUrl(this.url)} (TRANSPORTER)`;
  }

  private nextDelay(): number {
    return Math.min(FIRST_DELAY_MS * 2 ** Math.max(this.attempts - 1, 0), MAX_DELAY_MS);
  }

  override async connect(): Promise<void> {
    const options: ConnectionOptions = {
      ...(this.opts as ConnectionOptions),
      reconnectDelayHandler: () => this.nextDelay(),
    };
    let client: NatsConnection | null = null;
    while (!client) {
      try {
        client = await connect(options);
      } catch (err) {
        // Stopping: transit ignores the error, nothing to retry.
        if (this.transit.disconnecting) throw err;
        this.attempts += 1;
        const delay = this.nextDelay();
        this.logger.warn(
          `${this.where} refused the connection: ${reason(err)}; attempt ${this.attempts}, next in ${delay / 1000} s`,
        );
        this.broker.broadcastLocal("$transporter.error", {
          error: err,
          module: "transporter",
          type: "clientError",
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    this.client = client;
    this.attempts = 0;
    if (!coalesceWrites(client)) {
      this.logger.warn(
        `${this.where}: this nats.js version's writer is not the expected one; each publish is written on its own`,
      );
    }
    this.logger.info(`${this.where}: connected to ${client.getServer()}`);
    void this.follow(client);
    void client.closed().then((err) => {
      this.connected = false;
      if (this.transit.disconnecting) this.logger.info(`${this.where}: connection closed`);
      else
        this.logger.error(
          `${this.where}: connection closed for good${err ? ` (${reason(err)})` : ""}; this node is out of the mesh until it restarts`,
        );
    });
    return this.onConnected();
  }

  /** One line per status event of the client (nats.js reconnects by itself). */
  private async follow(client: NatsConnection): Promise<void> {
    for await (const status of client.status()) {
      const server = String(status.data);
      switch (status.type) {
        case "disconnect":
          this.logger.warn(`${this.where}: connection to ${server} lost; reconnecting`);
          break;
        case "reconnecting":
          this.attempts += 1;
          this.logger.warn(`${this.where}: reconnecting to ${server}, attempt ${this.attempts}`);
          break;
        case "reconnect":
          this.logger.info(
            `${this.where}: reconnected to ${server} after ${this.attempts} attempt(s)`,
          );
          this.attempts = 0;
          break;
        case "ldm":
          this.logger.info(`${this.where}: ${server} is shutting down; moving to another server`);
          break;
        case "error":
          this.logger.warn(`${this.where}: the server reported an error: ${server}`);
          break;
        default:
          this.logger.debug(`${this.where}: ${status.type}`);
      }
    }
  }
}
