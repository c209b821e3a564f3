/** One product: its description, price and stock, and a quantity to add to the cart. */
import { useEffect, useState } from "preact/hooks";
import { api, problem, type Product } from "../shared/api";
import { money } from "../shared/format";
import { cart } from "./cart";

export function ProductPage({ id }: { id: string }) {
  const [product, setProduct] = useState<Product | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState(false);

  useEffect(() => {
    api
      .GET("/api/products/{id}", { params: { path: { id } } })
      .then(({ data, error }) => (data ? setProduct(data) : setError(problem(error))))
      .catch((err) => setError(problem(err)));
  }, [id]);

  if (error)
    return (
      <p class="alert" role="alert">
        {error}
      </p>
    );
  if (!product) return <p>Loading…</p>;
  return (
    <article aria-labelledby="product-title">
      <p>
        <a href="/">← Back to the catalog</a>
      </p>
      <h1 id="product-title">{product.name}</h1>
      <p class="price">{money(product.price, product.currency)}</p>
      <p>{product.description}</p>
      <p class="muted">
        SKU {product.sku} · {product.stock > 0 ? `${product.stock} in stock` : "Out of stock"}
      </p>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          cart.add(product, quantity);
          setAdded(true);
        }}
      >
        <label>
          Quantity
          <input
            type="number"
            min="1"
            max={product.stock}
            value={quantity}
            onInput={(e) => setQuantity(Math.max(1, Number(e.currentTarget.value) || 1))}
          />
        </label>
        <button type="submit" disabled={product.stock === 0}>
          Add to cart
        </button>
      </form>
      {added && (
        <p class="note" role="status">
          Added to the cart. <a href="#/cart">Go to the cart</a>
        </p>
      )}
    </article>
  );
}
