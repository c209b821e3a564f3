/**
 * The deployment files (Dockerfile, docker-compose.yml, k8s/) checked against the code they
 * deploy: every service, every variable lib/config.ts reads, the broker's shutdown time. The
 * real validators run in test/deploy/validators.test.ts (tools/validate-deploy.sh).
 */

import {
  SERVICE_NAMES,
  PER_PROCESS,
  configVariables,
  envFileKeys,
  baseObjects,
  demoObjects,
  ofKind,
  podSpec,
  servicesEnv,
  compose,
  shutdownTimeoutSeconds,
  read,
  k8sObjects,
  productionRuleViolations,
  type K8sObject,
} from "../helpers/deploy-files";
import { ASYNC_CONTEXT_FRAME_FLAG } from "../../middlewares/log-context";
import { parse } from "yaml";
import { ConfigError, loadConfig } from "../../lib/config";
import { trustedProxies } from "../../services/api/client-ip";

const k8sObjectsOf = (file: string) => k8sObjects(read(file));

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

  it("sets every variable lib/config.ts reads in the ConfigMap or the (demo) Secret", () => {
    const keys = new Set<string>();
    for (const o of demoObjects) {
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
    const workloads = [...ofKind(demoObjects, "Deployment"), ...ofKind(demoObjects, "StatefulSet")];
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

  it("probes every node's readiness on /health/ready: the gateway on PORT, others on HEALTH_PORT", () => {
    const config = ofKind(baseObjects, "ConfigMap").find(
      (o) => o.metadata.name === "commerce-mesh-config",
    )!;
    // The Node image's Deployments (the Python service's probes are checked with its manifest).
    const nodes = ofKind(baseObjects, "Deployment").filter((d) =>
      podSpec(d).containers[0].image?.startsWith("commerce-mesh:"),
    );
    expect(nodes.length).toBe(6);
    for (const d of nodes) {
      const c = podSpec(d).containers[0] as {
        readinessProbe?: { httpGet?: { path: string; port: string } };
        livenessProbe?: { httpGet?: { path: string; port: string } };
        ports?: { name: string; containerPort: number }[];
      };
      const port = d.metadata.name === "api" ? "http" : "health";
      expect({ name: d.metadata.name, ready: c.readinessProbe?.httpGet }).toEqual({
        name: d.metadata.name,
        ready: { path: "/health/ready", port },
      });
      expect(c.livenessProbe?.httpGet).toEqual({ path: "/health/live", port });
      const wanted = port === "http" ? config.data!.PORT : config.data!.HEALTH_PORT;
      expect(c.ports?.find((p) => p.name === port)?.containerPort).toBe(Number(wanted));
    }
  });

  it("keeps the production rules: no replicas under an HPA, PDBs, probes off /metrics, heap from the limit", () => {
    const hpas = ofKind(baseObjects, "HorizontalPodAutoscaler").map((o) => o.metadata.name);
    expect(hpas).toEqual(expect.arrayContaining(["api", "orders"]));
    expect(productionRuleViolations(baseObjects)).toEqual([]);
  });

  it("reports each broken production rule", () => {
    const broken = structuredClone(baseObjects) as K8sObject[];
    const find = (kind: string, name: string) =>
      broken.find((o) => o.kind === kind && o.metadata.name === name)!;
    find("Deployment", "api").spec!.replicas = 2;
    find("PodDisruptionBudget", "users").spec = {
      minAvailable: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": "users" } },
    };
    const orders = podSpec(find("Deployment", "orders")).containers[0] as unknown as {
      readinessProbe: { httpGet: { path: string } };
    };
    orders.readinessProbe.httpGet.path = "/metrics";
    const products = podSpec(find("Deployment", "products")).containers[0];
    products.env = products.env!.map((e) =>
      e.name === "NODE_OPTIONS" ? { ...e, value: "--max-old-space-size=300" } : e,
    );
    const payments = podSpec(find("Deployment", "payments")).containers[0];
    payments.env = payments.env!.filter((e) => e.name !== "NODE_OPTIONS");
    expect(productionRuleViolations(broken).sort()).toEqual([
      "api: spec.replicas next to the HorizontalPodAutoscaler that scales it",
      "orders: readinessProbe on /metrics (answers while NATS and Mongo are gone)",
      "payments: needs limits.memory and --max-old-space-size in NODE_OPTIONS",
      "products: heap 300 MiB is 94 % of 320Mi",
      "users: needs a PodDisruptionBudget with maxUnavailable: 1 (no minAvailable)",
    ]);
  });

  it("keeps the base app-only: NATS, Mongo, Redis and every placeholder Secret are the demo overlay's", () => {
    const infra = ["nats", "mongo", "redis"];
    const statefulSets = (objects: K8sObject[]) =>
      ofKind(objects, "StatefulSet").map((o) => o.metadata.name);
    expect(statefulSets(baseObjects)).toEqual(["recommendations-db"]);
    expect(ofKind(baseObjects, "Secret")).toEqual([]);
    expect(statefulSets(demoObjects)).toEqual(expect.arrayContaining(infra));
    expect(
      ofKind(demoObjects, "Secret")
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual([
      "commerce-mesh-secrets",
      "mongo-credentials",
      "nats-credentials",
      "recommendations-db-credentials",
      "redis-credentials",
    ]);
  });

  it("puts every URL with a password in the Secret, and the demo Redis requires the CACHER's one", () => {
    const config = ofKind(baseObjects, "ConfigMap").find(
      (o) => o.metadata.name === "commerce-mesh-config",
    )!;
    for (const url of ["CACHER", "TRANSPORTER", "MONGO_URI"]) {
      expect(config.data).not.toHaveProperty(url);
    }
    const secret = (name: string) =>
      ofKind(demoObjects, "Secret").find((o) => o.metadata.name === name)!.stringData!;
    const redis = podSpec(
      ofKind(demoObjects, "StatefulSet").find((o) => o.metadata.name === "redis")!,
    ).containers[0] as unknown as {
      args: string[];
      env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
    };
    const required = redis.args.indexOf("--requirepass");
    expect(redis.args[required + 1]).toBe("$(REDIS_PASSWORD)");
    for (const name of ["REDIS_PASSWORD", "REDISCLI_AUTH"]) {
      expect(redis.env.find((e) => e.name === name)?.valueFrom?.secretKeyRef).toEqual({
        name: "redis-credentials",
        key: "REDIS_PASSWORD",
      });
    }
    const cacher = new URL(secret("commerce-mesh-secrets").CACHER);
    expect(decodeURIComponent(cacher.password)).toBe(secret("redis-credentials").REDIS_PASSWORD);
    expect(cacher.host).toBe("redis:6379");
  });

  it("trusts one proxy hop in Kubernetes, not a CIDR that covers the nodes", () => {
    const config = ofKind(baseObjects, "ConfigMap").find(
      (o) => o.metadata.name === "commerce-mesh-config",
    )!;
    expect(trustedProxies(config.data!.TRUST_PROXY.split(","))).toEqual({ hops: 1 });
  });

  it("scrapes with the Prometheus Operator exactly what deploy/prometheus/prometheus.yml scrapes", () => {
    interface Job {
      job_name: string;
      metrics_path: string;
      scrape_interval?: string;
      dns_sd_configs: Array<{ port: number; names: string[] }>;
      relabel_configs: Array<{ source_labels: string[]; target_label: string }>;
    }
    interface PodMonitorSpec {
      jobLabel?: string;
      selector: {
        matchLabels: Record<string, string>;
        matchExpressions?: Array<{ key: string; operator: string; values: string[] }>;
      };
      podMetricsEndpoints: Array<{
        port: string;
        path: string;
        interval: string;
        relabelings: Array<{ sourceLabels: string[]; targetLabel: string }>;
      }>;
    }
    const prometheus = parse(read("deploy/prometheus/prometheus.yml")) as {
      global: { scrape_interval: string };
      scrape_configs: Job[];
    };
    const monitors = k8sObjectsOf("k8s/overlays/production/podmonitors.yaml");
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(
      prometheus.scrape_configs.map((j) => j.job_name).sort(),
    );
    const pods = ofKind(baseObjects, "Deployment").map((d) => ({
      labels: (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template
        .metadata.labels,
      ports: (podSpec(d).containers[0].ports ?? []) as Array<{
        name: string;
        containerPort: number;
      }>,
    }));
    const selects = (spec: PodMonitorSpec, labels: Record<string, string>) =>
      Object.entries(spec.selector.matchLabels).every(([k, v]) => labels[k] === v) &&
      (spec.selector.matchExpressions ?? []).every((e) =>
        e.operator === "NotIn"
          ? !e.values.includes(labels[e.key])
          : e.values.includes(labels[e.key]),
      );
    for (const job of prometheus.scrape_configs) {
      const spec = monitors.find((m) => m.metadata.name === job.job_name)!
        .spec as unknown as PodMonitorSpec;
      const [endpoint] = spec.podMetricsEndpoints;
      const selected = pods.filter((p) => selects(spec, p.labels));
      expect({
        job: job.job_name,
        path: endpoint.path,
        interval: endpoint.interval,
        services: selected.map((p) => p.labels["app.kubernetes.io/name"]).sort(),
        ports: [
          ...new Set(
            selected.map((p) => p.ports.find((q) => q.name === endpoint.port)?.containerPort),
          ),
        ],
        jobNames: [...new Set(selected.map((p) => p.labels[spec.jobLabel ?? ""]))],
        serviceLabel: endpoint.relabelings.find((r) => r.targetLabel === "service")?.sourceLabels,
      }).toEqual({
        job: job.job_name,
        path: job.metrics_path,
        interval: job.scrape_interval ?? prometheus.global.scrape_interval,
        services: job.dns_sd_configs[0].names.sort(),
        ports: [job.dns_sd_configs[0].port],
        jobNames: [job.job_name],
        // compose's `service` is the DNS name, i.e. the service; here the pod's name label
        serviceLabel: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
      });
      expect(job.relabel_configs.map((r) => r.target_label)).toEqual(["service"]);
    }
  });

  it("routes the production HTTPRoute to the gateway Service's port", () => {
    const [route] = k8sObjectsOf("k8s/overlays/production/httproute.yaml");
    const rules = (
      route.spec as { rules: Array<{ backendRefs: Array<{ name: string; port: number }> }> }
    ).rules;
    const service = ofKind(baseObjects, "Service").find((o) => o.metadata.name === "api")!;
    const ports = (service.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port);
    expect(rules.flatMap((r) => r.backendRefs)).toEqual([{ name: "api", port: ports[0] }]);
  });

  it("gives Mongo a startup probe on the pod's address, so liveness spares a slow first boot", () => {
    const mongo = ofKind(demoObjects, "StatefulSet").find((o) => o.metadata.name === "mongo")!;
    const c = podSpec(mongo).containers[0] as {
      startupProbe?: {
        tcpSocket?: { port: string };
        periodSeconds: number;
        failureThreshold: number;
      };
    };
    expect(c.startupProbe?.tcpSocket).toEqual({ port: "mongo" });
    expect(c.startupProbe!.periodSeconds * c.startupProbe!.failureThreshold).toBeGreaterThanOrEqual(
      120,
    );
  });

  it("lets DNS reach NodeLocal DNSCache and the Ingress controller reach ACME solver pods", () => {
    const policy = (name: string) =>
      ofKind(baseObjects, "NetworkPolicy").find((o) => o.metadata.name === name)?.spec as {
        podSelector: { matchLabels?: Record<string, string> };
        egress?: { to: { ipBlock?: { cidr: string } }[] }[];
        ingress?: { ports: { port: number }[] }[];
      };
    const dnsPeers = policy("dns-egress").egress!.flatMap((rule) => rule.to);
    expect(dnsPeers.map((peer) => peer.ipBlock?.cidr)).toContain("169.254.20.10/32");
    const acme = policy("acme-solver-ingress");
    expect(acme.podSelector.matchLabels).toEqual({ "acme.cert-manager.io/http01-solver": "true" });
    expect(acme.ingress![0].ports).toEqual([{ protocol: "TCP", port: 8089 }]);
  });

  it("refuses, in production, every JWT_SECRET placeholder the repository ships", () => {
    const shipped = [
      ...ofKind(demoObjects, "Secret").flatMap((o) => o.stringData?.JWT_SECRET ?? []),
      /^JWT_SECRET=(.*)$/m.exec(read(".env.example"))![1],
    ];
    expect(shipped.length).toBe(2);
    for (const secret of shipped) {
      let refusal: unknown;
      try {
        loadConfig({ NODE_ENV: "production", JWT_SECRET: secret });
      } catch (err) {
        refusal = err;
      }
      expect(refusal).toBeInstanceOf(ConfigError);
      expect(refusal).toMatchObject({
        variable: "JWT_SECRET",
        message: expect.stringMatching(/placeholder/),
      });
    }
    // A real one passes; outside production the placeholders still start a demo.
    const real = loadConfig({
      NODE_ENV: "production",
      JWT_SECRET: "a".repeat(24) + "9f3c81d0b2e4a7c6",
    });
    expect(real.auth.jwtSecret).toHaveLength(40);
    expect(loadConfig({ NODE_ENV: "development", JWT_SECRET: shipped[0] }).auth.jwtSecret).toBe(
      shipped[0],
    );
  });

  it("starts every node with the flag that keeps the logs' context off promise hooks", () => {
    const cmd = /^CMD (.*)$/m.exec(read("Dockerfile"))?.[1];
    expect(JSON.parse(cmd!)).toEqual(["node", ASYNC_CONTEXT_FRAME_FLAG, "dist/main.js"]);
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts.start).toContain(`node ${ASYNC_CONTEXT_FRAME_FLAG} dist/main.js`);
    // Nothing replaces the image's command on the way to a container.
    for (const d of ofKind(baseObjects, "Deployment")) {
      const c = podSpec(d).containers[0] as { command?: unknown; args?: unknown };
      expect({ name: d.metadata.name, command: c.command, args: c.args }).toEqual({
        name: d.metadata.name,
        command: undefined,
        args: undefined,
      });
    }
    for (const name of SERVICE_NAMES) {
      expect((compose.services[name] as { command?: unknown }).command).toBeUndefined();
    }
  });

  it("ships deploy/prometheus/alerts.yml unchanged to compose's and Kubernetes' Prometheus", () => {
    const rules = read("deploy/prometheus/alerts.yml");
    expect(parse(read("deploy/prometheus/prometheus.yml")).rule_files).toEqual(["alerts.yml"]);
    const volumes = (compose.services.prometheus as { volumes: string[] }).volumes;
    expect(volumes).toContain("./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro");
    const generators = (
      parse(read("k8s/base/kustomization.yaml")) as {
        configMapGenerator: Array<{ name: string; files: string[] }>;
      }
    ).configMapGenerator;
    const files = generators.find((g) => g.name === "prometheus-rules")!.files;
    expect(files).toEqual(["alerts.yml=prometheus/alerts.yml"]);
    expect(read("k8s/base/prometheus/alerts.yml")).toBe(rules);
  });
});

describe("the Python recommendations service is deployed like the others", () => {
  const PY = "services-py/recommendations";
  const deployment = ofKind(baseObjects, "Deployment").find(
    (d) => d.metadata.name === "recommendations",
  )!;
  const container = podSpec(deployment).containers[0];

  it("builds its own image from a slim Python base, run as a numeric non-root user", () => {
    const dockerfile = read(`${PY}/Dockerfile`);
    expect(/^FROM (\S+)/m.exec(dockerfile)?.[1]).toMatch(/^python:3\.1[2-9]-slim/);
    const user = /^USER (\d+):\d+$/m.exec(dockerfile);
    expect(Number(user?.[1])).toBeGreaterThan(0);
    expect(JSON.parse(/^CMD (.*)$/m.exec(dockerfile)![1])).toEqual([
      "python",
      "-m",
      "recommendations.main",
    ]);
    expect(compose.services.recommendations).toMatchObject({
      image: "commerce-mesh-recommendations:local",
      build: { context: PY },
    });
    expect(container.image).toMatch(/^commerce-mesh-recommendations(:|$)/);
  });

  it("gives it its own PostgreSQL, in compose and as a StatefulSet, and waits for it", () => {
    expect(compose.services.recommendations.depends_on).toMatchObject({
      nats: { condition: "service_healthy" },
      "recommendations-db": { condition: "service_healthy" },
    });
    expect(compose.services["recommendations-db"].image).toMatch(/^postgres:/);
    const db = ofKind(baseObjects, "StatefulSet").find(
      (o) => o.metadata.name === "recommendations-db",
    )!;
    expect(podSpec(db).containers[0].image).toMatch(/^postgres:/);
  });

  it("sets every variable its main.py requires, and probes its health endpoints", () => {
    const main = read(`${PY}/recommendations/main.py`);
    const required = [...main.matchAll(/required\("([A-Z_]+)"\)/g)].map((m) => m[1]);
    expect(required.sort()).toEqual(["RECOMMENDATIONS_DATABASE_URL", "TRANSPORTER"]);
    const env = (container.env ?? []).map((e) => e.name);
    expect(env).toEqual(expect.arrayContaining([...required, "NAMESPACE", "METRICS_PORT"]));
    const composeEnv = compose.services.recommendations.environment ?? {};
    expect(Object.keys(composeEnv)).toEqual(
      expect.arrayContaining(["RECOMMENDATIONS_DATABASE_URL", "METRICS_PORT"]),
    );
    expect(container.readinessProbe?.httpGet?.path).toBe("/health/ready");
    expect(container.livenessProbe?.httpGet?.path).toBe("/health/live");
    const port = container.env?.find((e) => e.name === "METRICS_PORT")?.value;
    expect(container.ports?.[0].containerPort).toBe(Number(port));
  });
});

// ---------------------------------------------------------------------------------------------
// The real validators, built by tools/validate-deploy.sh into tools/bin and tools/.venv.
