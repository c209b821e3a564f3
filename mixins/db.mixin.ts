/**
 * The one data-access factory of every data-owning service.
 *
 * - `MONGO_URI` set: moleculer-db-adapter-mongo on the service's own collection.
 *   Unset: NeDB, in files under `DATA_DIR` (or in memory under test).
 * - The service's indexes, unique ones included, are created on connect on both adapters, so a
 *   duplicate is refused by the database itself, not by a racy read-then-write.
 * - Ids are generated here (UUID strings) on both adapters: the Mongo adapter would otherwise
 *   mint ObjectIds that differ in type from NeDB's ids and are not converted inside queries.
 *   Entities leave the service with `id`, never `_id`.
 * - moleculer-db's generic CRUD actions are removed: they accept raw query objects from the
 *   caller. Services publish purpose-built actions with whitelisted params instead.
 * - Every change cleans the service's cache entries before it answers: the shared Redis cache
 *   once, by the writer; per-process caches on every node (a broadcast event).
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import fs from "node:fs";
import { Cachers, type Service, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import DbService, { type DbAdapter } from "moleculer-db";
import { NeDbAdapter } from "./nedb-adapter";
import MongoAdapter from "moleculer-db-adapter-mongo";
import { config } from "../lib/config";
import { defineMixin } from "../lib/define-service";
import { pageOf, type Page } from "../lib/paging";

/** What every stored document has: its id (see above). */
export interface Stored {
  _id: string;
}
/** A document whose service has not declared its shape. */
export type Doc = Record<string, unknown> & Stored;
export type Query = Record<string, unknown>;

export interface IndexSpec {
  field: string;
  unique?: boolean;
}

export interface FindOptions {
  query?: Query;
  /** moleculer-db sort syntax: `["-price", "name"]`. */
  sort?: string[];
  limit?: number;
  offset?: number;
}

/**
 * A typed view of the adapter: the operations services use, identical on both adapters. `TDoc`
 * is the shape of the collection's documents as its owning service declares it.
 */
export interface Store<TDoc extends Stored = Doc> {
  kind: "mongo" | "nedb";
  newId(): string;
  insert(doc: Omit<TDoc, "_id">): Promise<TDoc>;
  findById(id: string): Promise<TDoc | null>;
  findOne(query: Query): Promise<TDoc | null>;
  find(opts: FindOptions): Promise<TDoc[]>;
  count(query?: Query): Promise<number>;
  /** One page of `query` in `sort` order, mapped to public entities: what every list serves. */
  findPage<T>(
    query: Query,
    sort: string[],
    page: number,
    pageSize: number,
    toPublic: (doc: TDoc) => T,
  ): Promise<Page<T>>;
  /**
   * One atomic update of every document matching `query`; resolves to how many changed. Give
   * `_id` in the query for a conditional update of one document (see `oneAtATime`).
   */
  updateWhere(query: Query, update: Record<string, unknown>): Promise<number>;
  removeById(id: string): Promise<boolean>;
  isDuplicateKeyError(err: unknown): boolean;
  /** Resolves when the database answers a round trip (readiness, lib/health.ts). */
  ping(): Promise<void>;
}

export interface DbMixinOptions<TDoc extends Stored = Doc> {
  collection: string;
  indexes?: IndexSpec[];
  /** Documents inserted when the collection is empty at start (the demo catalog). */
  seed?: () => Array<Omit<TDoc, "_id">>;
}

/** The methods the mixin adds to a service. */
export interface DbMethods {
  toEntity<T extends object = Record<string, unknown>>(doc: Doc): T & { id: string };
  /** Cleans this service's cache entries on every node; call after every write. */
  clearCache(): Promise<void>;
}

/** The instance fields the mixin adds to a service. */
export interface DbVars<TDoc extends Stored = Doc> {
  store: Store<TDoc>;
}

type MixinThis = Service & DbMethods & DbVars<Stored> & { adapter: AdapterWithRaw };

interface MongoishError {
  code?: number;
  errorType?: string;
}

