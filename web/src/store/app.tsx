/** The storefront: the header (cart, account, unread count), the view the hash names, the footer. */
import { useEffect } from "preact/hooks";
import { Footer } from "../shared/footer";
import { onLinkClick, useRoute } from "../shared/router";
import { session, useSession } from "../shared/session";
import { AccountForm } from "./account";
import { useCart } from "./cart";
import { Catalog } from "./catalog";
import { CartPage } from "./checkout";
import { followOrders } from "./live";
import { NotificationsPage, useUnreadCount } from "./notifications";
import { OrderPage, OrdersPage } from "./orders";
import { ProductPage } from "./product";

function View() {
  const { path, query } = useRoute();
  const signedIn = useSession() !== null;
  const [, view, id] = path.split("/");
  const needsAccount = <AccountForm mode="signin" />;
  switch (view) {
    case "product":
      return <ProductPage id={id} />;
    case "cart":
      return <CartPage />;
    case "signin":
      return <AccountForm mode="signin" />;
    case "register":
      return <AccountForm mode="register" />;
    case "orders":
      if (!signedIn) return needsAccount;
      return id ? <OrderPage id={id} key={id} /> : <OrdersPage />;
    case "notifications":
      return signedIn ? <NotificationsPage /> : needsAccount;
    default:
      return <Catalog query={query} />;
  }
}

function Header() {
  const current = useSession();
  const lines = useCart();
  const unread = useUnreadCount(current !== null);
  const items = lines.reduce((sum, l) => sum + l.quantity, 0);
  return (
    <header class="site-header">
      <a class="brand" href="/">
        commerce-mesh shop
      </a>
      <nav aria-label="Main">
        <ul>
          <li>
            <a href="/">Catalog</a>
          </li>
          <li>
            <a href="#/cart" data-testid="cart-link">
              Cart ({items})
            </a>
          </li>
          {current ? (
            <>
              <li>
                <a href="#/orders">Orders</a>
              </li>
              <li>
                <a href="#/notifications" data-testid="notifications-link">
                  Notifications
                  <span class="badge" data-testid="unread-count" aria-label={`${unread} unread`}>
                    {unread}
                  </span>
                </a>
              </li>
              <li>
                <span class="muted">{current.user.name}</span>{" "}
                <button type="button" class="secondary" onClick={() => session.signOut()}>
                  Sign out
                </button>
              </li>
            </>
          ) : (
            <>
              <li>
                <a href="#/signin">Sign in</a>
              </li>
              <li>
                <a href="#/register">Register</a>
              </li>
            </>
          )}
        </ul>
      </nav>
    </header>
  );
}

export function App() {
  const token = useSession()?.token ?? null;
  useEffect(() => followOrders(token), [token]);
  useEffect(() => {
    addEventListener("click", onLinkClick);
    return () => removeEventListener("click", onLinkClick);
  }, []);
  return (
    <>
      <a
        class="skip-link"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}
      >
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <View />
      </main>
      <Footer />
    </>
  );
}
