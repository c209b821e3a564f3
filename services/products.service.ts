/**
 * products: the catalog. Anonymous reads (cached), admin writes, and the stock reservations of
 * the checkout saga (`reserve`/`release`, callable by services only). Owns the `products`
 * collection.
 */
import type { Context, ServiceSettingSchema } from "moleculer";
import { defineService } from "../lib/define-service";
import { dbMixin, type DbMethods, type DbVars, type Doc, type Query } from "../mixins/db.mixin";
import { ConflictError, NotFoundError, OutOfStockError, ValidationError } from "../lib/errors";
import { escapeRegExp } from "../lib/paging";
import type { Page } from "../contracts/common";
import {
  createParams,
  idParams,
  listParams,
  releaseParams,
  reserveParams,
  type CreateParams,
  type ListParams,
  type PricedLine,
  type Product,
  type ReleaseParams,
  type ReserveParams,
  type UpdateParams,
  updateParams,
} from "../contracts/products";
import type { GatewayMeta } from "../lib/auth";
import { demoCatalog } from "./products/catalog";
import { heldQuantity, reservationField } from "./products/reservations";

interface ProductsMethods extends DbMethods {
  publicProduct(doc: Doc): Product;
  releaseHeld(orderId: string, productIds?: string[]): Promise<number>;
}

export default defineService<ServiceSettingSchema, ProductsMethods, DbVars>({
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
     * Takes the stock of an order, all lines or none. Each line is one atomic conditional update
     * (`stock >= qty` and not yet held for this order → `$inc: -qty` and a `reserved.<orderId>`
     * marker), so concurrent checkouts can never oversell and a repeated call takes nothing
     * twice. The marker lives in the product document itself, written in the same update as the
     * stock: there is no moment, even across a crash, where stock is gone without a record of
     * which order holds it.
     */
    reserve: {
      visibility: "public",
      params: reserveParams.rule,
      async handler(ctx: Context<ReserveParams>): Promise<PricedLine[]> {
        const { orderId, items } = ctx.params;
        const field = reservationField(orderId);
        const productIds = items.map((i) => i.productId);
        let changed = false;
        try {
          for (const { productId, quantity } of items) {
            const taken = await this.store.updateWhere(
              { _id: productId, stock: { $gte: quantity }, [field]: { $exists: false } },
              { $inc: { stock: -quantity }, $set: { [field]: quantity } },
            );
            if (taken === 1) {
              changed = true;
              continue;
            }
            const doc = await this.store.findById(productId);
            if (!doc) throw new NotFoundError("Product");
            // Already held by an earlier call for this order (a retry): nothing more to take.
            if (heldQuantity(doc, orderId) !== undefined) continue;
            throw new OutOfStockError({
              productId,
              requested: quantity,
              available: Number(doc.stock),
            });
          }
        } catch (err) {
          // All or nothing: give back every line this order holds, including lines an earlier,
          // interrupted call took.
          if ((await this.releaseHeld(orderId, productIds)) > 0) changed = true;
          throw err;
        } finally {
          if (changed) await this.clearCache();
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
        const released = await this.releaseHeld(ctx.params.orderId, ctx.params.productIds);
        if (released > 0) await this.clearCache();
        return { released };
      },
    },
  },

  methods: {
    /** The contract's product: the internal reservation markers never leave the service. */
    publicProduct(doc: Doc): Product {
      const rest: Doc = { ...doc };
      delete rest.reserved;
      return this.toEntity<Product>(rest);
    },

    /**
     * Returns each held line to stock. The update matches the exact held quantity and removes
     * the marker in the same atomic step, so two concurrent releases give the stock back once.
     * Without `productIds` every product is searched (an unindexed scan: callers pass them).
     */
    async releaseHeld(orderId: string, productIds?: string[]): Promise<number> {
      const field = reservationField(orderId);
      const query: Query = { [field]: { $exists: true } };
      if (productIds) query._id = { $in: productIds };
      const holders = await this.store.find({ query });
      let released = 0;
      for (const doc of holders) {
        const quantity = heldQuantity(doc, orderId);
        if (quantity === undefined) continue;
        released += await this.store.updateWhere(
          { _id: doc._id, [field]: quantity },
          { $inc: { stock: quantity }, $unset: { [field]: true } },
        );
      }
      return released;
    },
  },
});