// moleculer-db's typings declare the adapter loosely; this is the single place that narrows it.
interface AdapterWithRaw extends DbAdapter {
  collection?: {
    createIndex(spec: Record<string, number>, opts: Record<string, unknown>): Promise<unknown>;
  };
  db?: {
    ensureIndex(opts: Record<string, unknown>): Promise<unknown>;
    command(cmd: Record<string, unknown>): Promise<unknown>;
  };
}

function makeAdapter(collection: string): DbAdapter {
  const cfg = config();
  if (cfg.mongoUri) {
    return new MongoAdapter(cfg.mongoUri, { useUnifiedTopology: true }) as unknown as DbAdapter;
  }
  if (cfg.dataDir === null) return new NeDbAdapter();
  fs.mkdirSync(cfg.dataDir, { recursive: true });
  return new NeDbAdapter({ filename: path.join(cfg.dataDir, `${collection}.db`) });
}

/**
 * FerretDB 1.x applies an update as read-modify-write, on its SQLite and its PostgreSQL backend
 * alike (FerretDB/FerretDB#3040): two concurrent updates of one document can both match and one
 * is silently lost (measured here: 200 concurrent conditional `$inc`s, all reported modified, 20
 * applied on SQLite; 13 on PostgreSQL, even under serializable isolation). So writes to one document from this process run one after another. MongoDB is
 * atomic per document and loses nothing by it; each document of this system has one writing
 * service, so one replica per writer keeps FerretDB correct too. NeDB is in-process and atomic.
 */
const documentQueues = new Map<string, Promise<unknown>>();

function oneAtATime<T>(key: string | null, task: () => Promise<T>): Promise<T> {
  if (key === null) return task();
  const previous = documentQueues.get(key) ?? Promise.resolve();
  const run = previous.then(task, task);
  const tail = run.catch(() => undefined);
  documentQueues.set(key, tail);
  void tail.then(() => {
    if (documentQueues.get(key) === tail) documentQueues.delete(key);
  });
  return run;
}

/**
 * The Store over an adapter. The adapters return untyped documents: this is the one place they
 * are taken to be the collection's `TDoc` (every write goes through the owning service's Store).
 */
function storeFor<TDoc extends Stored>(
  adapter: AdapterWithRaw,
  kind: Store["kind"],
  collection: string,
): Store<TDoc> {
  const docKey = (id: unknown) =>
    kind === "mongo" && typeof id === "string" ? `${collection}:${id}` : null;
  return {
    kind,
    newId: () => randomUUID(),
    // NeDB lives in this process: it answers while the process does.
    async ping() {
      if (kind === "mongo") await adapter.db!.command({ ping: 1 });
    },
    async insert(doc) {
      const withId = { _id: randomUUID(), ...doc };
      await adapter.insert(withId);
      return withId as TDoc;
    },
    async findById(id) {
      if (typeof id !== "string") return null;
      return ((await adapter.findOne({ _id: id })) as TDoc | null) ?? null;
    },
    async findOne(query) {
      return ((await adapter.findOne(query)) as TDoc | null) ?? null;
    },
    async find(opts) {
      // moleculer-db's FilterOptions type omits `sort`, which both adapters honour.
      const filters = {
        query: opts.query ?? {},
        sort: opts.sort,
        limit: opts.limit,
        offset: opts.offset,
      };
      return (await adapter.find(filters as Parameters<DbAdapter["find"]>[0])) as TDoc[];
    },
    async findPage(query, sort, page, pageSize, toPublic) {
      const [docs, total] = await Promise.all([
        this.find({ query, sort, limit: pageSize, offset: (page - 1) * pageSize }),
        this.count(query),
      ]);
      return pageOf(docs.map(toPublic), total, page, pageSize);
    },
    async count(query = {}) {
      return Number(await adapter.count({ query }));
    },
    async updateWhere(query, update) {
      return oneAtATime(docKey(query._id), async () =>
        Number(await adapter.updateMany(query, update)),
      );
    },
    async removeById(id) {
      return oneAtATime(docKey(id), async () => Number(await adapter.removeMany({ _id: id })) > 0);
    },
    isDuplicateKeyError(err) {
      const e = err as MongoishError | null;
      return Boolean(e && (e.code === 11000 || e.errorType === "uniqueViolated"));
    },
  };
}

