/**
 * Reads services' collections directly, for assertions on internal fields (which node handled
 * a payment, the saga's bookkeeping). It opens the same database the system uses (MONGO_URI)
 * through the project's own db mixin, in a private broker that joins no transporter.
 */
import { ServiceBroker, type Service } from "moleculer";
import { resetConfig } from "../lib/config";
import { dbMixin, type DbVars, type Store } from "../mixins/db.mixin";

export interface DbProbe {
  store(collection: string): Store;
  close(): Promise<void>;
}

export async function openProbe(collections: string[]): Promise<DbProbe> {
  resetConfig();
  const broker = new ServiceBroker({ logger: false, transporter: null, cacher: null });
  for (const collection of collections) {
    broker.createService({ name: `probe-${collection}`, mixins: [dbMixin({ collection })] });
  }
  await broker.start();
  return {
    store(collection) {
      const service = broker.getLocalService(`probe-${collection}`) as Service & DbVars;
      return service.store;
    },
    close: () => broker.stop(),
  };
}
