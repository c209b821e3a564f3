import type { Product } from "../../contracts/products";
import { startSystem, type TestSystem } from "../helpers/system";

describe("products through the gateway", () => {
  let sys: TestSystem;
  let admin: string;

  beforeAll(async () => {
    sys = await startSystem();
    admin = await sys.adminToken();
  });
  afterAll(() => sys.stop());

  const create = (body: Record<string, unknown>, token = admin) =>
    sys.http.post<Product>("/api/products", { token, json: body });

  it("creates a product that comes back by its string id with the same fields", async () => {
    const created = await create({
      sku: "P-1",
      name: "Blue mug",
      description: "Ceramic",
      price: 1250,
      stock: 7,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/api/products/${created.body.id}`);
    expect(typeof created.body.id).toBe("string");
    expect(created.body).not.toHaveProperty("_id");
    expect(created.body).toMatchObject({
      sku: "P-1",
      name: "Blue mug",
      price: 1250,
      currency: "USD",
      stock: 7,
    });

    const fetched = await sys.http.get<Product>(`/api/products/${created.body.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
    expect(Object.keys(fetched.body).sort()).toEqual([
      "createdAt",
      "currency",
      "description",
      "id",
      "name",
      "price",
      "sku",
      "stock",
      "updatedAt",
    ]);
  });

  // Runs on NeDB in the plain run and on the Mongo adapter in the stack run: the unique index
  // holds on both.
  it("refuses a duplicate sku with 409 (unique index) and keeps the first product", async () => {
    const first = await create({ sku: "DUP-1", name: "Duplicate first", price: 1, stock: 1 });
    expect(first.status).toBe(201);
    const dup = await create({ sku: "DUP-1", name: "Duplicate second", price: 2, stock: 2 });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 409, type: "CONFLICT" });
    const named = await sys.http.get<{ rows: Product[] }>("/api/products?q=Duplicate");
    expect(named.body.rows.map((p) => [p.id, p.name])).toEqual([
      [first.body.id, "Duplicate first"],
    ]);
  });

  it("lists with paging, a case-insensitive escaped search, price range and sort", async () => {
    await create({ sku: "S-1", name: "Search (special) Kettle", price: 3000, stock: 1 });
    await create({ sku: "S-2", name: "search kettle mini", price: 1500, stock: 1 });
    await create({ sku: "S-3", name: "Toaster", price: 2000, stock: 1 });

    const found = await sys.http.get<{ rows: Product[]; total: number }>(
      "/api/products?q=KETTLE&sort=price",
    );
    expect(found.status).toBe(200);
    expect(found.body.rows.map((p) => p.sku)).toEqual(["S-2", "S-1"]);
    expect(found.body.total).toBe(2);

    // Regex syntax in q matches literally, never as a pattern.
    const literal = await sys.http.get<{ rows: Product[] }>(
      `/api/products?q=${encodeURIComponent("(special)")}`,
    );
    expect(literal.body.rows.map((p) => p.sku)).toEqual(["S-1"]);
    const dotStar = await sys.http.get<{ rows: Product[] }>(
      `/api/products?q=${encodeURIComponent(".*")}`,
    );
    expect(dotStar.body.rows).toHaveLength(0);

    const ranged = await sys.http.get<{ rows: Product[] }>(
      "/api/products?minPrice=1600&maxPrice=2500&q=t",
    );
    expect(ranged.body.rows.map((p) => p.sku)).toEqual(["S-3"]);

    const paged = await sys.http.get<{
      rows: Product[];
      page: number;
      pageSize: number;
      totalPages: number;
      total: number;
    }>("/api/products?page=2&pageSize=1&q=kettle&sort=-price");
    expect(paged.body).toMatchObject({ page: 2, pageSize: 1, total: 2, totalPages: 2 });
    expect(paged.body.rows.map((p) => p.sku)).toEqual(["S-2"]);
  });

  it("shows a change to the next read although reads are cached", async () => {
    const p = (await create({ sku: "C-1", name: "Cached", price: 100, stock: 5 })).body;
    expect((await sys.http.get<Product>(`/api/products/${p.id}`)).body.price).toBe(100);
    const patched = await sys.http.patch<Product>(`/api/products/${p.id}`, {
      token: admin,
      json: { price: 90 },
    });
    expect(patched.status).toBe(200);
    expect((await sys.http.get<Product>(`/api/products/${p.id}`)).body.price).toBe(90);

    expect((await sys.http.del(`/api/products/${p.id}`, { token: admin })).status).toBe(204);
    expect((await sys.http.get(`/api/products/${p.id}`)).status).toBe(404);
  });

  it("answers 404 for an unknown id and 422 for bad input", async () => {
    expect((await sys.http.get("/api/products/does-not-exist")).status).toBe(404);
    const bad = await create({ sku: "B-1", name: "", price: -1, stock: 1.5 });
    expect(bad.status).toBe(422);
    expect(
      (bad.body as unknown as { data: Array<{ field: string }> }).data.map((d) => d.field).sort(),
    ).toEqual(["name", "price", "stock"]);
    expect((await sys.http.get("/api/products?pageSize=500")).status).toBe(422);
    expect((await sys.http.get("/api/products?sort=password")).status).toBe(422);
  });

  it("requires an admin to write", async () => {
    expect((await create({ sku: "N-1", name: "x", price: 1, stock: 1 }, "")).status).toBe(401);
    const customer = await sys.customer();
    expect(
      (await create({ sku: "N-1", name: "x", price: 1, stock: 1 }, customer.token)).status,
    ).toBe(403);
  });
});
