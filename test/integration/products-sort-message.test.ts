/**
 * A bad `sort` on the catalog is a 422 whose message shows the caller's value and the allowed
 * ones, each in its place (fastest-validator's default put the allowed list where the value
 * goes).
 */
import { startSystem, type TestSystem } from "../helpers/system";

describe("the catalog's sort parameter", () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem(["api", "products"]);
  });
  afterAll(() => sys.broker.stop());

  it("names the value given and lists the allowed ones", async () => {
    const res = await sys.http.get<{ data: Array<{ field: string; message: string }> }>(
      "/api/products?sort=cheapest",
    );
    expect(res.status).toBe(422);
    expect(res.body.data).toEqual([
      {
        field: "sort",
        message:
          "The 'sort' field value 'cheapest' is not one of: price, -price, name, -name, createdAt, -createdAt.",
        type: "enumValue",
      },
    ]);
  });
});
