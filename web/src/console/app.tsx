/**
 * The operator console (admins only): the live mesh, per-action figures, the saga board and
 * fault injection, each from the gateway's `/api/admin/…` routes. Without an admin's session it
 * shows a sign-in form (a customer's token is refused by every console route with 403).
 */
import { useState } from "preact/hooks";
import { api, problem } from "../shared/api";
import { Footer } from "../shared/footer";
import { session, useSession } from "../shared/session";
import { ActionsPanel } from "./actions";
import { BoardPanel } from "./board";
import { FaultsPanel } from "./faults";
import { MeshPanel } from "./mesh";

function SignIn({ notAdmin }: { notAdmin: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      const { data, error } = await api.POST("/api/auth/login", {
        body: {
          email: String(form.get("email") ?? ""),
          password: String(form.get("password") ?? ""),
        },
      });
      if (!data) return setError(problem(error));
      if (!data.user.roles.includes("admin"))
        return setError("This account is not an operator's (admin).");
      session.signIn({ token: data.token, user: data.user });
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to the console</h1>
      {notAdmin && (
        <p class="note" role="status">
          You are signed in as a customer: the console is for admins.
        </p>
      )}
      <form class="form" onSubmit={submit}>
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p class="alert" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}

export function App() {
  const current = useSession();
  const admin = current?.user.roles.includes("admin") ?? false;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <a class="brand" href="/console">
          commerce-mesh console
        </a>
        <nav aria-label="Main">
          <ul>
            <li>
              <a href="/">Shop</a>
            </li>
            {current && (
              <li>
                <button type="button" class="secondary" onClick={() => session.signOut()}>
                  Sign out {current.user.email}
                </button>
              </li>
            )}
          </ul>
        </nav>
      </header>
      <main id="main">
        {admin && current ? (
          <>
            <h1>Operator console</h1>
            <MeshPanel token={current.token} />
            <ActionsPanel />
            <BoardPanel />
            <FaultsPanel />
          </>
        ) : (
          <SignIn notAdmin={current !== null} />
        )}
      </main>
      <Footer />
    </>
  );
}
