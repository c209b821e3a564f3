/**
 * An operator's journey through the console at `/console` in headless Chromium (issue 13): no
 * token and a customer's both get the sign-in, and a customer's token is refused by the console's
 * routes (403); an admin sees every node and service of the system (with the bench's servers:
 * the gateway and the services in separate processes over NATS), sets a fault on payments and
 * sees the order it holds up stuck on the saga board, clears the fault, re-drives the order and
 * sees it confirmed. axe-core finds no serious or critical violation; the screenshot is
 * .ci/state/screenshots/console.png.
 */
import type { Browser, Page } from "puppeteer-core";
import { Cluster } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";
import { waitFor } from "../helpers/wait";
import { config } from "../../lib/config";
import type { Order, Product } from "../helpers/shop";
import type { TestSystem } from "../helpers/system";
import { axeViolations, launchBrowser, rendered, screenshot, startShop } from "../helpers/browser";

// A short saga step, so the order held up by the fault is stuck soon; a sweeper that leaves it
// to the operator's re-drive.
const ORDERS_ENV = { SAGA_STEP_DEADLINE_MS: "1500", SWEEPER_INTERVAL_MS: "600000" };
const SERVICES = ["users", "products", "orders", "payments", "notifications"];
const FAULT = "payments:order.created";
const stack = Boolean(process.env.TRANSPORTER);

describe("the operator console", () => {
  let browser: Browser;
  let page: Page;
  let baseUrl = "";
  let http: Client;
  let cluster: Cluster | null = null;
  let sys: TestSystem | null = null;
  let customer = { token: "", email: "", user: {} as Record<string, unknown> };

  beforeAll(async () => {
    if (stack) {
      cluster = new Cluster({ ...ORDERS_ENV, METRICS: "true", METRICS_PORT: "0" });
      await cluster.start("gateway", ["api"]);
      await cluster.start("services", SERVICES);
      baseUrl = cluster.baseUrl("gateway");
    } else {
      Object.assign(process.env, ORDERS_ENV);
      sys = await startShop();
      baseUrl = sys.baseUrl;
    }
    http = client(baseUrl);
    const email = `operator-journey-${Date.now()}@example.com`;
    const reg = await waitFor(
      () =>
        http.post<{ token: string; user: Record<string, unknown> }>("/api/auth/register", {
          json: { email, password: "password-123", name: "Customer" },
        }),
      (r) => r.status === 201,
      30_000,
      250,
    );
    customer = { token: reg.body.token, email, user: reg.body.user };
    browser = await launchBrowser();
    page = await browser.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
    await cluster?.stopAll();
  });

  const text = () => page.evaluate("document.body.innerText") as Promise<string>;
  const textOf = (selector: string) =>
    page.$eval(selector, (el) => (el as unknown as { innerText: string }).innerText);
  const signIn = async (email: string, password: string) => {
    await page.type('input[name="email"]', email);
    await page.type('input[name="password"]', password);
    await page.click("form button[type=submit]");
  };

  it("shows a sign-in without a token, and refuses a customer", async () => {
    await page.goto(`${baseUrl}/console`);
    await rendered(page);
    expect(await text()).toContain("Sign in to the console");
    expect(await axeViolations(page)).toEqual([]);

    await signIn(customer.email, "password-123");
    await page.waitForSelector('[role="alert"]');
    expect(await text()).toMatch(/not an operator/);
    expect(await text()).not.toContain("Operator console");
    // A customer signed in at the storefront (the same session) gets the sign-in too.
    await page.evaluate(
      `localStorage.setItem("commerce-mesh.session", ${JSON.stringify(
        JSON.stringify({ token: customer.token, user: customer.user }),
      )})`,
    );
    await page.reload();
    await rendered(page);
    expect(await text()).toContain("You are signed in as a customer");
    expect(await text()).not.toContain("Operator console");
    await page.evaluate(`localStorage.removeItem("commerce-mesh.session")`);
    // The routes themselves refuse the customer's token.
    const nodes = await http.get("/api/admin/nodes", { token: customer.token });
    expect(nodes.status).toBe(403);
  });

  it("lets an admin see every node and service, set a fault, see the stuck order, clear it and re-drive it", async () => {
    const cfg = config();
    await page.reload();
    await rendered(page);
    await signIn(cfg.auth.adminEmail!, cfg.auth.adminPassword!);
    await page.waitForSelector('[data-testid="nodes"] tbody tr');
    const mesh = await textOf('[data-testid="nodes"]');
    for (const name of ["api", ...SERVICES]) expect(mesh).toContain(`${name} (`);
    if (cluster)
      for (const node of ["gateway", "services"])
        expect(mesh).toContain(`${cluster.namespace}-${node}`);

    // A fault on payments' order.created handler, through the form.
    await page.type('input[name="target"]', FAULT);
    await page.click('form[aria-label="Set a fault on every node"] button[type=submit]');
    await page.waitForSelector('[data-testid="faults"]');
    expect(await textOf('[data-testid="faults"]')).toContain(FAULT);

    // An order whose payment the fault holds up: stuck past its step's deadline.
    const admin = await http.post<{ token: string }>("/api/auth/login", {
      json: { email: cfg.auth.adminEmail!, password: cfg.auth.adminPassword! },
    });
    const product = await http.post<Product>("/api/products", {
      token: admin.body.token,
      json: { sku: `CONSOLE-${Date.now()}`, name: "Console thing", price: 700, stock: 5 },
    });
    const order = await http.post<Order>("/api/orders", {
      token: customer.token,
      json: { items: [{ productId: product.body.id, quantity: 1 }], paymentToken: "tok_visa" },
    });
    expect(order.status).toBe(201);
    const row = `[data-testid="stuck"] tr[data-order="${order.body.id}"]`;
    await page.waitForSelector(row, { timeout: 20_000 });

    // Clear the fault, then re-drive the order: it is confirmed.
    await page.click('[data-testid="faults"] button');
    await page.waitForSelector('[data-testid="no-faults"]');
    await screenshot(page, "console");
    expect(await axeViolations(page)).toEqual([]);
    await page.click(`${row} button`);
    await page.waitForFunction(`document.body.innerText.includes("Re-drove ${order.body.id}")`, {
      timeout: 10_000,
    });
    const confirmed = await waitFor(
      () => http.get<Order>(`/api/orders/${order.body.id}`, { token: customer.token }),
      (r) => r.body.status === "confirmed",
      20_000,
      250,
    );
    expect(confirmed.body.status).toBe("confirmed");
    await page.waitForSelector(row, { hidden: true, timeout: 10_000 });
  }, 90_000);
});
