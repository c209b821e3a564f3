/**
 * Atomic stock under a burst: many customers racing for the last units of one product. Each
 * line is one conditional update in the database, so exactly the available units are sold.
 */
import { startSystem, type TestSystem } from "../helpers/system";
import { waitFor } from "../helpers/wait";
import { createProduct, stockOf, type ErrorBody, type Order } from "../helpers/shop";

describe("concurrent checkouts", () => {
  let sys: TestSystem;
  let admin: string;

  beforeAll(async () => {
    process.env.SWEEPER_INTERVAL_MS = "100";
    sys = await startSystem();
    admin = await sys.adminToken();
  });
  afterAll(() => sys.stop());

  it("sells exactly the stock: 50 orders of one unit for 10 units → 10 accepted, 40 refused", async () => {
    const product = await createProduct(sys.http, admin, 10);
    const buyers = await Promise.all(Array.from({ length: 5 }, () => sys.customer("racer")));

    let sampling = true;
    const seen: number[] = [];
    const sampler = (async () => {
      while (sampling) {
        seen.push(await stockOf(sys.http, product.id));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        sys.http.post<Order | ErrorBody>("/api/orders", {
          token: buyers[i % buyers.length].token,
          json: { items: [{ productId: product.id, quantity: 1 }], paymentToken: "tok_visa" },
        }),
      ),
    );
    sampling = false;
    await sampler;

    const accepted = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const r of refused) expect((r.body as ErrorBody).type).toBe("OUT_OF_STOCK");
    expect(await stockOf(sys.http, product.id)).toBe(0);
    // The stock read while the burst ran never went below zero (nor above the start).
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((stock) => stock < 0 || stock > 10)).toEqual([]);

    // Every accepted order is paid and confirmed; the refused ones left no order behind.
    let total = 0;
    for (const buyer of buyers) {
      const list = await waitFor(
        () =>
          sys.http.get<{ rows: Order[]; total: number }>("/api/orders?pageSize=100", {
            token: buyer.token,
          }),
        (res) =>
          res.body.rows.length === res.body.total &&
          res.body.rows.every((o) => o.status === "confirmed"),
      );
      total += list.body.total;
    }
    expect(total).toBe(10);
    expect(await stockOf(sys.http, product.id)).toBe(0);
  });
});
