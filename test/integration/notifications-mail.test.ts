/**
 * Notifications reach people (issue 15): each one is e-mailed over SMTP to the user's address,
 * through a real SMTP server started here, exactly once; a server that is down is retried with
 * backoff; a recipient refused with 550 ends failed after the retries without holding up mail
 * to anyone else.
 */
import { startSystem, type TestSystem } from "../helpers/system";
import { createProduct, waitForOrder, type Order } from "../helpers/shop";
import { SmtpCatcher, type CaughtMail } from "../helpers/smtp-catcher";
import { waitFor } from "../helpers/wait";
import { formatMoney } from "../../services/notifications/templates";
import type { DeliveryReport } from "../../services/notifications.service";
import { operatorCommands } from "../../repl";

interface Listed {
  id: string;
  type: string;
  delivery?: { status: string; attempts: number; sentAt?: string; lastError?: string };
}

async function inbox(sys: TestSystem, token: string): Promise<Listed[]> {
  const res = await sys.http.get<{ rows: Listed[] }>("/api/notifications", { token });
  expect(res.status).toBe(200);
  return res.body.rows;
}

async function checkout(sys: TestSystem, token: string, admin: string): Promise<Order> {
  const product = await createProduct(sys.http, admin, 10, 1999);
  const res = await sys.http.post<Order>("/api/orders", {
    token,
    headers: { "Idempotency-Key": `mail-${Date.now()}-${Math.random()}` },
    json: { items: [{ productId: product.id, quantity: 2 }], paymentToken: "tok_visa" },
  });
  expect(res.status).toBe(201);
  return waitForOrder(sys.http, token, res.body.id, (o) => o.status === "confirmed");
}

function mailsWith(catcher: SmtpCatcher, to: string, subject: RegExp): CaughtMail[] {
  return catcher.to(to).filter((m) => subject.test(m.subject));
}

describe("notification e-mail over SMTP", () => {
  const catcher = new SmtpCatcher();
  let sys: TestSystem;
  let admin: string;

  beforeAll(async () => {
    await catcher.start();
    sys = await startSystem(null, {
      SMTP_URL: catcher.url(),
      MAIL_FROM: "shop@example.com",
      MAIL_RETRY_BASE_MS: "500",
      MAIL_SEND_TIMEOUT_MS: "2000",
    });
    admin = await sys.adminToken();
  });

  afterAll(async () => {
    await sys?.stop();
    await catcher.stop();
  });

  it("mails welcome, confirmation, cancellation and refund to the user's address, each once", async () => {
    const user = await sys.customer("mail");
    const welcome = await waitFor(
      async () => mailsWith(catcher, user.email, /Welcome/),
      (m) => m.length > 0,
      10_000,
    );
    expect(welcome[0].user).toBe("mailer");
    expect(welcome[0].password).toBe("s3cret-pass");

    // The address book is cached; a rename cleans it, so the next mail greets the new name.
    const renamed = await sys.http.patch("/api/users/me", {
      token: user.token,
      json: { name: "Renamed <3" },
    });
    expect(renamed.status).toBe(200);
    const order = await checkout(sys, user.token, admin);
    const total = formatMoney(order.total, order.currency);
    const confirmed = await waitFor(
      async () => mailsWith(catcher, user.email, new RegExp(`Order ${order.id} confirmed`)),
      (m) => m.length > 0,
      10_000,
    );
    expect(confirmed[0].text).toContain(`Total: ${total}`);
    expect(confirmed[0].text).toContain("2 x Thing");
    expect(confirmed[0].text).toContain("Hi Renamed <3,");
    expect(confirmed[0].text).toContain("<p>Hi Renamed &lt;3,</p>");

    const cancel = await sys.http.post<Order>(`/api/orders/${order.id}/cancel`, {
      token: user.token,
    });
    expect(cancel.status).toBe(200);
    const rows = await waitFor(
      () => inbox(sys, user.token),
      (r) => r.length === 4 && r.every((n) => n.delivery?.status === "sent"),
      15_000,
    );
    expect(mailsWith(catcher, user.email, new RegExp(`Order ${order.id} cancelled`))).toHaveLength(
      1,
    );
    expect(mailsWith(catcher, user.email, new RegExp(`Refund for order ${order.id}`))).toHaveLength(
      1,
    );

    // Exactly once: one mail per notification, each with the Message-ID of its notification.
    const mine = catcher.to(user.email);
    expect(mine.map((m) => m.messageId).sort()).toEqual(
      rows.map((n) => `<${n.id}@commerce-mesh>`).sort(),
    );
    for (const n of rows) {
      expect(n.delivery).toEqual({
        channel: "email",
        status: "sent",
        attempts: 1,
        sentAt: expect.any(String),
      });
    }
  });

  it("retries while the SMTP server is down and delivers once it is back, once", async () => {
    const user = await sys.customer("down");
    await waitFor(
      async () => catcher.to(user.email),
      (m) => m.length === 1,
      10_000,
    );
    await catcher.stop();
    const order = await checkout(sys, user.token, admin);
    await waitFor(
      () => inbox(sys, user.token),
      (r) => r.some((n) => n.type === "order_confirmed" && (n.delivery?.attempts ?? 0) >= 1),
      10_000,
    );
    // The event comes again while the mail is pending: still one notification, one mail.
    await sys.broker.emit("order.confirmed", {
      eventId: `order.confirmed:${order.id}:again`,
      orderId: order.id,
      userId: user.id,
      total: order.total,
      currency: order.currency,
    });
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect(mailsWith(catcher, user.email, /confirmed/)).toHaveLength(0);
    await catcher.start();

    const rows = await waitFor(
      () => inbox(sys, user.token),
      (r) =>
        r.some((n) => n.type === "order_confirmed") &&
        r.every((n) => n.delivery?.status === "sent"),
      30_000,
    );
    expect(rows.filter((n) => n.type === "order_confirmed")).toHaveLength(1);
    const delivery = rows.find((n) => n.type === "order_confirmed")!.delivery!;
    expect(delivery.attempts).toBeGreaterThan(1);
    expect(delivery.lastError).toBeUndefined();
    expect(mailsWith(catcher, user.email, new RegExp(`Order ${order.id} confirmed`))).toHaveLength(
      1,
    );
  }, 60_000);
});

