// The hash router: #/PAGE?k=v&... (page state lives in the URL, so links
// can be shared and Back works).
import { useEffect, useState } from "preact/hooks";

export type Route = { page: string; params: URLSearchParams };

export function parseHash(h = location.hash): Route {
  const s = h.replace(/^#\/?/, "");
  const i = s.indexOf("?");
  const page = (i < 0 ? s : s.slice(0, i)) || "view";
  return { page, params: new URLSearchParams(i < 0 ? "" : s.slice(i + 1)) };
}

export function hashOf(page: string, params: Record<string, string | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) u.set(k, v);
  const s = u.toString().replace(/\+/g, "%20");
  return `#/${page}${s ? "?" + s : ""}`;
}

export function navigate(page: string, params: Record<string, string | undefined>, replace = false) {
  const h = hashOf(page, params);
  if (replace) history.replaceState(null, "", h);
  else history.pushState(null, "", h);
  window.dispatchEvent(new Event("hashchange"));
}

export function useRoute(): Route {
  const [r, setR] = useState(parseHash());
  useEffect(() => {
    const f = () => setR(parseHash());
    window.addEventListener("hashchange", f);
    window.addEventListener("popstate", f);
    return () => {
      window.removeEventListener("hashchange", f);
      window.removeEventListener("popstate", f);
    };
  }, []);
  return r;
}
