/** Register and sign in: each answers a token and the user, kept by the session. */
import { useState } from "preact/hooks";
import { api, problem } from "../shared/api";
import { navigate } from "../shared/router";
import { session } from "../shared/session";
import { cart } from "./cart";

export function AccountForm({ mode }: { mode: "signin" | "register" }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const registering = mode === "register";

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    setBusy(true);
    setError(null);
    try {
      const { data, error } = registering
        ? await api.POST("/api/auth/register", {
            body: { email, password, name: String(form.get("name") ?? "") },
          })
        : await api.POST("/api/auth/login", { body: { email, password } });
      if (!data) return setError(problem(error));
      session.signIn({ token: data.token, user: data.user });
      // Back to the cart when the shopper came to check out.
      navigate(cart.lines().length > 0 ? "/#/cart" : "/");
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  }

  const title = registering ? "Create an account" : "Sign in";
  return (
    <section aria-labelledby="account-title">
      <h1 id="account-title">{title}</h1>
      <form class="form" onSubmit={submit}>
        {registering && (
          <label>
            Name
            <input name="name" autoComplete="name" required maxLength={100} />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={registering ? "new-password" : "current-password"}
            required
            minLength={registering ? 8 : undefined}
          />
        </label>
        <button type="submit" disabled={busy}>
          {title}
        </button>
        {error && (
          <p class="alert" role="alert">
            {error}
          </p>
        )}
      </form>
      <p>
        {registering ? (
          <>
            Have an account? <a href="#/signin">Sign in</a>
          </>
        ) : (
          <>
            New here? <a href="#/register">Create an account</a>
          </>
        )}
      </p>
    </section>
  );
}
