/**
 * moleculer-db's MemoryAdapter (NeDB) without its deprecation warning. Its `connect` wraps
 * NeDB's `update` in `util.promisify` around a function that returns a Promise, and Node warns
 * (`[DEP0174]`) on every update: hundreds of lines a test run. Here `update` is replaced, after
 * connect, by one on NeDB's own `updateAsync` that resolves to what the adapter expects
 * (`[numAffected, affectedDocuments, upsert]`). Nothing else changes and no warning is hidden.
 */
import { MemoryAdapter } from "moleculer-db";

interface UpdateResult {
  numAffected: number;
  affectedDocuments: unknown;
  upsert: boolean;
}

interface NeDbDatastore {
  update(query: object, update: object, options?: object): Promise<unknown[]>;
  updateAsync(query: object, update: object, options?: object): Promise<UpdateResult>;
}

export class NeDbAdapter extends MemoryAdapter {
  override async connect(): Promise<void> {
    await super.connect();
    const db = (this as unknown as { db: NeDbDatastore }).db;
    db.update = async (query, update, options) => {
      const { numAffected, affectedDocuments, upsert } = await db.updateAsync(
        query,
        update,
        options,
      );
      return [numAffected, affectedDocuments, upsert];
    };
  }
}
