/**
 * A product's document does not grow with its order count: reservations live in products'
 * `reservations` collection (services/products/reservations.ts), not in the product.
 */
import type { Service } from "moleculer";
import type { DbVars } from "../../mixins/db.mixin";
import { startSystem, type TestSystem } from "../helpers/system";
import { waitFor } from "../helpers/wait";
import { createProduct, stockOf, type Order } from "../helpers/shop";

describe("a product's document", () => {
  let sys: TestSystem;
  let admin: string;

  beforeAll(async () => {
    sys = await startSystem();
    admin = await sys.adminToken();
  });
  afterAll(() => sys.stop());

  async function placeSettled(
    productId: string,
    buyer: { token: string },
    count: number,
  ): Promise<Order[]> {
    const placed: Order[] = [];
    for (let i = 0; i < count; i++) {
      const res = await sys.http.post<Order>("/api/orders", {
        token: buyer.token,
        json: {
          items: [{ productId, quantity: 1 }],
          // Every third order is declined: cancelled orders must leave nothing behind either.
          paymentToken: i % 3 === 2 ? "tok_chargeDeclined" : "tok_visa",
        },
      });
      expect(res.status).toBe(201);
      placed.push(res.body);
    }
    return Promise.all(
      placed.map((o) =>
        waitFor(
          async () => (await sys.http.get<Order>(`/api/orders/${o.id}`, buyer)).body,
          (fresh) => fresh.status === "confirmed" || fresh.status === "cancelled",
        ),
      ),
    );
  }

  it("keeps the same fields and size after 6 orders and after 36, naming none of them", async () => {
    const product = await createProduct(sys.http, admin, 5_000);
    const buyer = await sys.customer("growth");
    const store = (sys.service("products") as Service & DbVars).store;
    const stored = async () => (await store.findById(product.id))!;
    const shape = (doc: Record<string, unknown>) => ({
      fields: Object.keys(doc).sort(),
      bytes: JSON.stringify(doc).length,
    });

    // A cancelled order's release (and its marker's removal) follows the status write that the
    // orders show first: wait, with a deadline, until the product names none of the orders.
    const settled = (orders: Order[]) =>
      waitFor(stored, (doc) => orders.every((o) => !JSON.stringify(doc).includes(o.id)));
    const few = await placeSettled(product.id, buyer, 6);
    const afterFew = shape(await settled(few));
    const many = await placeSettled(product.id, buyer, 30);
    const afterMany = shape(await settled([...few, ...many]));

    // (The first reservation leaves the empty marker objects `taking` and `giving` behind.)
    expect(afterMany).toEqual(afterFew);
    // The orders did take and give back stock: only the confirmed ones keep theirs. The orders
    // sweeper releases a cancelled order again during a window after the first release (a late
    // reservation could still land, services/orders.service.ts); each such call marks the
    // product for a moment. So the end state is awaited: no order named, the stock exact.
    const confirmed = [...few, ...many].filter((o) => o.status === "confirmed").length;
    expect(confirmed).toBe(24);
    const all = [...few, ...many];
    const end = await waitFor(
      async () => ({ doc: await stored(), shown: await stockOf(sys.http, product.id) }),
      ({ doc, shown }) =>
        doc.stock === 5_000 - confirmed &&
        shown === 5_000 - confirmed &&
        all.every((o) => !JSON.stringify(doc).includes(o.id)),
      60_000,
      250,
    );
    expect(end.shown).toBe(5_000 - confirmed);
  });
});
