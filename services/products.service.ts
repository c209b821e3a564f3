/**
 * products: the catalog. Anonymous reads (cached), admin writes, and the stock reservations of
 * the checkout saga (`reserve`/`release`, callable by services only). Owns the `products`
 * collection and the `reservations` collection (services/products/reservations.ts): a second
 * store of this service rather than a service of its own, because a reservation only ever
 * changes together with a product's stock, by this service, in the same call.
 */
import type { Context, ServiceSettingSchema } from "moleculer";
import { defineService } from "../lib/define-service";
import {
  dbMixin,
  openStore,
  type DbMethods,
  type DbVars,
  type Doc,
  type Query,
} from "../mixins/db.mixin";
import { ConflictError, NotFoundError, ValidationError } from "../lib/errors";
import { escapeRegExp } from "../lib/paging";
import type { Page } from "../contracts/common";
import {
  createParams,
  idParams,
  listParams,
  recommendationsParams,
  releaseParams,
  reserveParams,
  type CreateParams,
  type ListParams,
  type PricedLine,
  type RecommendationsParams,
  type Product,
  type ReleaseParams,
  type ReserveParams,
  type UpdateParams,
  updateParams,
} from "../contracts/products";
import type { GatewayMeta } from "../lib/auth";
import { demoCatalog } from "./products/catalog";
import {
  MARKER_FIELDS,
  RESERVATIONS_COLLECTION,
  RESERVATION_INDEXES,
  Reservations,
} from "./products/reservations";

/** How long a product's recommendations are cached (they change with every confirmed order). */
const RECOMMENDATIONS_TTL_S = 60;
/** recommendations.forProduct's params (services-py/recommendations/recommendations/service.py). */
interface RecommendationParams {
  productId: string;
  limit: number;
}

interface ProductsMethods extends DbMethods {
  publicProduct(doc: Doc): Product;
}

interface ProductsVars extends DbVars {
  reservations: Reservations;
  closeReservations: (() => Promise<void>) | null;
}

