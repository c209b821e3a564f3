/**
 * The Python recommendations service (services-py/recommendations) as a node of a test cluster:
 * its interpreter from the venv tools/python-env.sh builds (CI exports RECOMMENDATIONS_PYTHON
 * from the test bench; without it the helper builds or reuses the venv itself).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { freePort, ROOT, type Cluster } from "./cluster";

export function recommendationsPython(): string {
  if (process.env.RECOMMENDATIONS_PYTHON) return process.env.RECOMMENDATIONS_PYTHON;
  return execFileSync("bash", [path.join(ROOT, "tools", "python-env.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

/** Starts the service as node `name`; resolves with its metrics port once it is on the mesh. */
export async function startRecommendations(
  cluster: Cluster,
  name: string,
  databaseUrl: string,
): Promise<number> {
  const metricsPort = await freePort();
  await cluster.start(
    name,
    ["recommendations"],
    { RECOMMENDATIONS_DATABASE_URL: databaseUrl, METRICS_PORT: String(metricsPort) },
    {
      command: recommendationsPython(),
      args: ["-m", "recommendations.main"],
      cwd: path.join(ROOT, "services-py", "recommendations"),
      readyText: "recommendations node",
    },
  );
  return metricsPort;
}

/** The value of one sample of the node's Prometheus metrics (0 when absent). */
export async function metricValue(port: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}
