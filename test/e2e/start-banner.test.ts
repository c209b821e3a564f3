/**
 * What `node dist/main.js` prints once it is ready: the URLs to open (shop, API, health,
 * metrics) and whether an admin exists, with how to create one when none does.
 */
import { freePort } from "../helpers/cluster";
import { MainProcess } from "../helpers/main-process";

describe("the start banner", () => {
  const nodes: MainProcess[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  });

  it("prints the URLs and says how to create the missing admin", async () => {
    const [port, metrics] = [await freePort(), await freePort()];
    const node = new MainProcess({
      PORT: String(port),
      METRICS: "true",
      METRICS_PORT: String(metrics),
      ADMIN_EMAIL: "",
      ADMIN_PASSWORD: "",
    });
    nodes.push(node);
    const output = await node.says(/admin +none yet/);
    expect(output).toContain(
      `shop       http://localhost:${port}/ (operator console: http://localhost:${port}/console)`,
    );
    expect(output).toContain(`http://localhost:${port}/api/openapi.json`);
    expect(output).toContain(`http://localhost:${port}/health/ready`);
    expect(output).toContain(`metrics    http://localhost:${metrics}/metrics`);
    expect(output).toMatch(/admin +none yet: .*set ADMIN_EMAIL and ADMIN_PASSWORD/);
  });

  it("counts the admins when there is one", async () => {
    const node = new MainProcess({ PORT: "0" });
    nodes.push(node);
    expect(await node.says(/admin +\d+ admin account/)).toMatch(/admin +1 admin account/);
  });
});
