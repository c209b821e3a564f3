/**
 * TRANSPORTER carries the NATS login (docs/DEPLOY.md, "Trust boundary"): it reaches the NATS
 * client percent-decoded, and never a log line.
 */
import { brokerOptions } from "../../moleculer.config";
import { loadConfig } from "../../lib/config";
import { redactUrl } from "../../lib/redact";
import { NamedNatsTransporter } from "../../lib/nats-transporter";

describe("the NATS login in TRANSPORTER", () => {
  it("goes to the client as user and pass, percent-decoded, and not in a URL", () => {
    const opts = brokerOptions(
      loadConfig({ TRANSPORTER: "nats://mesh:p%40ss%2Fw%3Ard@nats:4222,nats://nats-2:4222" }),
    );
    expect(opts.transporter).toBeInstanceOf(NamedNatsTransporter);
    expect((opts.transporter as NamedNatsTransporter).opts).toMatchObject({
      servers: ["nats:4222", "nats-2:4222"],
      user: "mesh",
      pass: "p@ss/w:rd",
    });
    expect(JSON.stringify((opts.transporter as NamedNatsTransporter).opts)).not.toContain("%40");
  });

  it("is masked wherever a URL is printed", () => {
    expect(redactUrl("nats://mesh:p%40ss@nats:4222")).toBe("nats://mesh:***@nats:4222");
    expect(redactUrl("redis://:s3cret@redis:6379/2")).toBe("redis://:***@redis:6379/2");
    expect(redactUrl("nats://nats:4222")).toBe("nats://nats:4222");
    expect(redactUrl("mesh:s3cret@nats:4222")).toBe("***@nats:4222");
    expect(() => brokerOptions(loadConfig({ TRANSPORTER: "amqp://mesh:s3cret@x" }))).toThrow(
      /^(?!.*s3cret).*nats:\/\//,
    );
  });
});