async function ensureIndexes(adapter: AdapterWithRaw, kind: Store["kind"], indexes: IndexSpec[]) {
  for (const idx of indexes) {
    if (kind === "mongo") {
      await adapter.collection!.createIndex({ [idx.field]: 1 }, { unique: Boolean(idx.unique) });
    } else {
      await adapter.db!.ensureIndex({ fieldName: idx.field, unique: Boolean(idx.unique) });
    }
  }
}

/**
 * A second collection of a service that owns more than one (products' `reservations`): its own
 * adapter on the same database, the same Store, the same indexes on connect. The owner
 * disconnects it when it stops.
 */
export async function openStore<TDoc extends Stored = Doc>(
  owner: Service,
  collection: string,
  indexes: IndexSpec[],
): Promise<{ store: Store<TDoc>; close(): Promise<void> }> {
  const adapter = makeAdapter(collection) as AdapterWithRaw;
  // The Mongo adapter names its collection after its service's schema.
  adapter.init(owner.broker, {
    schema: { collection },
    logger: owner.logger,
  } as unknown as Service);
  await adapter.connect();
  const kind: Store["kind"] = config().mongoUri ? "mongo" : "nedb";
  await ensureIndexes(adapter, kind, indexes);
  return {
    store: storeFor<TDoc>(adapter, kind, collection),
    close: async () => {
      await adapter.disconnect();
    },
  };
}

/** `TDoc`: the shape of the collection's documents; the service's `this.store` is a `Store<TDoc>`. */
export function dbMixin<TDoc extends Stored = Doc>(
  opts: DbMixinOptions<TDoc>,
): Partial<ServiceSchema> {
  const cacheCleanEvent = `cache.clean.${opts.collection}`;

  return defineMixin<ServiceSettingSchema, DbMethods, DbVars<TDoc> & { adapter: AdapterWithRaw }>({
    mixins: [DbService as unknown as Partial<ServiceSchema>],
    collection: opts.collection,

    // A fresh adapter for each service instance, chosen from the configuration of the moment
    // (tests run several brokers in one process).
    merged(schema: Record<string, unknown>) {
      schema.adapter = makeAdapter(opts.collection);
    },

    // Remove every generic action of moleculer-db (see the file comment).
    actions: {
      list: false,
      find: false,
      count: false,
      get: false,
      insert: false,
      create: false,
      update: false,
      remove: false,
      // For operators (the REPL's `counts`): how many documents the service owns.
      stats: {
        visibility: "public",
        async handler(this: MixinThis) {
          return {
            collection: opts.collection,
            adapter: this.store.kind,
            documents: await this.store.count(),
          };
        },
      },
    },

    events: {
      async [cacheCleanEvent]() {
        // A shared (Redis) cache was cleaned by the writer already; only a node's own is left.
        const cacher = this.broker.cacher;
        if (cacher && !(cacher instanceof Cachers.Redis)) await cacher.clean(`${this.fullName}.**`);
      },
    },

    methods: {
      toEntity(doc: Doc) {
        const { _id, ...rest } = doc;
        return { id: String(_id), ...rest };
      },
      async clearCache(this: MixinThis) {
        this.broker.broadcast(cacheCleanEvent);
        if (this.broker.cacher) await this.broker.cacher.clean(`${this.fullName}.**`);
      },
    },

    created(this: Service & DbVars<TDoc> & { adapter: AdapterWithRaw }) {
      this.store = storeFor<TDoc>(
        this.adapter,
        config().mongoUri ? "mongo" : "nedb",
        opts.collection,
      );
    },

    async afterConnected(this: Service & DbVars<TDoc> & { adapter: AdapterWithRaw }) {
      await ensureIndexes(this.adapter, this.store.kind, opts.indexes ?? []);
      if (opts.seed && config().seedDemoData && (await this.store.count()) === 0) {
        for (const doc of opts.seed()) {
          try {
            await this.store.insert(doc);
          } catch (err) {
            // Another replica seeding at the same moment: the unique index keeps one copy.
            if (!this.store.isDuplicateKeyError(err)) throw err;
          }
        }
        this.logger.info(`Seeded ${opts.collection}.`);
      }
    },
  });
}
