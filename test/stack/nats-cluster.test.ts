/**
 * The production NATS shape (a 3-server cluster, docs/DEPLOY.md) on one host: three nats-server
 * processes of this file, with cluster routes on free ports, and a shop split over processes
 * that know one server's URL only (as a Kubernetes Service name gives them), learning the others
 * from the cluster. That server is restarted while orders are being placed: every order the
 * gateway accepted is confirmed and charged once — none is lost. The shared NATS is not used.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../helpers/cluster";
import { client } from "../helpers/http";
import { waitFor } from "../helpers/wait";
import {
  expectEveryOrderConfirmedOnce,
  makeProducts,
  placeOrders,
  startShop,
  type PlannedOrder,
  type Shop,
} from "../helpers/stack-shop";

interface Ports {
  client: number;
  cluster: number;
  monitor: number;
}

class NatsClusterServer {
  private child: ChildProcess | null = null;
  constructor(
    readonly name: string,
    readonly ports: Ports,
    private readonly routes: number[],
  ) {}

  start(): void {
    const { client: c, cluster, monitor } = this.ports;
    this.child = spawn(
      "nats-server",
      [
        ...["-n", this.name, "-a", "127.0.0.1", "-p", String(c), "-m", String(monitor)],
        ...["--cluster_name", "cm", "--cluster", `nats://127.0.0.1:${cluster}`],
        ...["--routes", this.routes.map((r) => `nats://127.0.0.1:${r}`).join(",")],
      ],
      { stdio: "ignore" },
    );
  }

  /** Routes to the other servers as nats-server's monitoring reports them. */
  async routeCount(): Promise<number> {
    const res = await client(`http://127.0.0.1:${this.ports.monitor}`)
      .get<{ num_routes: number }>("/routez", { timeoutMs: 2_000 })
      .catch(() => null);
    return res?.body.num_routes ?? -1;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

async function clusterFormed(servers: NatsClusterServer[]): Promise<void> {
  await waitFor(
    () => Promise.all(servers.map((s) => s.routeCount())),
    (counts) => counts.every((n) => n >= servers.length - 1),
    20_000,
    200,
  );
}

describe("a 3-server NATS cluster", () => {
  const servers: NatsClusterServer[] = [];
  let shop: Shop | undefined;
  const sharedTransporter = process.env.TRANSPORTER;

  beforeAll(async () => {
    const ports: Ports[] = [];
    for (let i = 0; i < 3; i++) {
      ports.push({
        client: await freePort(),
        cluster: await freePort(),
        monitor: await freePort(),
      });
    }
    ports.forEach((p, i) => {
      const others = ports.filter((_, j) => j !== i).map((o) => o.cluster);
      servers.push(new NatsClusterServer(`n${i + 1}`, p, others));
    });
    servers.forEach((s) => s.start());
    await clusterFormed(servers);
    // Every node is given the first server only; the cluster tells it about the other two.
    process.env.TRANSPORTER = `nats://127.0.0.1:${ports[0].client}`;
    shop = await startShop({ orders: ["orders"], pay: ["payments"] }, 4);
  });

  afterAll(async () => {
    await shop?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    process.env.TRANSPORTER = sharedTransporter;
  });

  it("loses no accepted order while the server every node dialled is down and restarts", async () => {
    const [product] = await makeProducts(shop!, 1, 1000);
    const planned: PlannedOrder[] = Array.from({ length: 60 }, (_, i) => ({
      key: `nats-cluster-${i}`,
      token: shop!.customers[i % shop!.customers.length].token,
      productId: product.id,
      quantity: 1,
      paymentToken: "tok_visa",
    }));
    // Down from the 15th order to the 30th: meanwhile the nodes work through the other two.
    let restarted = false;
    const { accepted, statuses } = await placeOrders(shop!.http, planned, 4, async (n) => {
      if (n === 15) await servers[0].stop();
      if (n === 30) {
        servers[0].start();
        restarted = true;
      }
    });
    expect(restarted).toBe(true);
    await clusterFormed(servers);
    // While the server was down the other two carried the orders: only the (at most 4, the
    // concurrency) requests in flight on it when it stopped may have failed.
    expect(statuses.filter((s) => s !== 201).length).toBeLessThanOrEqual(4);
    // A request in flight on the restarted server may have timed out (its key then answers 503
    // "still running" for a while): the client retries later with the same Idempotency-Key.
    await expectEveryOrderConfirmedOnce(shop!, planned, accepted);
  });
});
