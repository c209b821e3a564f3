/**
 * Where the suites' calls travel. Embedded (run 1), the gateway and the services share one
 * broker. With a TRANSPORTER (run 2), startSystem puts the gateway in a broker of its own, so
 * the e2e and integration suites exercise the real transporter between gateway and services.
 */
import { config } from "../../lib/config";
import { startSystem, type TestSystem } from "../helpers/system";

const SERVICES = ["users", "products", "orders", "payments", "notifications"];

describe("the system the suites start", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await startSystem();
  });
  afterAll(() => sys.stop());

  /** Nodes that offer an endpoint of `action`, as the gateway's registry sees them. */
  const nodesOf = (action: string) =>
    sys.broker.registry.getActionEndpoints(action)?.endpoints.map((e) => e.node.id) ?? [];

  if (config().transporter) {
    it("puts the gateway alone in its broker and reaches every service over the transporter", async () => {
      expect(sys.brokers.length).toBe(2);
      const [gateway, services] = sys.brokers;
      for (const name of SERVICES) {
        expect({ name, local: Boolean(gateway.getLocalService(name)) }).toEqual({
          name,
          local: false,
        });
        expect(services.getLocalService(name)).toBeDefined();
      }
      expect(nodesOf("products.list")).toEqual([services.nodeID]);

      // A search never made before (a cache miss) and a registration: both need the services'
      // broker, which only the transporter connects to the gateway.
      const search = await sys.http.get<{ rows: unknown[] }>(`/api/products?q=t${Date.now()}`);
      expect(search.status).toBe(200);
      expect(search.body.rows).toEqual([]);
      const customer = await sys.customer("transport");
      const me = await sys.http.get<{ email: string }>("/api/users/me", { token: customer.token });
      expect(me.body.email).toBe(customer.email);
    });
  } else {
    it("runs the gateway and every service in one broker (the embedded default)", async () => {
      expect(sys.brokers).toEqual([sys.broker]);
      for (const name of ["api", ...SERVICES])
        expect(sys.broker.getLocalService(name)).toBeDefined();
      expect(nodesOf("products.list")).toEqual([sys.broker.nodeID]);
      const customer = await sys.customer("embedded");
      const me = await sys.http.get<{ email: string }>("/api/users/me", { token: customer.token });
      expect(me.body.email).toBe(customer.email);
    });
  }
});
