/**
 * The same catalog on both adapters at once: MongoDB wire (FerretDB here) and NeDB. Entities
 * must leave the service identically. (The unique sku index is tested by
 * test/integration/products.test.ts, which runs on NeDB in the plain run and on Mongo here.)
 */
import { startSystem, type TestSystem } from "../helpers/system";

describe("products on the Mongo adapter and on NeDB", () => {
  let mongo: TestSystem;
  let nedb: TestSystem;

  beforeAll(async () => {
    expect(process.env.MONGO_URI).toBeTruthy();
    mongo = await startSystem(["api", "users", "products"]);
    // A second, self-contained system on NeDB: no transporter, so it cannot see the first.
    nedb = await startSystem(["api", "users", "products"], {
      MONGO_URI: undefined,
      TRANSPORTER: undefined,
      CACHER: undefined,
      DATA_DIR: ":memory:",
    });
  });
  afterAll(async () => {
    await mongo?.stop();
    await nedb?.stop();
  });

  it("uses the adapters the environment names", () => {
    const kinds = [mongo, nedb].map(
      (s) => (s.service("products") as unknown as { store: { kind: string } }).store.kind,
    );
    expect(kinds).toEqual(["mongo", "nedb"]);
  });

  it("returns a created product by its id with the same fields and types on both", async () => {
    const body = {
      sku: "SAME-1",
      name: "Parity lamp",
      description: "Brass",
      price: 4200,
      stock: 3,
    };
    const shapes: Array<Record<string, string>> = [];
    for (const sys of [mongo, nedb]) {
      const admin = await sys.adminToken();
      const created = await sys.http.post<Record<string, unknown>>("/api/products", {
        token: admin,
        json: body,
      });
      expect(created.status).toBe(201);
      const fetched = await sys.http.get<Record<string, unknown>>(
        `/api/products/${String(created.body.id)}`,
      );
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(created.body);
      expect(fetched.body).toMatchObject({ ...body, currency: "USD" });
      expect(fetched.body).not.toHaveProperty("_id");
      shapes.push(Object.fromEntries(Object.entries(fetched.body).map(([k, v]) => [k, typeof v])));
    }
    expect(shapes[0]).toEqual(shapes[1]);
  });
});
