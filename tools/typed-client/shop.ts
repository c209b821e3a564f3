/**
 * A client author's first program, typed only by the client generated from the gateway's
 * `/api/openapi.json` (openapi-typescript + openapi-fetch): register, browse, order, read the
 * order back. No casts: if the document leaves a body untyped, this does not compile.
 * Run by tools/typed-client.sh, which generates `./openapi.d.ts` first.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./openapi";

type Order = components["schemas"]["Order"];
type ErrorBody = components["schemas"]["ErrorBody"];

function fail(step: string, status: number, error: ErrorBody | undefined): never {
  throw new Error(`${step}: HTTP ${status} ${error?.type ?? ""} ${error?.message ?? ""}`);
}

async function main(baseUrl: string): Promise<void> {
  const api = createClient<paths>({ baseUrl });

  const email = `typed-client-${Date.now()}@example.com`;
  const registered = await api.POST("/api/auth/register", {
    body: { email, password: "typed-client-password", name: "Typed Client" },
  });
  if (!registered.data) fail("register", registered.response.status, registered.error);
  const auth = { Authorization: `Bearer ${registered.data.token}` };

  const page = await api.GET("/api/products", {
    params: { query: { pageSize: 10, sort: "price" } },
  });
  if (!page.data) fail("browse", page.response.status, page.error);
  const product = page.data.rows.find((p) => p.stock > 0);
  if (!product) throw new Error("browse: no product in stock");

  const placed = await api.POST("/api/orders", {
    headers: auth,
    params: { header: { "Idempotency-Key": `typed-client-${Date.now()}` } },
    body: { items: [{ productId: product.id, quantity: 1 }], paymentToken: "tok_visa" },
  });
  if (!placed.data) fail("order", placed.response.status, placed.error);

  const read = await api.GET("/api/orders/{id}", {
    headers: auth,
    params: { path: { id: placed.data.id } },
  });
  if (!read.data) fail("read back", read.response.status, read.error);
  const order: Order = read.data;
  if (order.id !== placed.data.id || order.total !== product.price) {
    throw new Error(`read back: order ${order.id} totals ${order.total}, not ${product.price}`);
  }
  const line = order.items[0];
  console.log(
    `typed client: ${order.status} order ${order.id} of ${line.quantity} × ${line.sku}, ` +
      `${order.total} ${order.currency}`,
  );
}

main(process.argv[2] ?? "http://127.0.0.1:3000").catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
