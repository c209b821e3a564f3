/**
 * The deployment files through real validators: kustomize + kubernetes-validate (Kubernetes
 * JSON schemas), compose-go, hadolint, promtool, nginx -t — and proof that each validator
 * rejects a broken input. tools/validate-deploy.sh builds the tools and runs this file
 * (DEPLOY_VALIDATORS=1); plain `npm test` does not select it.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import {
  ROOT,
  read,
  SERVICE_NAMES,
  configVariables,
  k8sObjects,
  ofKind,
  podSpec,
  productionRuleViolations,
  undigestedImages,
  PER_PROCESS,
} from "../helpers/deploy-files";
import { freePort } from "../helpers/cluster";
import { waitFor } from "../helpers/wait";
import { clientAddress, trustedProxies } from "../../services/api/client-ip";

const TOOLS = {
  kustomize: path.join(ROOT, "tools/bin/kustomize"),
  // kubectl 1.32's bundled kustomize: the oldest the overlays must build with.
  kustomizeMin: path.join(ROOT, "tools/bin/kustomize-v5.5.0"),
  composeValidate: path.join(ROOT, "tools/bin/compose-validate"),
  kubernetesValidate: path.join(ROOT, "tools/.venv/bin/kubernetes-validate"),
  python: path.join(ROOT, "tools/.venv/bin/python"),
  kubeconform: path.join(ROOT, "tools/bin/kubeconform-v0.6.7"),
  // the Gateway API's and the Prometheus Operator's CRDs as JSON schemas (tools/crd-schemas.py)
  crdSchemas: path.join(ROOT, "tools/bin/crd-schemas"),
  hadolint: path.join(ROOT, "tools/.venv/bin/hadolint"),
  promtool: path.join(ROOT, "tools/.apt/bin/promtool"),
  nginx: path.join(ROOT, "tools/.apt/bin/nginx"),
};
const K8S_VERSION = process.env.K8S_VERSION ?? "1.33";
const toolsBuilt = Object.values(TOOLS).every((t) => fs.existsSync(t));

function run(cmd: string, args: string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, input, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** kubeconform -strict with the CRDs' schemas only: a custom resource without one fails. */
function kubeconform(file: string): { status: number | null; out: string } {
  const location = `${TOOLS.crdSchemas}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`;
  return run(TOOLS.kubeconform, ["-strict", "-schema-location", location, file]);
}

/**
 * What CI runs on k8s/ (tools/validate-deploy.sh): kustomize build DIR, the custom resources
 * (HTTPRoute, PodMonitor) through kubeconform against their CRDs' schemas, everything else
 * through kubernetes-validate --strict.
 */
function validateKustomization(dir: string): {
  status: number | null;
  out: string;
  rendered: string;
} {
  const built = run(TOOLS.kustomize, ["build", dir]);
  if (built.status !== 0) return { ...built, rendered: "" };
  const work = tempDir({ "all.yaml": built.out });
  const [all, custom, core] = ["all", "custom", "core"].map((f) => path.join(work, `${f}.yaml`));
  const split = run(TOOLS.python, [
    "tools/crd-schemas.py",
    "split",
    TOOLS.crdSchemas,
    all,
    custom,
    core,
  ]);
  if (split.status !== 0) return { ...split, rendered: built.out };
  const checked = run(TOOLS.kubernetesValidate, ["--strict", "--quiet", "-k", K8S_VERSION, core]);
  if (checked.status !== 0 || fs.statSync(custom).size === 0) {
    return { ...checked, rendered: built.out };
  }
  const crds = kubeconform(custom);
  return { status: crds.status, out: checked.out + crds.out, rendered: built.out };
}

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-manifests-"));
  tempDirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const deployment = (replicas: string, extra = "") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: broken }
  template:
    metadata:
      labels: { app: broken }
    spec:
      containers:
        - name: broken
          image: commerce-mesh:latest