describe("a recipient the SMTP server refuses", () => {
  const catcher = new SmtpCatcher();
  let sys: TestSystem;

  beforeAll(async () => {
    catcher.refuse.push("bounce-");
    await catcher.start();
    sys = await startSystem(null, {
      SMTP_URL: catcher.url(),
      MAIL_FROM: "shop@example.com",
      MAIL_RETRY_BASE_MS: "200",
      MAIL_MAX_ATTEMPTS: "3",
    });
  });

  afterAll(async () => {
    await sys?.stop();
    await catcher.stop();
  });

  it("ends failed after the retries, and mail to others still goes out", async () => {
    const bounce = await sys.customer("bounce");
    const other = await sys.customer("other");
    await waitFor(
      async () => catcher.to(other.email),
      (m) => m.length === 1,
      10_000,
    );
    const [row] = await waitFor(
      () => inbox(sys, bounce.token),
      (r) => r[0]?.delivery?.status === "failed",
      15_000,
    );
    expect(row.delivery).toEqual({ channel: "email", status: "failed", attempts: 3 });

    // Operators see why; the customer above did not.
    const reports = await sys.broker.call<DeliveryReport[], { status: string }>(
      "notifications.deliveries",
      { status: "failed" },
    );
    const report = reports.find((r) => r.id === row.id)!;
    expect(report.delivery.lastError).toMatch(/550/);
    expect(catcher.to(bounce.email)).toHaveLength(0);

    // …and so does the REPL's `deliveries failed`.
    const command = operatorCommands.find((c) => c.command.startsWith("deliveries"))!;
    const printed: string[] = [];
    const spy = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      const table = (rows: unknown[][]) => rows.map((r) => r.join(" | ")).join("\n");
      await command.action(sys.broker, { options: {}, status: "failed" }, { table });
    } finally {
      spy.mockRestore();
    }
    expect(printed.join("")).toMatch(new RegExp(`${row.id} \\| welcome \\| failed \\| 3 \\|.*550`));
  });
});
