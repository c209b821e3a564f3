/**
 * `npm run repl`: joins the running cluster (the same TRANSPORTER and NAMESPACE) as a node with
 * no services and opens the Moleculer REPL, with commands for operators on top of the built-in
 * ones (`call`, `nodes`, `services`, `metrics`, …):
 *
 *   counts                 per service: instances, nodes and documents owned
 *   stuck [--limit N]      orders whose saga step is past its deadline
 *   redrive <orderId>      re-emit the event of an order's current saga step
 *   deliveries [status] [--limit N]
 *                          notification e-mails (pending, sent or failed) with their last error
 *   faults set <target> error=0.5 latency=200ms [retryable]
 *                          inject failures/latency on every node (middlewares/faults.ts)
 *   faults clear [target]  remove one rule or all, on every node
 *   faults list            each node's rules and what they injected
 */
import os from "node:os";
import {
  ServiceBroker,
  type BrokerOptions,
  type CallingOptions,
  type ServiceBroker as Broker,
} from "moleculer";
import { brokerOptions } from "./moleculer.config";
import { config, ConfigError, loadDotEnv } from "./lib/config";
import { redactUrl } from "./lib/redact";
import { clearFaults, describeRule, faultReports, parseRule, setFault } from "./middlewares/faults";
import type { DeliveryReport } from "./services/notifications.service";

type Table = (rows: unknown[][]) => string;
type CallMethod = Broker["call"];
interface Helpers {
  table: Table;
}
interface CommandArgs {
  options: Record<string, unknown>;
  /** The whole command line as typed (after the REPL's own prefix). */
  rawCommand?: string;
  [operand: string]: unknown;
}
interface ReplCommand {
  command: string;
  description: string;
  /** Let `key=value` words through to the action instead of refusing them. */
  allowUnknownOptions?: boolean;
  options?: Array<{ option: string; description: string }>;
  action(broker: Broker, args: CommandArgs, helpers: Helpers): Promise<void>;
}

interface StuckOrder {
  id: string;
  status: string;
  step?: string;
  deadline?: string;
  attempts?: number;
}

function print(text: string) {
  process.stdout.write(`${text}\n`);
}

function failure(err: unknown): string {
  if (err instanceof Error && err.name === "ServiceNotFoundError") return notInReach(err.message);
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Why an action is out of reach of this REPL, and what to do about it. */
function notInReach(message: string): string {
  const cfg = config();
  if (!cfg.transporter) {
    return `${message} This REPL is a lone node: it must join the cluster. Start it with the cluster's TRANSPORTER (and NAMESPACE), e.g. TRANSPORTER=nats://127.0.0.1:4222 npm run repl`;
  }
  return `${message} No node of namespace "${cfg.namespace}" on ${redactUrl(cfg.transporter)} runs it: start one, or check NAMESPACE.`;
}

/**
 * Actions that act for a signed-in caller (`auth: "user" | "admin"`) read `ctx.meta.user`; a
 * REPL `call` without one would fail inside the action with a TypeError and its stack. The
 * call is refused here instead, with the meta to give (moleculer-repl: `call <action> [params]
 * [meta]`).
 */
function refuseCallsWithoutUser(broker: Broker): void {
  const call = broker.call.bind(broker) as CallMethod;
  broker.call = ((actionName: string, params?: unknown, opts?: CallingOptions) => {
    const meta = (opts?.meta ?? {}) as { $repl?: boolean; user?: unknown };
    // Only the REPL's own calls are looked at: in `npm run dev` every call of the node passes here.
    const auth =
      meta.$repl && !meta.user
        ? (broker.registry.getActionList({}).find((a) => a.name === actionName)?.action?.auth as
            string | undefined)
        : undefined;
    if (auth) {
      const role = auth === "admin" ? "admin" : "customer";
      // moleculer-repl prints the stack (its `>> ERROR:` line drops the message) and the data:
      // the stack is the message alone.
      const err = new Error(
        `${actionName} acts for a signed-in ${auth}: give one as the call's meta (see Data)`,
      );
      err.stack = err.message;
      return Promise.reject(
        Object.assign(err, {
          data: `call ${actionName} '${JSON.stringify(params ?? {})}' '{"user":{"id":"<user id>","roles":["${role}"]}}'`,
        }),
      );
    }
    return call(actionName, params, opts);
  }) as CallMethod;
}

export const operatorCommands: ReplCommand[] = [
  {
    command: "counts",
    description: "Per service: instances, nodes and documents owned",
    async action(broker, _args, { table }) {
      const services = broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true });
      const byName = new Map<string, Set<string>>();
      for (const svc of services) {
        const nodes = byName.get(svc.name) ?? new Set<string>();
        nodes.add(svc.nodeID ?? "local");
        byName.set(svc.name, nodes);
      }
      const rows: unknown[][] = [["service", "instances", "nodes", "documents"]];
      for (const [name, nodes] of [...byName.entries()].sort()) {
        let documents = "-";
        if (
          broker.registry
            .getActionList({ onlyAvailable: true })
            .some((a) => a.name === `${name}.stats`)
        ) {
          try {
            documents = String(
              (await broker.call<{ documents: number }>(`${name}.stats`)).documents,
            );
          } catch (err) {
            documents = failure(err);
          }
        }
        rows.push([name, nodes.size, [...nodes].join(", "), documents]);
      }
      print(table(rows));
    },
  },
  {
    command: "stuck",
    description: "Orders whose saga step is past its deadline",
    options: [{ option: "-l, --limit <n>", description: "at most this many (default 50)" }],
    async action(broker, args, { table }) {
      const limit = Number(args.options.limit ?? 50);
      try {
        const orders = await broker.call<StuckOrder[], { limit: number }>("orders.stuck", {
          limit,
        });
        if (orders.length === 0) {
          print("No stuck orders.");
          return;
        }
        const rows: unknown[][] = [["order", "status", "step", "deadline", "attempts"]];
        for (const o of orders)
          rows.push([o.id, o.status, o.step ?? "", o.deadline ?? "", o.attempts ?? 0]);
        print(table(rows));
        print(`${orders.length} stuck order(s).`);
      } catch (err) {
        print(`stuck failed: ${failure(err)}`);
      }
    },
  },
  {
    command: "deliveries [status]",
    description: "Notification e-mails by status (pending, sent, failed) with their last error",
    options: [{ option: "-l, --limit <n>", description: "at most this many (default 20)" }],
    async action(broker, args, { table }) {
      const status = args.status === undefined ? undefined : String(args.status);
      const limit = Number(args.options.limit ?? 20);
      try {
        const reports = await broker.call<DeliveryReport[], { status?: string; limit: number }>(
          "notifications.deliveries",
          status === undefined ? { limit } : { status, limit },
        );
        if (reports.length === 0) {
          print(`No ${status ?? ""} deliveries.`.replace("  ", " "));
          return;
        }
        const rows: unknown[][] = [
          ["notification", "type", "status", "attempts", "next attempt", "last error"],
        ];
        for (const r of reports) {
          const d = r.delivery;
          const next = d.status === "pending" ? new Date(d.nextAttemptAt).toISOString() : "";
          rows.push([r.id, r.type, d.status, d.attempts, next, d.lastError ?? ""]);
        }
        print(table(rows));
        print(`${reports.length} deliveries.`);
      } catch (err) {
        print(`deliveries failed: ${failure(err)}`);
      }
    },
  },
  {
    command: "redrive <orderId>",
    description: "Re-emit the event of an order's current saga step",
    async action(broker, args) {
      try {
        const result = await broker.call("orders.redrive", { id: String(args.orderId) });
        print(JSON.stringify(result, null, 2));
      } catch (err) {
        print(`redrive failed: ${failure(err)}`);
      }
    },
  },
  {
    command: "faults <verb> [target] [settings...]",
    description:
      "Fault injection on every node: faults set <target> error=0.5 latency=200ms [retryable] | faults clear [target] | faults list",
    allowUnknownOptions: true,
    async action(broker, args, { table }) {
      // commander hands over one operand per declared argument; the settings are read from
      // the raw line instead (`faults set payments:order.created error=0.5 latency=200ms`).
      const words = (args.rawCommand ?? "").trim().split(/\s+/).slice(1);
      const [verb, ...rest] = words;
      try {
        print(await faultsCommand(broker, verb, rest, table));
      } catch (err) {
        print(`faults ${verb ?? ""} failed: ${failure(err)}`);
      }
    },
  },
];

