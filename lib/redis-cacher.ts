/**
 * moleculer's Redis cacher, quiet while Redis is away. The stock one logs each failed reconnect
 * as an error with its stack (ioredis retries every few hundred ms: dozens of seven-line stacks
 * a minute). Here each attempt is one warning naming CACHER and its URL (password masked), and
 * the attempts back off from 0.5 s to 10 s. Reads meanwhile go to the services.
 */
import { Cachers, type ServiceBroker } from "moleculer";
import type { Redis } from "ioredis";
import { redactUrl } from "./redact";

type RedisCacherOptions = ConstructorParameters<typeof Cachers.Redis>[0];

export class QuietRedisCacher extends Cachers.Redis<Redis> {
  constructor(
    private readonly url: string,
    opts: Exclude<RedisCacherOptions, string>,
  ) {
    super({
      ...opts,
      redis: {
        ...(opts?.redis as object),
        retryStrategy: (times: number) => Math.min(500 * 2 ** (times - 1), 10_000),
      },
    });
  }

  override init(broker: ServiceBroker): void {
    super.init(broker);
    this.client.removeAllListeners("error");
    this.client.on("error", (err: NodeJS.ErrnoException) => {
      this.connected = false;
      this.broker.broadcastLocal("$cacher.error", {
        error: err,
        module: "cacher",
        type: "clientError",
      });
      this.logger.warn(
        `Redis cache ${redactUrl(this.url)} (CACHER) unreachable: ${err.code ?? err.message}; reads go to the services, retrying`,
      );
    });
  }
}