${extra}`;
const kustomization = "resources:\n  - deployment.yaml\n";

describe("real validators", () => {
  beforeAll(() => {
    if (!toolsBuilt) {
      throw new Error("validators missing: run tools/validate-deploy.sh --tools first");
    }
  });

  describe("Kubernetes: kustomize build + kubernetes-validate", () => {
    it.each(["k8s/base", "k8s/overlays/demo", "k8s/overlays/production"])("accepts %s", (dir) => {
      const result = validateKustomization(dir);
      expect(result.out).toBe("");
      expect(result.status).toBe(0);
    });

    it("renders a Deployment per service, and in production no Secret and every image by digest", () => {
      const base = k8sObjects(validateKustomization("k8s/base").rendered);
      expect(ofKind(base, "Deployment").map((d) => d.metadata.name)).toEqual(
        expect.arrayContaining(SERVICE_NAMES),
      );
      const production = k8sObjects(validateKustomization("k8s/overlays/production").rendered);
      expect(ofKind(production, "Secret")).toEqual([]);
      expect(undigestedImages(production)).toEqual([]);
      const images = [...ofKind(production, "Deployment"), ...ofKind(production, "StatefulSet")]
        .flatMap((w) => podSpec(w).containers.map((c) => c.image))
        .map((image) => image!.split("@")[0]);
      expect(new Set(images)).toEqual(
        new Set([
          "registry.example.com/commerce-mesh",
          "registry.example.com/commerce-mesh-recommendations",
          "postgres",
        ]),
      );
      // What the rule refuses: an image by tag only (the base's), or no image reference at all.
      expect(undigestedImages(base).length).toBeGreaterThan(SERVICE_NAMES.length);
    });

    it("serves production through the HTTPRoute only, with the production configuration", () => {
      const production = k8sObjects(validateKustomization("k8s/overlays/production").rendered);
      expect(ofKind(production, "Ingress")).toEqual([]);
      expect(ofKind(production, "HTTPRoute").map((o) => o.metadata.name)).toEqual(["api"]);
      expect(
        ofKind(production, "PodMonitor")
          .map((o) => o.metadata.name)
          .sort(),
      ).toEqual(["commerce-mesh", "recommendations"]);
      const [config] = ofKind(production, "ConfigMap").filter((o) =>
        o.metadata.name.startsWith("commerce-mesh-config-"),
      );
      expect(config.data).toMatchObject({ NODE_ENV: "production", TRACING_SAMPLE_RATE: "0.1" });
      for (const url of ["CACHER", "TRANSPORTER", "MONGO_URI"]) {
        expect(config.data).not.toHaveProperty(url);
      }
    });

    it("names the nodes' ConfigMap by a hash of its content, so a changed value rolls the pods", () => {
      const configName = (rendered: string) => {
        const objects = k8sObjects(rendered);
        const names = ofKind(objects, "ConfigMap")
          .map((o) => o.metadata.name)
          .filter((n) => n.startsWith("commerce-mesh-config"));
        expect(names).toHaveLength(1);
        // every Deployment of the image reads it under that name
        for (const d of ofKind(objects, "Deployment")) {
          const c = podSpec(d).containers[0] as {
            image?: string;
            envFrom?: Array<{ configMapRef?: { name: string } }>;
          };
          if (!c.image?.includes("commerce-mesh-recommendations")) {
            expect(c.envFrom?.[0].configMapRef?.name).toBe(names[0]);
          }
        }
        return names[0];
      };
      const copy = tempDir({});
      fs.cpSync(path.join(ROOT, "k8s"), path.join(copy, "k8s"), { recursive: true });
      const build = () => run(TOOLS.kustomize, ["build", path.join(copy, "k8s/base")]).out;
      const before = configName(build());
      expect(before).toMatch(/^commerce-mesh-config-[a-z0-9]{10}$/);
      const env = path.join(copy, "k8s/base/config.env");
      fs.writeFileSync(
        env,
        fs.readFileSync(env, "utf8").replace("LOGLEVEL=info", "LOGLEVEL=debug"),
      );
      const after = configName(build());
      expect(after).toMatch(/^commerce-mesh-config-[a-z0-9]{10}$/);
      expect(after).not.toBe(before);
    });

    it("rejects, with the CRDs' schemas, an HTTPRoute or a PodMonitor field they do not know", () => {
      const production = validateKustomization("k8s/overlays/production").rendered;
      const broken = production
        .replace("type: PathPrefix", "type: Prefix")
        .replace("interval: 15s", "intervall: 15s");
      const work = tempDir({ "all.yaml": broken });
      const [all, custom, core] = ["all", "custom", "core"].map((f) =>
        path.join(work, `${f}.yaml`),
      );
      expect(
        run(TOOLS.python, ["tools/crd-schemas.py", "split", TOOLS.crdSchemas, all, custom, core])
          .status,
      ).toBe(0);
      const result = kubeconform(custom);
      expect(result.status).not.toBe(0);
      expect(result.out).toMatch(
        /HTTPRoute api is invalid.*value must be one of "Exact", "PathPrefix"/,
      );
      expect(result.out).toMatch(/PodMonitor commerce-mesh is invalid.*'intervall' not allowed/);
      // a custom resource whose CRD schema is missing fails too, it is not skipped
      const unknown = tempDir({
        "x.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
      });
      expect(kubeconform(path.join(unknown, "x.yaml")).status).not.toBe(0);
    });

    it("keeps the production rules in the rendered production overlay", () => {
      const production = k8sObjects(validateKustomization("k8s/overlays/production").rendered);
      expect(productionRuleViolations(production)).toEqual([]);
      const config = ofKind(production, "ConfigMap").find((o) =>
        o.metadata.name.startsWith("commerce-mesh-config-"),
      );
      expect(config?.data?.NODE_ENV).toBe("production");
    });

    it.each(["k8s/base", "k8s/overlays/demo", "k8s/overlays/production"])(
      "builds %s with kustomize v5.5.0 (kubectl 1.32) into the same objects",
      (dir) => {
        const oldest = run(TOOLS.kustomizeMin, ["build", dir]);
        expect(oldest.status).toBe(0);
        expect(oldest.out).toBe(run(TOOLS.kustomize, ["build", dir]).out);
      },
    );

    it("has the oldest kustomize that panics on several deletions in one patch file", () => {
      const secret = (name: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n`;
      const dir = tempDir({
        "kustomization.yaml": "resources:\n  - secrets.yaml\npatches:\n  - path: delete.yaml\n",
        "secrets.yaml": `${secret("a")}---\n${secret("b")}`,
        "delete.yaml": `$patch: delete\n${secret("a")}---\n$patch: delete\n${secret("b")}`,
      });
      const oldest = run(TOOLS.kustomizeMin, ["build", dir]);
      expect(oldest.status).not.toBe(0);
      expect(oldest.out).toMatch(/panic: runtime error/);
    });

    it("rejects a Deployment whose replicas is a string", () => {
      const dir = tempDir({
        "kustomization.yaml": kustomization,
        "deployment.yaml": deployment('"two"'),
      });
      const result = validateKustomization(dir);
      expect(result.status).not.toBe(0);
      expect(result.out).toMatch(/spec\.replicas: 'two' is not of type 'integer'/);
    });

    it("rejects a field the Kubernetes schema does not know (strict)", () => {
      const typo = "          imagePullPolice: Always\n";
      const dir = tempDir({
        "kustomization.yaml": kustomization,
        "deployment.yaml": deployment("2", typo),
      });
      const result = validateKustomization(dir);
      expect(result.status).not.toBe(0);
      expect(result.out).toMatch(/imagePullPolice/);
    });
  });

  describe("Compose: compose-go", () => {
    it("accepts docker-compose.yml", () => {
      const result = run(TOOLS.composeValidate, ["docker-compose.yml"]);
      expect(result.status).toBe(0);
    });

    it("resolves every variable lib/config.ts reads into each service's environment", () => {
      const result = run(TOOLS.composeValidate, ["-json", "docker-compose.yml"]);
      expect(result.status).toBe(0);
      const project = JSON.parse(result.out) as {
        services: Record<string, { environment: Record<string, string | null> }>;
      };
      // SERVICES is set per container; the other per-process variables are never deployed.
      const variables = configVariables().filter((v) => v === "SERVICES" || !PER_PROCESS[v]);
      for (const name of SERVICE_NAMES) {
        const env = project.services[name].environment;
        const missing = variables.filter((v) => !(v in env));
        expect({ name, missing }).toEqual({ name, missing: [] });
        expect(env.SERVICES).toBe(name);
      }
    });

    it("rejects a replica count that is not a number", () => {
      const dir = tempDir({
        "docker-compose.yml":
          'services:\n  api:\n    image: x\n    deploy:\n      replicas: "two"\n',
      });
      const result = run(TOOLS.composeValidate, [path.join(dir, "docker-compose.yml")]);
      expect(result.status).not.toBe(0);
      expect(result.out).toMatch(/replicas/);
    });

    it("publishes every port on 127.0.0.1 only, except the gateway's nginx", () => {
      const result = run(TOOLS.composeValidate, ["-json", "docker-compose.yml"]);
      expect(result.status).toBe(0);
      const project = JSON.parse(result.out) as {
        services: Record<string, { ports?: { host_ip?: string; published?: string }[] }>;
      };
      const published = Object.entries(project.services).flatMap(([name, svc]) =>
        (svc.ports ?? []).map((p) => ({ name, hostIp: p.host_ip ?? "" })),
      );
      expect(published.map((p) => p.name).sort()).toEqual(
        ["gateway", "grafana", "jaeger", "mailpit", "prometheus"].sort(),
      );
      for (const p of published) {
        expect(p).toEqual({ name: p.name, hostIp: p.name === "gateway" ? "" : "127.0.0.1" });
      }
    });

    it("runs compose's Redis with the password the nodes' CACHER carries, and refuses clients without it", async () => {
      const result = run(TOOLS.composeValidate, ["-json", "docker-compose.yml"]);
      const project = JSON.parse(result.out) as {
        services: Record<string, { command: string[]; environment: Record<string, string> }>;
      };
      const redis = project.services.redis;
      const cacher = new URL(project.services.api.environment.CACHER);
      // compose's command, on a free port of this host's redis-server
      const port = await freePort();
      const [shell, flag, script] = redis.command;
      const child = spawn(
        shell,
        [flag, script.replace("exec redis-server", `exec redis-server --port ${port}`)],
        { env: { ...process.env, ...redis.environment }, stdio: "ignore" },
      );
      const cli = (...args: string[]) =>
        spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).stdout.trim();
      try {
        const withPassword = () =>
          cli("--no-auth-warning", "-a", decodeURIComponent(cacher.password), "ping");
        await waitFor(
          async () => withPassword(),
          (out) => out === "PONG",
          10_000,
        );
        expect(cli("ping")).toMatch(/NOAUTH/);
        expect(cli("--no-auth-warning", "-a", "wrong", "ping")).toMatch(/NOAUTH/);
      } finally {
        child.kill("SIGTERM");
      }
    });

    it("rejects a dependency on a service that does not exist", () => {
      const dir = tempDir({
        "docker-compose.yml":
          "services:\n  api:\n    image: x\n    depends_on:\n      ghost:\n        condition: service_healthy\n",
      });
      const result = run(TOOLS.composeValidate, [path.join(dir, "docker-compose.yml")]);
      expect(result.status).not.toBe(0);
      expect(result.out).toMatch(/ghost/);
    });
  });

  describe("Dockerfile: hadolint", () => {
    it.each(["Dockerfile", "services-py/recommendations/Dockerfile"])(
      "accepts %s with no finding at any level",
      (dockerfile) => {
        const result = run(TOOLS.hadolint, ["--no-color", dockerfile]);
        expect(result.out).toBe("");
        expect(result.status).toBe(0);
      },
    );

    it("rejects an unpinned base image, `cd` in RUN and a shell-form CMD", () => {
      const broken = "FROM node:latest\nRUN cd /app && npm install\nCMD npm start\n";
      const result = run(TOOLS.hadolint, ["--no-color", "-"], broken);
      expect(result.status).not.toBe(0);
      expect(result.out).toMatch(/DL3007/);
      expect(result.out).toMatch(/DL3003/);
      expect(result.out).toMatch(/DL3025/);
    });
  });

  describe("Prometheus and nginx configuration: promtool, nginx -t", () => {
    const promtool = (file: string) => run(TOOLS.promtool, ["check", "config", file]);
    const nginxTest = (file: string) =>
      run(TOOLS.nginx, [
        "-t",
        "-q",
        "-p",
        path.join(ROOT, "tools/.apt/nginx-prefix"),
        "-e",
        "stderr",
        "-c",
        file,
      ]);

    it("accepts deploy/prometheus/prometheus.yml and rejects a malformed scrape config", () => {
      expect(promtool("deploy/prometheus/prometheus.yml").status).toBe(0);
      const dir = tempDir({
        "prometheus.yml": "scrape_configs:\n  - job_name: x\n    scrape_interval: often\n",
      });
      const result = promtool(path.join(dir, "prometheus.yml"));
      expect(result.status).not.toBe(0);
      expect(result.out).toMatch(/often/);
    });

    it("nginx replaces a forged X-Forwarded-For, so the gateway's rate-limit key is the peer nginx saw", async () => {
      // deploy/nginx/nginx.conf as compose runs it, pointed at a local backend that keys
      // requests as the gateway does, with compose's TRUST_PROXY from .env.example.
      const trustProxy = /^TRUST_PROXY=(.*)$/m.exec(read(".env.example"))![1];
      const trusted = trustedProxies(trustProxy.split(","));
      const seen: { forwardedFor: unknown; key: string }[] = [];
      const backend = http.createServer((req, res) => {
        seen.push({
          forwardedFor: req.headers["x-forwarded-for"],
          key: clientAddress(req, trusted),
        });
        res.end("ok");
      });
      await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
      const backendPort = (backend.address() as { port: number }).port;
      const listen = await freePort();
      const dir = tempDir({});
      const conf = read("deploy/nginx/nginx.conf")
        .replace("set $gateway http://api:3000;", `set $gateway http://127.0.0.1:${backendPort};`)
        .replace("listen 8080;", `listen 127.0.0.1:${listen};`)
        .replaceAll("/tmp/", `${dir}/`);
      expect(conf).toContain(`127.0.0.1:${backendPort}`);
      fs.writeFileSync(path.join(dir, "nginx.conf"), conf);
      const nginx = spawn(
        TOOLS.nginx,
        ["-p", dir, "-e", "stderr", "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"],
        { stdio: "ignore" },
      );
      try {
        const send = (forwardedFor: string) =>
          fetch(`http://127.0.0.1:${listen}/api/products`, {
            headers: { "x-forwarded-for": forwardedFor },
          }).then((r) => r.status);
        await waitFor(
          () => send("203.0.113.1").catch(() => 0),
          (status) => status === 200,
          10_000,
        );
        seen.length = 0;
        for (const forged of ["203.0.113.9", "198.51.100.4, 203.0.113.10"]) {
          expect(await send(forged)).toBe(200);
        }
        expect(seen).toEqual([
          { forwardedFor: "127.0.0.1", key: "127.0.0.1" },
          { forwardedFor: "127.0.0.1", key: "127.0.0.1" },
        ]);
      } finally {
        nginx.kill("SIGTERM");
        backend.close();
      }
    });

    it("accepts deploy/nginx/nginx.conf and rejects an unknown directive", () => {
      expect(nginxTest(path.join(ROOT, "deploy/nginx/nginx.conf")).status).toBe(0);
      const broken = read("deploy/nginx/nginx.conf").replace("proxy_pass ", "proxy_pas ");
      const dir = tempDir({ "nginx.conf": broken });
      const result = nginxTest(path.join(dir, "nginx.conf"));
      expect(result.status).not.toBe(0);
      expect(result.out).toMatch(/unknown directive "proxy_pas"/);
    });
  });
});
