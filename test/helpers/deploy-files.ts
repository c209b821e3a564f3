/** The deployment files as data, shared by the coverage tests and the validator tests. */
import fs from "node:fs";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { SERVICE_SCHEMAS } from "../../services";

export const ROOT = path.resolve(__dirname, "../..");
export const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");

export type Obj = Record<string, unknown>;
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Obj;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
export interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string }[];
  ports?: { containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Obj; limits?: Obj };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}
export interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  containers: Container[];
}
export interface ComposeService {
  image?: string;
  build?: { context: string };
  env_file?: { path: string }[];
  environment?: Record<string, string>;
  stop_grace_period?: string;
  healthcheck?: Obj;
  depends_on?: Record<string, { condition: string }>;
}

export const SERVICE_NAMES = Object.keys(SERVICE_SCHEMAS);

/** Variables that are per process, not shared configuration — and why. */
export const PER_PROCESS: Record<string, string> = {
  SERVICES: "set on each container / Deployment to the service it runs (checked below)",
  NODE_ID: "defaults to hostname + pid; one shared value would make replicas collide",
};

/** Read by lib/config.ts for test runs only, never deployed (so in no deployment file). */
export const TEST_ONLY: Record<string, string> = {
  PAYMENT_CHARGE_LOG: "the test provider's charge log, set by the stack tests and chaos per run",
  CRASH_AFTER_WRITE: "a crash point for the outbox tests; refused in production",
};

/**
 * Every `env.NAME` / `env["NAME"]` that lib/config.ts reads for the deployed processes. The
 * variables of `loadToolConfig` (BENCH_*, CHAOS_*: `npm run bench` / `chaos` on a developer's or
 * CI's machine) come after it in the file and are never deployed; nor are the TEST_ONLY ones.
 */
export function configVariables(): string[] {
  const source = read("lib/config.ts").split("export function loadToolConfig")[0];
  const names = new Set<string>();
  for (const m of source.matchAll(
    /\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\])/g,
  )) {
    names.add(m[1] ?? m[2]);
  }
  return [...names].filter((name) => !TEST_ONLY[name]).sort();
}

export function envFileKeys(file: string): Set<string> {
  const keys = read(file)
    .split("\n")
    .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((k): k is string => Boolean(k));
  return new Set(keys);
}

export function k8sObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

interface Kustomization {
  resources?: string[];
  configMapGenerator?: Array<{
    name: string;
    envs?: string[];
    files?: string[];
    literals?: string[];
  }>;
}

/** `KEY=value` lines (comments and blank lines skipped), as kustomize reads an env file. */
export function envFileData(file: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const line of read(file).split("\n")) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) data[m[1]] = m[2];
  }
  return data;
}

/**
 * The objects of a kustomization as written: its resources (directories followed) and the
 * ConfigMaps its configMapGenerator makes, under their names without the hash suffix. No
 * patches are applied: what an overlay patches is checked on kustomize's real output
 * (test/deploy/validators.test.ts).
 */
export function kustomizationObjects(dir: string): K8sObject[] {
  const k = parse(read(path.join(dir, "kustomization.yaml"))) as Kustomization;
  const objects = (k.resources ?? []).flatMap((entry) => {
    const rel = path.join(dir, entry);
    return fs.statSync(path.join(ROOT, rel)).isDirectory()
      ? kustomizationObjects(rel)
      : k8sObjects(read(rel));
  });
  for (const g of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const env of g.envs ?? []) Object.assign(data, envFileData(path.join(dir, env)));
    for (const file of g.files ?? []) {
      const [key, source = key] = file.split("=");
      data[path.basename(key)] = read(path.join(dir, source));
    }
    for (const literal of g.literals ?? []) {
      const [key, ...value] = literal.split("=");
      data[key] = value.join("=");
    }
    objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: g.name }, data });
  }
  return objects;
}

/** k8s/base: the application only. */
export const baseObjects = kustomizationObjects("k8s/base");
/** k8s/overlays/demo: the base plus one-replica NATS, Mongo, Redis and placeholder Secrets. */
export const demoObjects = kustomizationObjects("k8s/overlays/demo");
export const ofKind = (objects: K8sObject[], kind: string) =>
  objects.filter((o) => o.kind === kind);
