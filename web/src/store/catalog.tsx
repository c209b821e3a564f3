/**
 * The catalog: search, price range, sort and paging, with the API's own query parameters kept
 * in the page's URL (`/?q=mug&minPrice=500&sort=price&page=2`), so a page can be shared.
 */
import { useEffect, useState } from "preact/hooks";
import { api, problem, type Product } from "../shared/api";
import { money } from "../shared/format";
import { navigate } from "../shared/router";
import { cart } from "./cart";

const PAGE_SIZE = 12;
const SORTS = [
  ["", "Newest"],
  ["price", "Price, low to high"],
  ["-price", "Price, high to low"],
  ["name", "Name, A to Z"],
  ["-name", "Name, Z to A"],
] as const;
type Sort = "price" | "-price" | "name" | "-name" | "createdAt" | "-createdAt";

interface Page {
  rows: Product[];
  page: number;
  totalPages: number;
  total: number;
}

/** Dollars typed by the shopper → the API's cents; blank or invalid → no bound. */
function cents(text: string): number | undefined {
  const value = Number(text);
  return text.trim() === "" || !Number.isFinite(value) || value < 0
    ? undefined
    : Math.round(value * 100);
}

function dollars(param: string | null): string {
  return param === null || param === "" ? "" : String(Number(param) / 100);
}

function int(param: string | null): number | undefined {
  const value = Number(param);
  return param !== null && Number.isInteger(value) && value >= 0 ? value : undefined;
}

export function Catalog({ query }: { query: URLSearchParams }) {
  const q = query.get("q") ?? "";
  const minPrice = int(query.get("minPrice"));
  const maxPrice = int(query.get("maxPrice"));
  const sort = (query.get("sort") ?? "") as Sort | "";
  const page = Math.max(1, int(query.get("page")) ?? 1);
  const [result, setResult] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    setError(null);
    api
      .GET("/api/products", {
        params: {
          query: {
            page,
            pageSize: PAGE_SIZE,
            ...(q ? { q } : {}),
            ...(minPrice !== undefined ? { minPrice } : {}),
            ...(maxPrice !== undefined ? { maxPrice } : {}),
            ...(sort ? { sort } : {}),
          },
        },
      })
      .then(({ data, error }) => {
        if (!current) return;
        if (data) setResult(data);
        else setError(problem(error));
      })
      .catch((err) => current && setError(problem(err)));
    return () => {
      current = false;
    };
  }, [q, minPrice, maxPrice, sort, page]);

  /** The catalog URL for these filters; page 1 and empty filters are left out. */
  function href(changes: Record<string, string | number | undefined>): string {
    const params = new URLSearchParams();
    const merged = { q, minPrice, maxPrice, sort, page, ...changes };
    for (const [name, value] of Object.entries(merged)) {
      if (value === undefined || value === "" || (name === "page" && value === 1)) continue;
      params.set(name, String(value));
    }
    const text = params.toString();
    return text ? `/?${text}` : "/";
  }

  function search(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    navigate(
      href({
        q: String(form.get("q") ?? "").trim(),
        minPrice: cents(String(form.get("min") ?? "")),
        maxPrice: cents(String(form.get("max") ?? "")),
        sort: String(form.get("sort") ?? ""),
        page: 1,
      }),
    );
  }

  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">Catalog</h1>
      <form class="filters" role="search" onSubmit={search} key={query.toString()}>
        <label>
          Search
          <input name="q" type="search" defaultValue={q} placeholder="mug, shirt…" />
        </label>
        <label>
          Min price ($)
          <input
            name="min"
            type="number"
            min="0"
            step="0.01"
            defaultValue={dollars(query.get("minPrice"))}
          />
        </label>
        <label>
          Max price ($)
          <input
            name="max"
            type="number"
            min="0"
            step="0.01"
            defaultValue={dollars(query.get("maxPrice"))}
          />
        </label>
        <label>
          Sort
          <select name="sort" defaultValue={sort}>
            {SORTS.map(([value, text]) => (
              <option value={value} key={value}>
                {text}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      {added && (
        <p class="note" role="status">
          Added {added} to the cart.
        </p>
      )}
      {result && result.rows.length === 0 && <p>No products match.</p>}
      {result && result.rows.length > 0 && (
        <>
          <p class="muted" aria-live="polite">
            {result.total} product{result.total === 1 ? "" : "s"}
          </p>
          <ul class="grid">
            {result.rows.map((product) => (
              <li class="card product-card" key={product.id}>
                <h3>
                  <a href={`#/product/${product.id}`}>{product.name}</a>
                </h3>
                <span class="price">{money(product.price, product.currency)}</span>
                <span class="muted">
                  {product.stock > 0 ? `${product.stock} in stock` : "Out of stock"}
                </span>
                <button
                  type="button"
                  disabled={product.stock === 0}
                  data-add={product.id}
                  onClick={() => {
                    cart.add(product);
                    setAdded(product.name);
                  }}
                >
                  Add to cart<span class="visually-hidden">: {product.name}</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {result && result.totalPages > 1 && (
        <nav class="pager" aria-label="Pages">
          {page > 1 ? <a href={href({ page: page - 1 })}>Previous page</a> : <span />}
          <span>
            Page {result.page} of {result.totalPages}
          </span>
          {page < result.totalPages && <a href={href({ page: page + 1 })}>Next page</a>}
        </nav>
      )}
    </section>
  );
}
