import net from "node:net";

/**
 * A TCP relay in front of a real server (the bench's Mongo), so a test can take the server away
 * from the nodes without touching it: `cut()` resets every open connection (as a stepping-down
 * primary drops its clients), `close()` also stops accepting new ones (the server unreachable).
 */
export class Relay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** How many connections the cuts closed. */
  cutConnections = 0;
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  open(): Promise<void> {
    this.server = net.createServer((inbound) => {
      const outbound = net.connect(this.target.port, this.target.host);
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    return new Promise((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
  }

  /** Every open connection reset. */
  cut(): void {
    for (const s of this.sockets) {
      this.cutConnections++;
      s.resetAndDestroy();
    }
  }

  close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = null;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
