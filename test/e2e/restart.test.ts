/**
 * `npm start`'s process (dist/main.js, every service in one process) on the embedded default:
 * health answers, the demo catalog is listed, and a product created through the API is still
 * there after the process restarts (NeDB files under DATA_DIR). In the stack run the same
 * process uses the Mongo-wire database instead, and the product survives there too.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Cluster } from "../helpers/cluster";
import { client } from "../helpers/http";

describe("the whole system in one process", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-data-"));
  const cluster = new Cluster({
    DATA_DIR: dataDir,
    SEED_DEMO_DATA: "true",
    NODE_ENV: "development",
    JWT_SECRET: "", // the embedded default makes its own key and keeps it in DATA_DIR
  });

  afterAll(async () => {
    await cluster.stopAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("is live, lists the demo catalog, and keeps a created product across a restart", async () => {
    await cluster.start("all", []);
    const http = client(cluster.baseUrl("all"));

    expect((await http.get("/health/live")).status).toBe(200);
    expect((await http.get("/health/ready")).status).toBe(200);
    const catalog = await http.get<{ total: number }>("/api/products");
    expect(catalog.status).toBe(200);
    expect(catalog.body.total).toBeGreaterThanOrEqual(12);

    const login = await http.post<{ token: string }>("/api/auth/login", {
      json: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
    });
    expect(login.status).toBe(200);
    const created = await http.post<{ id: string }>("/api/products", {
      token: login.body.token,
      json: { sku: "KEEP-1", name: "Survivor", price: 500, stock: 2 },
    });
    expect(created.status).toBe(201);

    expect(await cluster.stop("all")).toBe(0);
    await cluster.restart("all");

    const again = await http.get<{ sku: string; name: string }>(`/api/products/${created.body.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ sku: "KEEP-1", name: "Survivor" });
    // The admin's token still verifies: the signing key lives with the data.
    const me = await http.get("/api/users/me", { token: login.body.token });
    expect(me.status).toBe(200);
  });
});
