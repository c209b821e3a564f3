/**
 * middlewares/restarted-node.ts: when a node announces a new instance under the node id the
 * caller still counts as available, the calls pending on the old instance are rejected at once
 * instead of waiting the request timeout. Two brokers on moleculer's in-process transporter;
 * the callee's action never answers (its instance "died" with the call); the new instance's
 * INFO is the callee's own with another instanceID, handed to the caller as its transit does.
 */
import { Errors, ServiceBroker } from "moleculer";
import { RestartedNodeMiddleware } from "../../middlewares/restarted-node";

const namespace = `restarted-${process.pid}`;

function broker(nodeID: string): ServiceBroker {
  return new ServiceBroker({
    nodeID,
    namespace,
    transporter: "Fake",
    logger: false,
    requestTimeout: 5_000,
    middlewares: [RestartedNodeMiddleware],
  });
}

describe("a node restarted under its node id", () => {
  const caller = broker("caller");
  const callee = broker("callee");
  callee.createService({
    name: "slow",
    actions: { hang: () => new Promise(() => undefined), ping: () => "pong" },
  });

  beforeAll(async () => {
    await Promise.all([caller.start(), callee.start()]);
    await caller.waitForServices("slow");
  });
  afterAll(() => Promise.all([caller.stop(), callee.stop()]));

  const info = () => callee.registry.getLocalNodeInfo() as { instanceID: string };
  const announce = (instanceID: string) =>
    (caller.registry as unknown as { processNodeInfo(p: unknown): void }).processNodeInfo({
      ...info(),
      sender: "callee",
      instanceID,
    });

  it("rejects the calls pending on the old instance at once", async () => {
    const started = Date.now();
    const pending = caller.call("slow.hang");
    await new Promise((resolve) => setTimeout(resolve, 50));
    announce("a-new-instance");
    await expect(pending).rejects.toBeInstanceOf(Errors.RequestRejectedError);
    expect(Date.now() - started).toBeLessThan(1_000);
    // The node stays usable: the new instance is the one that answers now.
    await expect(caller.call("slow.ping")).resolves.toBe("pong");
  });

  it("leaves pending calls alone when the same instance announces itself again", async () => {
    const pending = caller.call("slow.hang", {}, { timeout: 600 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const current = (caller.registry.nodes.get("callee") as { instanceID: string }).instanceID;
    announce(current);
    await expect(pending).rejects.toBeInstanceOf(Errors.RequestTimeoutError);
  });
});
