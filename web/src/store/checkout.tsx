/**
 * The cart and the checkout: quantities, the total, a test card (the payment provider's tokens,
 * never card data) and "Place order", which sends the attempt's Idempotency-Key (cart.ts).
 */
import { useState } from "preact/hooks";
import { api, problem } from "../shared/api";
import { money } from "../shared/format";
import { navigate } from "../shared/router";
import { useSession } from "../shared/session";
import { attemptKey, cart, total, useCart } from "./cart";

export const TEST_CARDS = [
  ["tok_visa", "Visa that pays"],
  ["tok_chargeDeclined", "Card that is declined"],
  ["tok_slow", "Card whose bank answers slowly"],
] as const;

export function CartPage() {
  const lines = useCart();
  const signedIn = useSession() !== null;
  const [card, setCard] = useState<string>(TEST_CARDS[0][0]);
  const [placing, setPlacing] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function placeOrder() {
    setPlacing(true);
    setError(null);
    const body = {
      items: lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
      paymentToken: card,
    };
    try {
      const { data, error } = await api.POST("/api/orders", {
        body,
        params: { header: { "Idempotency-Key": attemptKey(body) } },
      });
      if (data) {
        cart.clear();
        navigate(`#/orders/${data.id}`);
      } else setError(problem(error));
    } catch (err) {
      // The same key is sent again on the next click: a retry cannot place a second order.
      setError(problem(err));
    } finally {
      setPlacing(false);
    }
  }

  if (lines.length === 0)
    return (
      <section>
        <h1>Cart</h1>
        <p>
          The cart is empty. <a href="/">Browse the catalog</a>
        </p>
      </section>
    );
  return (
    <section aria-labelledby="cart-title">
      <h1 id="cart-title">Cart</h1>
      <table>
        <caption class="visually-hidden">Products in the cart</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Price</th>
            <th scope="col">Quantity</th>
            <th scope="col">Line total</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line) => (
            <tr key={line.productId}>
              <td>{line.name}</td>
              <td>{money(line.price)}</td>
              <td>
                <input
                  type="number"
                  min="0"
                  value={line.quantity}
                  aria-label={`Quantity of ${line.name}`}
                  onChange={(e) =>
                    cart.setQuantity(line.productId, Number(e.currentTarget.value) || 0)
                  }
                />{" "}
                <button
                  type="button"
                  class="secondary"
                  onClick={() => cart.setQuantity(line.productId, 0)}
                >
                  Remove<span class="visually-hidden"> {line.name}</span>
                </button>
              </td>
              <td>{money(line.price * line.quantity)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="price">Total: {money(total(lines))}</p>
      {!signedIn ? (
        <p class="note">
          <a href="#/signin">Sign in</a> or <a href="#/register">register</a> to check out.
        </p>
      ) : (
        <form
          class="form"
          onSubmit={(event) => {
            event.preventDefault();
            void placeOrder();
          }}
        >
          <fieldset>
            <legend>Test card</legend>
            {TEST_CARDS.map(([token, text]) => (
              <label key={token}>
                <input
                  type="radio"
                  name="card"
                  value={token}
                  checked={card === token}
                  onChange={() => setCard(token)}
                />
                {text} (<code>{token}</code>)
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={placing}>
            {placing ? "Placing the order…" : "Place order"}
          </button>
        </form>
      )}
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
