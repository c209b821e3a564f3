/** products: the catalog and the stock reservations of the checkout saga. */
import { id, pagingProps } from "./common";
import { params, s, type Infer, type InferParams } from "./schema";

const money = (description: string) =>
  s.int({ min: 0, max: 1_000_000_000, convert: true, description, example: 1999 });
const stock = s.int({ min: 0, max: 1_000_000_000, convert: true, example: 25 });
const currency = s.string({
  pattern: "^[A-Z]{3}$",
  description: "ISO 4217 code",
  example: "USD",
});

export const product = s.object({
  id: s.string({ example: "p_2b91c4" }),
  sku: s.string({ example: "MUG-001" }),
  name: s.text({ example: "Enamel mug" }),
  description: s.text(),
  price: s.int({ min: 0, description: "Minor units (cents)", example: 1999 }),
  currency: s.string({ example: "USD" }),
  stock: s.int({ min: 0, example: 25 }),
  createdAt: s.dateTime(),
  updatedAt: s.dateTime(),
});
export type Product = Infer<typeof product>;

export const SORTS = ["price", "-price", "name", "-name", "createdAt", "-createdAt"] as const;

export const listParams = params(
  {
    ...pagingProps,
    q: s.optional(s.string({ max: 100, trim: true, description: "Words in the product's name" })),
    minPrice: s.optional(money("Lowest price, minor units")),
    maxPrice: s.optional(money("Highest price, minor units")),
    // fastest-validator's own enumValue message puts the allowed list where the value goes.
    sort: s.optional(
      s.enum(SORTS, {
        description: "Order of the rows; `-` for descending (default `-createdAt`)",
        messages: {
          enumValue: `The 'sort' field value '{actual}' is not one of: ${SORTS.join(", ")}.`,
        },
      }),
    ),
  },
  { strip: true },
);
export type ListParams = InferParams<typeof listParams>;

export const idParams = params({ id: id("Product id") });

/** `GET /products/:id/recommendations`: the products most often bought with this one. */
export const recommendationsParams = params({
  id: id("Product id"),
  limit: s.optional(
    s.int({ min: 1, max: 20, convert: true, description: "How many (default 5)", example: 5 }),
  ),
});
export type RecommendationsParams = InferParams<typeof recommendationsParams>;

export const createParams = params(
  {
    sku: s.string({
      min: 1,
      max: 64,
      trim: true,
      pattern: "^[A-Za-z0-9._-]+$",
      example: "MUG-001",
    }),
    name: s.text({ min: 1, max: 200, trim: true, example: "Enamel mug" }),
    description: s.withDefault(s.text({ max: 2000 }), ""),
    price: money("Minor units (cents)"),
    currency: s.withDefault(currency, "USD"),
    stock,
  },
  { strip: true },
);
export type CreateParams = InferParams<typeof createParams>;

export const updateParams = params(
  {
    id: id("Product id"),
    name: s.optional(s.text({ min: 1, max: 200, trim: true })),
    description: s.optional(s.text({ max: 2000 })),
    price: s.optional(money("Minor units (cents)")),
    stock: s.optional(stock),
  },
  { strip: true },
);
export type UpdateParams = InferParams<typeof updateParams>;

/** An order line as checkout asks for it; orders and products validate it alike. */
export const orderLine = s.object(
  {
    productId: id("Product id"),
    quantity: s.int({ min: 1, max: 100, convert: true, example: 2 }),
  },
  { strip: true },
);
export type ReserveLine = Infer<typeof orderLine>;

export const orderLines = s.array(orderLine, { min: 1, max: 50 });

// Order ids become keys of the stock reservations: no dots, no `$`.
const reservationOrderId = s.string({ min: 1, max: 64, pattern: "^[A-Za-z0-9_-]+$" });

export const reserveParams = params({ orderId: reservationOrderId, items: orderLines });
export type ReserveParams = InferParams<typeof reserveParams>;

export const releaseParams = params({
  orderId: reservationOrderId,
  /** The order's products; lets the release touch only them instead of scanning the catalog. */
  productIds: s.optional(s.array(id(), { max: 50 })),
});
export type ReleaseParams = InferParams<typeof releaseParams>;

/** A reserved line priced from the catalog at reservation time (`products.reserve`). */
export interface PricedLine {
  productId: string;
  sku: string;
  name: string;
  unitPrice: number;
  quantity: number;
  lineTotal: number;
  currency: string;
}
