/**
 * The REPL's answers to a newcomer's first commands: `call` on an action that acts for a
 * signed-in user says so in one line with the meta to give (instead of the action's TypeError
 * and stack), and `stuck` on a REPL that joined no cluster says to set TRANSPORTER.
 */
import { Cluster } from "../helpers/cluster";
import { ReplProcess } from "../helpers/repl-process";
import { STACK_LINE } from "../helpers/main-process";

describe("the REPL's hints", () => {
  const cluster = new Cluster();
  const repls: ReplProcess[] = [];

  afterAll(async () => {
    await Promise.all(repls.map((r) => r.quit()));
    await cluster.stopAll();
  });

  it("refuses `call orders.list` without a user, saying what to pass", async () => {
    await cluster.start("orders", ["orders"]);
    const repl = new ReplProcess({
      ...process.env,
      NAMESPACE: cluster.namespace,
      LOGLEVEL: "error",
      NO_COLOR: "1",
    });
    repls.push(repl);
    await repl.run("", /commerce-mesh \$/, 90_000);
    const printed = await repl.run("call orders.list", /Data:.*\n/);
    expect(printed).toContain(
      "orders.list acts for a signed-in user: give one as the call's meta (see Data)",
    );
    expect(printed).toContain(`call orders.list '{}' '{"user":{"id":"<user id>"`);
    expect(printed).not.toMatch(/TypeError/);
    expect(printed).not.toMatch(STACK_LINE);
  });

  it("says a lone REPL must join a cluster when `stuck` finds no orders service", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOGLEVEL: "error", NO_COLOR: "1" };
    delete env.TRANSPORTER;
    const repl = new ReplProcess(env);
    repls.push(repl);
    await repl.run("", /commerce-mesh \$/, 90_000);
    const printed = await repl.run("stuck", /stuck failed: .*\n/);
    expect(printed).toMatch(
      /stuck failed: Service 'orders\.stuck' is not found\. This REPL is a lone node: it must join the cluster\. Start it with the cluster's TRANSPORTER/,
    );
    expect(printed).not.toMatch(STACK_LINE);
  });
});
