/**
 * Where the page is: the view in the hash (`#/product/ID`, `#/cart`, `#/orders/ID`), so the
 * gateway serves one HTML file at `/`, and the catalog's filters in the query string with the
 * API's own names (`/?q=mug&sort=price&page=2`), so a catalog page can be shared as a link.
 */
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** The hash without `#`: `/`, `/product/ID`, … */
  path: string;
  query: URLSearchParams;
}

const NAVIGATED = "commerce-mesh:navigated";

function current(): Route {
  return {
    path: location.hash.replace(/^#/, "") || "/",
    query: new URLSearchParams(location.search),
  };
}

/** Goes to `url` (`/?q=…`, `#/cart`) without a reload. */
export function navigate(url: string, replace = false): void {
  const target = new URL(url, location.href);
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  dispatchEvent(new Event(NAVIGATED));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener("popstate", update);
    addEventListener("hashchange", update);
    addEventListener(NAVIGATED, update);
    return () => {
      removeEventListener("popstate", update);
      removeEventListener("hashchange", update);
      removeEventListener(NAVIGATED, update);
    };
  }, []);
  return route;
}

/** Same-page links go through `navigate`; a modified click (new tab) is left to the browser. */
export function onLinkClick(event: MouseEvent): void {
  const link = (event.target as Element).closest("a");
  if (event.defaultPrevented || !link || link.target || link.origin !== location.origin) return;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return;
  if (link.pathname !== location.pathname && link.pathname !== "/") return;
  event.preventDefault();
  navigate(link.href);
}