/** Shared with the console's routes; the fault-injection tests read it from here. */
export { faultReports };

/**
 * The `faults` command without the REPL around it (the fault-injection test drives it too).
 * `set` and `clear` are broadcasts: every node, this one included, applies them.
 */
export async function faultsCommand(
  broker: Broker,
  verb: string | undefined,
  rest: string[],
  table: Table,
): Promise<string> {
  switch (verb) {
    case "set": {
      const rule = parseRule(rest.join(" "));
      await setFault(broker, rule);
      return `Set on every node: ${describeRule(rule)}`;
    }
    case "clear": {
      const target = rest[0];
      await clearFaults(broker, target);
      return `Cleared on every node: ${target ?? "all rules"}`;
    }
    case "list": {
      const rows: unknown[][] = [["node", "rules", "injected errors", "delayed calls"]];
      const counts = (c: Record<string, number>) =>
        Object.entries(c)
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ");
      for (const r of await faultReports(broker)) {
        rows.push([
          r.nodeID,
          r.rules.map(describeRule).join("; ") || "-",
          counts(r.injected) || "-",
          counts(r.delayed) || "-",
        ]);
      }
      return table(rows);
    }
    default:
      throw new Error(`unknown verb "${verb ?? ""}": set, clear or list`);
  }
}

/**
 * Opens the Moleculer REPL on this process's terminal with the operator commands above, for
 * `npm run repl` and for the node of `npm run dev` (dev.ts). Leaving it (`quit`, Ctrl+D) stops
 * the broker and ends the process.
 */
export function openRepl(broker: Broker): void {
  broker.options.replOptions = {
    delimiter: "commerce-mesh $",
    // moleculer's typings give custom commands `args: string[]`; moleculer-repl 0.8 passes
    // `{ options, ...operands }`, which is what ReplCommand declares.
    customCommands: operatorCommands as unknown as NonNullable<
      BrokerOptions["replOptions"]
    >["customCommands"],
  };
  refuseCallsWithoutUser(broker);
  broker.repl();
}

async function main() {
  loadDotEnv();
  const cfg = config();
  const broker = new ServiceBroker({
    ...brokerOptions(cfg),
    nodeID: `repl-${os.hostname()}-${process.pid}`,
    metrics: { enabled: false },
    logger: { type: "Console", options: { level: process.env.LOGLEVEL ?? "warn" } },
  });
  await broker.start();
  if (cfg.transporter) {
    // Give discovery a moment so the first command sees the cluster's services.
    await broker.waitForServices([], 0).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1500));
  } else {
    print(
      "TRANSPORTER is not set: this REPL is a lone node and sees no cluster. To join one: TRANSPORTER=nats://127.0.0.1:4222 NAMESPACE=<the cluster's> npm run repl",
    );
  }
  openRepl(broker);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(
      err instanceof ConfigError
        ? `repl cannot run: ${err.message}`
        : `repl failed to start: ${failure(err)}`,
    );
    process.exit(1);
  });
}
