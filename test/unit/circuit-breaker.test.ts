/**
 * The circuit breaker of moleculer.config.ts: server faults open the circuit to an endpoint, a
 * deliberate "retry shortly" 503 (lib/errors.ts ServiceUnavailableError) does not. Two brokers
 * on moleculer's in-process transporter with the project's breaker settings; 30 failing calls
 * (the breaker needs 20, half of them failed) to each kind of action.
 */
import { ServiceBroker, type BrokerOptions } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { ServiceUnavailableError } from "../../lib/errors";

const namespace = `cb-${process.pid}`;

function broker(nodeID: string): ServiceBroker {
  const { circuitBreaker } = brokerOptions();
  const opts: BrokerOptions = {
    nodeID,
    namespace,
    transporter: "Fake",
    logger: false,
    circuitBreaker,
    retryPolicy: { enabled: false },
  };
  return new ServiceBroker(opts);
}

describe("the circuit breaker", () => {
  const caller = broker("caller");
  const callee = broker("callee");
  const ran = { busy: 0, broken: 0 };
  callee.createService({
    name: "shop",
    actions: {
      busy: () => {
        ran.busy++;
        throw new ServiceUnavailableError("The first request with this key is still running");
      },
      broken: () => {
        ran.broken++;
        throw new Error("database gone");
      },
    },
  });

  beforeAll(async () => {
    await Promise.all([caller.start(), callee.start()]);
    await caller.waitForServices("shop");
  });
  afterAll(() => Promise.all([caller.stop(), callee.stop()]));

  const fail30 = async (action: string) => {
    const errors: string[] = [];
    for (let i = 0; i < 30; i++) {
      await caller.call(action).catch((err: { name: string }) => errors.push(err.name));
    }
    return errors;
  };

  it("stays closed for deliberate 503s: every call reaches the action", async () => {
    const errors = await fail30("shop.busy");
    expect(ran.busy).toBe(30);
    expect(new Set(errors)).toEqual(new Set(["ServiceUnavailableError"]));
  });

  it("opens on server faults: calls stop reaching the action", async () => {
    const errors = await fail30("shop.broken");
    expect(ran.broken).toBeLessThan(30);
    expect(errors).toContain("ServiceNotAvailableError");
  });
});
