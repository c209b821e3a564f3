import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { loadConfig } from "../../lib/config";

describe("JSON logs", () => {
  it("carry the request id of the call being handled, one JSON object a line", async () => {
    const lines: string[] = [];
    const capture = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
    const spies = (["log", "info", "warn", "error"] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation(capture),
    );
    const cfg = loadConfig({ NODE_ENV: "test", LOG_FORMAT: "json", LOGLEVEL: "info" });
    const broker = new ServiceBroker({ ...brokerOptions(cfg), nodeID: "log-test" });
    broker.createService({
      name: "greeter",
      actions: {
        async hello(ctx) {
          await new Promise((r) => setTimeout(r, 5)); // across an await, as real handlers do
          this.logger.info("saying hello to", ctx.params.name);
          return "hi";
        },
      },
    });
    try {
      await broker.start();
      await broker.call("greeter.hello", { name: "Ada" }, { requestID: "req-42" });
    } finally {
      await broker.stop();
      spies.forEach((s) => s.mockRestore());
    }
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const hello = entries.find((e) => String(e.msg).includes("saying hello to Ada"));
    expect(hello).toMatchObject({
      level: "info",
      requestID: "req-42",
      nodeID: "log-test",
      svc: "greeter",
    });
    // Lines outside any request carry none.
    expect(entries.find((e) => String(e.msg).includes("started successfully"))).not.toHaveProperty(
      "requestID",
    );
  });
});