export default defineService<ServiceSettingSchema, ProductsMethods, ProductsVars>({
  name: "products",
  mixins: [
    dbMixin({
      collection: "products",
      indexes: [{ field: "sku", unique: true }, { field: "createdAt" }, { field: "price" }],
      seed: demoCatalog,
    }),
  ],

  actions: {
    list: {
      cache: { keys: ["page", "pageSize", "q", "minPrice", "maxPrice", "sort"] },
      params: listParams.rule,
      async handler(ctx: Context<ListParams>): Promise<Page<Product>> {
        const { page, pageSize, q, minPrice, maxPrice, sort } = ctx.params;
        if (minPrice !== undefined && maxPrice !== undefined && minPrice > maxPrice) {
          throw new ValidationError("minPrice is greater than maxPrice", [
            { field: "minPrice", message: "must not exceed maxPrice", type: "range" },
          ]);
        }
        const query: Query = {};
        // An escaped, case-insensitive regex works the same on MongoDB, FerretDB (no $text)
        // and NeDB; the user's text can never become a pattern.
        if (q) query.name = { $regex: new RegExp(escapeRegExp(q), "i") };
        if (minPrice !== undefined || maxPrice !== undefined) {
          const range: Record<string, number> = {};
          if (minPrice !== undefined) range.$gte = minPrice;
          if (maxPrice !== undefined) range.$lte = maxPrice;
          query.price = range;
        }
        // A stable tie-breaker so pages never repeat or skip rows with equal keys.
        const order = [sort ?? "-createdAt", "_id"];
        return this.store.findPage(query, order, page, pageSize, (d) => this.publicProduct(d));
      },
    },

    get: {
      cache: { keys: ["id"] },
      params: idParams.rule,
      async handler(ctx: Context<{ id: string }>): Promise<Product> {
        const doc = await this.store.findById(ctx.params.id);
        if (!doc) throw new NotFoundError("Product");
        return this.publicProduct(doc);
      },
    },

    /**
     * Products bought together with this one, most often first: the ranking comes from the
     * Python recommendations service (services-py/recommendations), the products from here.
     * Without that service the call fails SERVICE_NOT_FOUND, a 503 at the gateway. Cached for
     * a minute: new orders reach the answer within that, product writes clear it at once.
     */
    recommendations: {
      cache: { keys: ["id", "limit"], ttl: RECOMMENDATIONS_TTL_S },
      params: recommendationsParams.rule,
      async handler(ctx: Context<RecommendationsParams>): Promise<Product[]> {
        if (!(await this.store.findById(ctx.params.id))) throw new NotFoundError("Product");
        const ids = await ctx.call<string[], RecommendationParams>("recommendations.forProduct", {
          productId: ctx.params.id,
          limit: ctx.params.limit ?? 5,
        });
        const docs = await this.store.find({ query: { _id: { $in: ids } } });
        const byId = new Map(docs.map((d) => [String(d._id), d]));
        // The ranking's order; a product removed since it was bought is left out.
        return ids.flatMap((id) => {
          const doc = byId.get(id);
          return doc ? [this.publicProduct(doc)] : [];
        });
      },
    },

    create: {
      auth: "admin",
      params: createParams.rule,
      async handler(ctx: Context<CreateParams, GatewayMeta>): Promise<Product> {
        const now = new Date().toISOString();
        const doc = {
          sku: ctx.params.sku,
          name: ctx.params.name,
          description: ctx.params.description ?? "",
          price: ctx.params.price,
          currency: ctx.params.currency ?? "USD",
          stock: ctx.params.stock,
          createdAt: now,
          updatedAt: now,
        };
        let saved: Doc;
        try {
          saved = await this.store.insert(doc);
        } catch (err) {
          if (this.store.isDuplicateKeyError(err)) {
            throw new ConflictError(`A product with sku "${doc.sku}" already exists`);
          }
          throw err;
        }
        await this.clearCache();
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = `/api/products/${saved._id}`;
        return this.publicProduct(saved);
      },
    },

    update: {
      auth: "admin",
      params: updateParams.rule,
      async handler(ctx: Context<UpdateParams>): Promise<Product> {
        const { id, ...changes } = ctx.params;
        const set: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(changes)) {
          if (value !== undefined) set[key] = value;
        }
        if (Object.keys(set).length === 0) {
          throw new ValidationError("Nothing to update", [
            {
              field: "body",
              message: "give at least one of name, description, price, stock",
              type: "required",
            },
          ]);
        }
        set.updatedAt = new Date().toISOString();
        const changed = await this.store.updateWhere({ _id: id }, { $set: set });
        if (changed === 0 && !(await this.store.findById(id))) throw new NotFoundError("Product");
        await this.clearCache();
        const doc = await this.store.findById(id);
        if (!doc) throw new NotFoundError("Product");
        return this.publicProduct(doc);
      },
    },

    remove: {
      auth: "admin",
      params: idParams.rule,
      async handler(ctx: Context<{ id: string }, GatewayMeta>): Promise<null> {
        const removed = await this.store.removeById(ctx.params.id);
        if (!removed) throw new NotFoundError("Product");
        await this.clearCache();
        ctx.meta.$statusCode = 204;
        return null;
      },
    },

    /**
     * Takes the stock of an order, all lines or none, exactly once however often it is called
     * (services/products/reservations.ts). Each line is an atomic conditional update
     * (`stock >= qty`), so concurrent checkouts can never oversell.
     */
    reserve: {
      visibility: "public",
      params: reserveParams.rule,
      async handler(ctx: Context<ReserveParams>): Promise<PricedLine[]> {
        const { orderId, items } = ctx.params;
        const productIds = items.map((i) => i.productId);
        try {
          await this.reservations.reserve(orderId, items);
        } finally {
          await this.clearCache();
        }

        const docs = await Promise.all(productIds.map((id) => this.store.findById(id)));
        return items.map(({ productId, quantity }, i) => {
          const doc = docs[i];
          if (!doc) throw new NotFoundError("Product");
          const p = this.publicProduct(doc);
          return {
            productId,
            sku: p.sku,
            name: p.name,
            unitPrice: p.price,
            quantity,
            lineTotal: p.price * quantity,
            currency: p.currency,
          };
        });
      },
    },

    /** Gives back the stock an order holds, exactly once however often it is called. */
    release: {
      visibility: "public",
      params: releaseParams.rule,
      async handler(ctx: Context<ReleaseParams>): Promise<{ released: number }> {
        const released = await this.reservations.release(ctx.params.orderId);
        if (released > 0) await this.clearCache();
        return { released };
      },
    },
  },

  methods: {
    /** The contract's product: the internal reservation markers never leave the service. */
    publicProduct(doc: Doc): Product {
      const rest: Doc = { ...doc };
      for (const field of MARKER_FIELDS) delete rest[field];
      return this.toEntity<Product>(rest);
    },
  },

  async started() {
    const { store, close } = await openStore(this, RESERVATIONS_COLLECTION, RESERVATION_INDEXES);
    this.reservations = new Reservations(this.store, store);
    this.closeReservations = close;
  },

  async stopped() {
    await this.closeReservations?.();
    this.closeReservations = null;
  },
});
