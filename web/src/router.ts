// Client-side routes on the History API. The server answers index.html for these paths, so a
// link to a model or a run works when pasted into a new tab.

import { useEffect, useState } from "preact/hooks";

export type Tab = "use" | "api" | "versions";

export type Route =
  | { page: "home"; q: string }
  | { page: "model"; owner: string; name: string; version?: string; tab: Tab }
  | { page: "run"; id: string }
  | { page: "me" }
  | { page: "not-found"; path: string };

const TABS: readonly Tab[] = ["use", "api", "versions"];

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** Reads a route from a path and its query string. */
export function parseRoute(pathname: string, search = ""): Route {
  const params = new URLSearchParams(search);
  const parts = pathname.split("/").filter(Boolean).map(decode);
  if (parts.some((p) => p === null)) return { page: "not-found", path: pathname };
  const [first, ...rest] = parts as string[];
  if (first === undefined) return { page: "home", q: params.get("q") ?? "" };
  if (first === "me" && rest.length === 0) return { page: "me" };
  if (first === "r" && rest.length === 1 && rest[0]) return { page: "run", id: rest[0] };
  if (first === "m" && rest.length === 2) {
    const [owner, ref] = rest as [string, string];
    const at = ref.indexOf("@");
    const name = at < 0 ? ref : ref.slice(0, at);
    const version = at < 0 ? undefined : ref.slice(at + 1);
    const t = params.get("tab");
    const tab = TABS.includes(t as Tab) ? (t as Tab) : "use";
    if (owner && name && version !== "") {
      return version === undefined
        ? { page: "model", owner, name, tab }
        : { page: "model", owner, name, version, tab };
    }
  }
  return { page: "not-found", path: pathname };
}

export function modelHref(owner: string, name: string, version?: string | number, tab: Tab = "use"): string {
  const e = encodeURIComponent;
  const ref = version === undefined ? e(name) : `${e(name)}@${e(String(version))}`;
  return `/m/${e(owner)}/${ref}${tab === "use" ? "" : `?tab=${tab}`}`;
}

export const runHref = (id: string) => `/r/${encodeURIComponent(id)}`;

export const homeHref = (q = "") => (q ? `/?q=${encodeURIComponent(q)}` : "/");

const CHANGE = "feather:navigate";

export function navigate(href: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  window.dispatchEvent(new Event(CHANGE));
}

function current(): Route {
  return parseRoute(location.pathname, location.search);
}

/** The current route, updated on links, back and forward. */
export function useRoute(): Route {
  const [route, set] = useState(current);
  useEffect(() => {
    const update = () => set(current());
    window.addEventListener("popstate", update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return route;
}

/** Follows a same-origin link without reloading, unless the person asked for a new tab. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as Element | null)?.closest?.("a");
  if (!a || e.defaultPrevented || e.button !== 0) return;
  if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target && a.target !== "_self") return;
  if (a.hasAttribute("download") || a.dataset.native !== undefined) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  e.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) {
    navigate(url.pathname + url.search + url.hash);
    window.scrollTo(0, 0);
  }
}
