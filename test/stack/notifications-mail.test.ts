/**
 * Notification e-mail survives its processes (issue 15): with the SMTP server down, mails pile
 * up as pending deliveries; both notifications processes are SIGKILLed; the SMTP server comes
 * back and both processes restart at once. Every mail then arrives, and none twice: no mail was
 * accepted before the kill, so the at-least-once bound of services/notifications/delivery.ts
 * (a repeat only after a crash between the server's acceptance and the outcome write) allows no
 * repeat here, and the two restarted processes racing for the same deliveries must not both
 * send one (each mail takes the server 400 ms to accept, so their attempts overlap).
 */
import { Cluster } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";
import { createProduct, waitForOrder, type Order } from "../helpers/shop";
import { STACK_ENV } from "../helpers/stack-shop";
import { SmtpCatcher } from "../helpers/smtp-catcher";
import { waitFor } from "../helpers/wait";
import { waitReady } from "../../bench/shop";

interface Listed {
  id: string;
  delivery?: { status: string; attempts: number };
}

const CUSTOMERS = 4;

describe("notification e-mail across a notifications crash", () => {
  const catcher = new SmtpCatcher();
  let cluster: Cluster;
  let http: Client;

  beforeAll(async () => {
    await catcher.start();
    cluster = new Cluster({
      ...STACK_ENV,
      SMTP_URL: catcher.url(),
      MAIL_FROM: "shop@example.com",
      MAIL_RETRY_BASE_MS: "300",
      MAIL_SEND_TIMEOUT_MS: "1000",
    });
    await Promise.all([
      cluster.start("gw", ["api", "users", "products"]),
      cluster.start("svc", ["orders", "payments"]),
      cluster.start("mail1", ["notifications"]),
      cluster.start("mail2", ["notifications"]),
    ]);
    http = client(cluster.baseUrl("gw"));
    await waitReady(cluster.baseUrl("gw"), 30_000);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stopAll();
    await catcher.stop();
  });

  async function inbox(token: string): Promise<Listed[]> {
    const res = await http.get<{ rows: Listed[] }>("/api/notifications", { token });
    return res.status === 200 ? res.body.rows : [];
  }

  it("delivers every pending mail after a SIGKILL and restart, none twice", async () => {
    const admin = await http.post<{ token: string }>("/api/auth/login", {
      json: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
    });
    // Ready means the gateway is; wait until it also sees orders and notifications.
    for (const path of ["/api/orders", "/api/notifications"]) {
      await waitFor(
        () => http.get(path, { token: admin.body.token }),
        (r) => r.status === 200,
        30_000,
      );
    }
    // …and until the orders process has heard of the node with products: an order whose
    // products.reserve found no products is abandoned, and its key stays taken while a late
    // reservation could still land (3 request timeouts + 5 s, services/orders/saga.ts), longer
    // than the wait below. That happened once in CI.
    await waitFor(
      async () => cluster.output("svc"),
      (log) => log.includes(`'${cluster.namespace}-gw' connected`),
      30_000,
      100,
    );
    const product = await createProduct(http, admin.body.token, 100, 1500);
    await catcher.stop();

    const tokens: string[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const reg = await http.post<{ token: string }>("/api/auth/register", {
        json: {
          email: `crash-${cluster.namespace}-${i}@example.com`,
          password: "password-123",
          name: `C ${i}`,
        },
      });
      expect(reg.status).toBe(201);
      // Four processes start at once: the orders process may not have heard of products yet
      // when the first order comes (503, nothing placed). A client retries a 503 with the same
      // Idempotency-Key, which never places a second order.
      const placed = await waitFor(
        () =>
          http.post<Order>("/api/orders", {
            token: reg.body.token,
            headers: { "Idempotency-Key": `crash-${i}` },
            json: { items: [{ productId: product.id, quantity: 1 }], paymentToken: "tok_visa" },
          }),
        (res) => res.status !== 503,
        30_000,
        500,
      );
      expect(placed.status).toBe(201);
      await waitForOrder(
        http,
        reg.body.token,
        placed.body.id,
        (o) => o.status === "confirmed",
        30_000,
      );
      tokens.push(reg.body.token);
    }
    // Every mail has been tried and is waiting for its next attempt.
    for (const token of tokens) {
      await waitFor(
        () => inbox(token),
        (rows) =>
          rows.length === 2 &&
          rows.every((n) => n.delivery?.status === "pending" && n.delivery.attempts >= 1),
        30_000,
      );
    }

    await Promise.all([cluster.kill("mail1"), cluster.kill("mail2")]);
    catcher.acceptDelayMs = 400;
    await catcher.start();
    expect(catcher.mails).toHaveLength(0);
    await Promise.all([cluster.restart("mail1"), cluster.restart("mail2")]);

    const expected: string[] = [];
    for (const token of tokens) {
      const rows = await waitFor(
        () => inbox(token),
        (r) => r.length === 2 && r.every((n) => n.delivery?.status === "sent"),
        60_000,
      );
      expected.push(...rows.map((n) => `<${n.id}@commerce-mesh>`));
    }
    // A straggler (a second copy) would arrive within a few loop passes.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(catcher.mails.map((m) => m.messageId).sort()).toEqual(expected.sort());
  }, 180_000);
});
