/**
 * NATS is the mesh's trust boundary (docs/DEPLOY.md, "Trust boundary"): every deployment makes
 * clients log in, every node's TRANSPORTER carries that login, and NATS's monitoring port is not
 * reachable from outside. Checked on docker-compose.yml (+ .env.example, deploy/nats/nats.conf)
 * and on k8s/overlays/demo as written; the real validators check their syntax (test/deploy).
 */
import {
  demoObjects,
  compose,
  ofKind,
  podSpec,
  read,
  type K8sObject,
} from "../helpers/deploy-files";

/** The `authorization { user: … password: … }` (or `token: …`) of a nats-server config. */
function natsLogin(conf: string): { user?: string; password?: string; token?: string } | null {
  const block = /authorization\s*\{([^}]*)\}/.exec(conf)?.[1];
  if (!block) return null;
  const field = (name: string) =>
    new RegExp(`^\\s*${name}\\s*[:=]\\s*"?([^"\\s]+)"?`, "m").exec(block)?.[1];
  const login = { user: field("user"), password: field("password"), token: field("token") };
  return login.token || (login.user && login.password) ? login : null;
}

/** A `$VAR` of the config resolved from the environment nats-server gets. */
function resolve(value: string | undefined, env: Record<string, string>): string | undefined {
  return value?.startsWith("$") ? env[value.slice(1)] : value;
}

function transporterLogin(url: string): { user: string; password: string } {
  const u = new URL(url);
  return { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

function envFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of read(file).split("\n")) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

describe("NATS in docker-compose.yml", () => {
  const nats = compose.services.nats as { command?: string[]; ports?: unknown[] };
  const env = envFile(".env.example");

  it("starts nats-server with deploy/nats/nats.conf, which requires a login", () => {
    expect(nats.command).toEqual(["--config", "/etc/nats/nats.conf"]);
    expect(natsLogin(read("deploy/nats/nats.conf"))).not.toBeNull();
  });

  it("gives the nodes a TRANSPORTER with the login NATS accepts", () => {
    const login = natsLogin(read("deploy/nats/nats.conf"))!;
    expect(transporterLogin(env.TRANSPORTER)).toEqual({
      user: resolve(login.user, env),
      password: resolve(login.password, env),
    });
    expect(env.NATS_PASSWORD).toBeTruthy();
  });

  it("publishes no NATS port, and serves monitoring on the container's loopback only", () => {
    expect(nats.ports ?? []).toEqual([]);
    const http = /^\s*(?:http|http_port|monitor_port)\s*[:=]\s*"?([^"\s]+)"?/m.exec(
      read("deploy/nats/nats.conf"),
    )?.[1];
    expect(http).toBe("127.0.0.1:8222");
    for (const [name, service] of Object.entries(compose.services)) {
      const ports = ((service as { ports?: unknown[] }).ports ?? []).map(String);
      expect({ name, ports: ports.filter((p) => /\b(4222|8222)\b/.test(p)) }).toEqual({
        name,
        ports: [],
      });
    }
  });
});

describe("NATS in k8s/overlays/demo", () => {
  const byName = (kind: string, name: string) =>
    ofKind(demoObjects, kind).find((o) => o.metadata.name === name);
  const secretData = (name: string) => byName("Secret", name)?.stringData ?? {};
  const statefulSet = byName("StatefulSet", "nats")!;
  const container = podSpec(statefulSet).containers[0] as {
    args?: string[];
    envFrom?: Array<{ secretRef?: { name: string } }>;
  };

  it("starts nats-server with the nats-config configuration, which requires a login", () => {
    expect(container.args).toEqual(["--config", "/etc/nats/nats.conf"]);
    const conf = byName("ConfigMap", "nats-config")?.data?.["nats.conf"] ?? "";
    expect(natsLogin(conf)).not.toBeNull();
  });

  it("takes the login from the Secret nats-credentials, and every TRANSPORTER carries it", () => {
    const conf = byName("ConfigMap", "nats-config")!.data!["nats.conf"];
    const secretNames = (container.envFrom ?? []).map((e) => e.secretRef?.name);
    expect(secretNames).toContain("nats-credentials");
    const env = secretData("nats-credentials");
    const login = natsLogin(conf)!;
    const transporter = secretData("commerce-mesh-secrets").TRANSPORTER;
    expect(transporterLogin(transporter)).toEqual({
      user: resolve(login.user, env),
      password: resolve(login.password, env),
    });
    // A TRANSPORTER in the ConfigMap (without the login) would be one more place to forget it.
    expect(byName("ConfigMap", "commerce-mesh-config")?.data).not.toHaveProperty("TRANSPORTER");
  });

  it("exposes the monitoring port in no Service, and only to the monitoring namespace", () => {
    for (const service of ofKind(demoObjects, "Service")) {
      const ports = ((service.spec as { ports?: Array<{ port: number }> }).ports ?? []).map(
        (p) => p.port,
      );
      expect({ name: service.metadata.name, monitor: ports.includes(8222) }).toEqual({
        name: service.metadata.name,
        monitor: false,
      });
    }
    const policy = byName("NetworkPolicy", "nats-ingress") as K8sObject;
    const rules = (
      policy.spec as {
        ingress: Array<{
          from: Array<{ namespaceSelector?: { matchLabels: Record<string, string> } }>;
          ports: Array<{ port: number }>;
        }>;
      }
    ).ingress;
    const monitorRules = rules.filter((r) => r.ports.some((p) => p.port === 8222));
    for (const rule of monitorRules) {
      expect(rule.from).toEqual([
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
      ]);
    }
  });
});
