/**
 * Redis going away under a running node: one warning a reconnect attempt naming CACHER and the
 * URL (password masked), backing off, no stack; the catalog is still served meanwhile. Redis is
 * reached through a TCP relay the test owns, so the test's "outage" touches nobody else.
 */
import net from "node:net";
import { freePort } from "../helpers/cluster";
import { client } from "../helpers/http";
import { MainProcess, STACK_LINE } from "../helpers/main-process";
import { waitFor } from "../helpers/wait";

describe("a Redis outage", () => {
  const sockets = new Set<net.Socket>();
  const target = new URL(process.env.CACHER ?? "redis://127.0.0.1:6379");
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port || 6379), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("error", () => s.destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  let node: MainProcess | undefined;

  afterAll(async () => {
    await node?.stop();
    relay.close();
  });

  it("is one warning per attempt, with backoff and no stack, and reads still answer", async () => {
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const relayPort = (relay.address() as net.AddressInfo).port;
    const port = await freePort();
    node = new MainProcess({
      TRANSPORTER: process.env.TRANSPORTER!,
      CACHER: `redis://127.0.0.1:${relayPort}`,
      PORT: String(port),
    });
    await node.says(/commerce-mesh node \S+ ready/, 60_000);

    relay.close();
    for (const s of sockets) s.destroy();
    const warnings = () =>
      node!.output.split("\n").filter((l) => l.includes("(CACHER) unreachable"));
    await waitFor(
      async () => warnings().length,
      (n) => n >= 3,
      30_000,
      200,
    );
    for (const line of warnings()) {
      expect(line).toContain(
        `WARN  CACHER: Redis cache redis://127.0.0.1:${relayPort} (CACHER) unreachable: ECONNREFUSED`,
      );
    }
    // Backoff: the third attempt comes at least 1.5 s after the first (0.5 s, then 1 s).
    const at = warnings().map((l) => Date.parse(`1970-01-01T${/\[(\S+)Z\]/.exec(l)![1]}Z`));
    expect(at[2] - at[0]).toBeGreaterThanOrEqual(1_400);
    expect(node.output).not.toMatch(STACK_LINE);
    expect((await client(`http://127.0.0.1:${port}`).get("/api/products")).status).toBe(200);
  });
});