export const podSpec = (o: K8sObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;
export const servicesEnv = (o: K8sObject) =>
  podSpec(o).containers[0].env?.find((e) => e.name === "SERVICES")?.value;

export const compose = parse(read("docker-compose.yml"), { merge: true }) as {
  services: Record<string, ComposeService>;
};

/** seconds the broker may spend draining on SIGTERM (tracking.shutdownTimeout). */
export function shutdownTimeoutSeconds(): number {
  const m = /shutdownTimeout:\s*([\d_]+)/.exec(read("moleculer.config.ts"));
  if (!m) throw new Error("tracking.shutdownTimeout not found in moleculer.config.ts");
  return Number(m[1].replace(/_/g, "")) / 1000;
}

/** V8's heap as a share of limits.memory (docs/DEPLOY.md, "Memory"): room for the rest. */
export const HEAP_SHARE = { min: 0.6, max: 0.7 };

/** `128Mi`, `1Gi`, `512M` → MiB. */
export function mebibytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  const factor: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    K: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
  };
  return Number(m[1]) * (m[2] ? factor[m[2]] : 1 / 2 ** 20);
}

interface Probe {
  httpGet?: { path?: string };
}

/**
 * What a production rollout must not have (issue: ready means ready, no single point of
 * failure, sane scaling and memory), as one line per broken rule; `[]` when none:
 * - a Deployment an HPA scales carries no `spec.replicas` (every apply would reset the scale);
 * - each app Deployment has a PDB with `maxUnavailable: 1` and no `minAvailable`;
 * - no probe reads `/metrics` (it answers while NATS and Mongo are gone);
 * - each Node container (the `commerce-mesh` image) sets `--max-old-space-size` in NODE_OPTIONS
 *   at 60–70 % of its limit (the Python service's image has no V8 heap to size).
 */
export function productionRuleViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  const scaled = new Set(
    ofKind(objects, "HorizontalPodAutoscaler").map(
      (h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name,
    ),
  );
  const pdbs = ofKind(objects, "PodDisruptionBudget");
  for (const d of ofKind(objects, "Deployment")) {
    const name = d.metadata.name;
    if (scaled.has(name) && d.spec?.replicas !== undefined) {
      out.push(`${name}: spec.replicas next to the HorizontalPodAutoscaler that scales it`);
    }
    const selector = (d.spec?.selector as { matchLabels?: unknown } | undefined)?.matchLabels;
    const pdb = pdbs.find(
      (p) =>
        JSON.stringify(
          (p.spec as { selector?: { matchLabels?: unknown } }).selector?.matchLabels,
        ) === JSON.stringify(selector),
    );
    const budget = pdb?.spec as { maxUnavailable?: unknown; minAvailable?: unknown } | undefined;
    if (!budget || budget.maxUnavailable !== 1 || budget.minAvailable !== undefined) {
      out.push(`${name}: needs a PodDisruptionBudget with maxUnavailable: 1 (no minAvailable)`);
    }
    for (const c of podSpec(d).containers) {
      const probes = c as unknown as Record<string, Probe | undefined>;
      for (const kind of ["readinessProbe", "livenessProbe", "startupProbe"]) {
        if (probes[kind]?.httpGet?.path === "/metrics") {
          out.push(`${name}: ${kind} on /metrics (answers while NATS and Mongo are gone)`);
        }
      }
      if (!/(^|\/)commerce-mesh(:|$)/.test(c.image ?? "")) continue;
      const limit = c.resources?.limits?.memory;
      const options = c.env?.find((e) => e.name === "NODE_OPTIONS")?.value ?? "";
      const heap = /--max-old-space-size=(\d+)/.exec(options);
      if (typeof limit !== "string" || !heap) {
        out.push(`${name}: needs limits.memory and --max-old-space-size in NODE_OPTIONS`);
        continue;
      }
      const share = Number(heap[1]) / mebibytes(limit);
      if (share < HEAP_SHARE.min || share > HEAP_SHARE.max) {
        out.push(`${name}: heap ${heap[1]} MiB is ${Math.round(share * 100)} % of ${limit}`);
      }
    }
  }
  return out;
}

/**
 * Containers whose image is not pinned by a digest (`name@sha256:<64 hex>`), one line each:
 * the production overlay must have none (a tag can be moved to another image, a digest not).
 */
export function undigestedImages(objects: K8sObject[]): string[] {
  const workloads = [...ofKind(objects, "Deployment"), ...ofKind(objects, "StatefulSet")];
  return workloads.flatMap((w) =>
    podSpec(w)
      .containers.filter((c) => !/@sha256:[0-9a-f]{64}$/.test(c.image ?? ""))
      .map((c) => `${w.metadata.name}/${c.name}: ${c.image ?? "no image"} has no digest`),
  );
}
