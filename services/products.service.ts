/**
 * products: the catalog. Anonymous reads (cached), admin writes. Owns the `products` collection.
 */
import type { Context, ServiceSettingSchema } from "moleculer";
import { defineService } from "../lib/define-service";
import { dbMixin, type DbMethods, type DbVars, type Doc, type Query } from "../mixins/db.mixin";
import { ConflictError, NotFoundError, ValidationError } from "../lib/errors";
import { escapeRegExp, pageOf, pagingParams, type Page } from "../lib/paging";
import type { GatewayMeta } from "../lib/auth";
import { demoCatalog } from "./products/catalog";

export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string;
  price: number;
  currency: string;
  stock: number;
  createdAt: string;
  updatedAt: string;
}

export interface ListParams {
  page: number;
  pageSize: number;
  q?: string;
  minPrice?: number;
  maxPrice?: number;
  sort?: string;
}

type CreateParams = Pick<Product, "sku" | "name" | "price" | "stock"> &
  Partial<Pick<Product, "description" | "currency">>;
type UpdateParams = { id: string } & Partial<
  Pick<Product, "name" | "description" | "price" | "stock">
>;

const SORTS = ["price", "-price", "name", "-name", "createdAt", "-createdAt"] as const;
const money = { type: "number", integer: true, min: 0, max: 1_000_000_000, convert: true } as const;
const stockQty = {
  type: "number",
  integer: true,
  min: 0,
  max: 1_000_000_000,
  convert: true,
} as const;
const idParam = { type: "string", min: 1, max: 64 } as const;

export default defineService<ServiceSettingSchema, DbMethods, DbVars>({
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
      params: {
        $$strict: "remove",
        ...pagingParams,
        q: { type: "string", max: 100, trim: true, optional: true },
        minPrice: { ...money, optional: true },
        maxPrice: { ...money, optional: true },
        sort: { type: "enum", values: [...SORTS], optional: true },
      },
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
        const [docs, total] = await Promise.all([
          this.store.find({ query, sort: order, limit: pageSize, offset: (page - 1) * pageSize }),
          this.store.count(query),
        ]);
        return pageOf(
          docs.map((d) => this.toEntity<Product>(d)),
          total,
          page,
          pageSize,
        );
      },
    },

    get: {
      cache: { keys: ["id"] },
      params: { id: idParam },
      async handler(ctx: Context<{ id: string }>): Promise<Product> {
        const doc = await this.store.findById(ctx.params.id);
        if (!doc) throw new NotFoundError("Product");
        return this.toEntity<Product>(doc);
      },
    },

    create: {
      auth: "admin",
      params: {
        $$strict: "remove",
        // Patterns as strings, not RegExps: they survive the transporter's JSON into remote
        // gateways' registries, where the OpenAPI document reads them.
        sku: { type: "string", min: 1, max: 64, trim: true, pattern: "^[A-Za-z0-9._-]+$" },
        name: { type: "string", min: 1, max: 200, trim: true },
        description: { type: "string", max: 2000, optional: true, default: "" },
        price: money,
        currency: { type: "string", pattern: "^[A-Z]{3}$", optional: true, default: "USD" },
        stock: stockQty,
      },
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
        return this.toEntity<Product>(saved);
      },
    },

    update: {
      auth: "admin",
      params: {
        $$strict: "remove",
        id: idParam,
        name: { type: "string", min: 1, max: 200, trim: true, optional: true },
        description: { type: "string", max: 2000, optional: true },
        price: { ...money, optional: true },
        stock: { ...stockQty, optional: true },
      },
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
        return this.toEntity<Product>(doc);
      },
    },

    remove: {
      auth: "admin",
      params: { id: idParam },
      async handler(ctx: Context<{ id: string }, GatewayMeta>): Promise<null> {
        const removed = await this.store.removeById(ctx.params.id);
        if (!removed) throw new NotFoundError("Product");
        await this.clearCache();
        ctx.meta.$statusCode = 204;
        return null;
      },
    },
  },
});
