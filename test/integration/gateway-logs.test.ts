/**
 * What the gateway logs for a 5xx (services/api.service.ts, errorHandler): a 503 — a service
 * away or busy, as during every node restart — is one warn line naming the error, without a
 * stack; the client's answer is the usual 503 body.
 */
import { startSystem, type TestSystem } from "../helpers/system";
import { createProduct } from "../helpers/shop";

describe("the gateway's log of a failed request", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await startSystem(["api", "users", "products"]);
  });
  afterAll(() => sys.stop());

  it("logs a 503 as one warn line with the error's name and message, no stack", async () => {
    const admin = await sys.adminToken();
    const product = await createProduct(sys.http, admin, 1);
    const logger = (sys.service("api") as unknown as { logger: Record<string, jest.Mock> }).logger;
    const warn = jest.spyOn(logger, "warn");
    const error = jest.spyOn(logger, "error");
    try {
      const set = await sys.http.request("PUT", "/api/admin/faults/products.get", {
        token: admin,
        json: { error: 1 },
      });
      expect(set.status).toBe(200);
      const res = await sys.http.get(`/api/products/${product.id}`);
      expect(res).toMatchObject({ status: 503, body: { type: "SERVICE_UNAVAILABLE" } });
      const lines = warn.mock.calls.filter((args) => String(args[0]).includes("failed:"));
      expect(lines).toEqual([
        [
          `GET /api/products/${product.id} failed: InjectedFaultError: Injected fault (products.get) (answered 503)`,
        ],
      ]);
      expect(error.mock.calls.filter((args) => String(args[0]).includes("failed:"))).toEqual([]);
    } finally {
      warn.mockRestore();
      error.mockRestore();
      await sys.http.del("/api/admin/faults", { token: admin });
    }
  });
});
