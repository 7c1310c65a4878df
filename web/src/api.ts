// Calls to IVRE's /cgi API. An API key, when the user signed in with one,
// is kept in sessionStorage and sent as a Bearer token; a 401 or 403
// raises AuthError, on which the app shows the sign-in dialog.

const KEY = "ivre-api-key";

export class AuthError extends Error {}
export class ApiError extends Error {}

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(k: string | null) {
  if (k) sessionStorage.setItem(KEY, k);
  else sessionStorage.removeItem(KEY);
}

type Params = Record<string, string | number | undefined>;

export function url(path: string, params: Params = {}): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== "") u.set(k, String(v));
  }
  const s = u.toString();
  return `/cgi${path}${s ? "?" + s : ""}`;
}

let onAuth: () => void = () => {};
export function onAuthNeeded(f: () => void) {
  onAuth = f;
}

export async function getText(path: string, params: Params = {}, key = apiKey()): Promise<string> {
  const headers: Record<string, string> = {};
  if (key) headers["Authorization"] = `Bearer ${key}`;
  const r = await fetch(url(path, params), { headers });
  const body = await r.text();
  if (r.status === 401 || r.status === 403) {
    onAuth();
    throw new AuthError(errorText(body) || `HTTP ${r.status}`);
  }
  if (!r.ok) throw new ApiError(errorText(body) || `HTTP ${r.status}`);
  return body;
}

function errorText(body: string): string {
  try {
    const v = JSON.parse(body);
    if (v && typeof v.error === "string") return v.error;
  } catch {
    /* not JSON */
  }
  return body.slice(0, 200);
}

export async function getJson<T>(path: string, params: Params = {}): Promise<T> {
  return JSON.parse(await getText(path, params)) as T;
}

export async function getNdjson<T>(path: string, params: Params = {}): Promise<T[]> {
  const t = await getText(path, { ...params, format: "ndjson" });
  return t
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export async function getCount(purpose: string, q: string): Promise<number> {
  return parseInt(await getText(`/${purpose}/count`, { q }), 10);
}

export type TopItem = { label: unknown; value: number };

export async function getTop(purpose: string, field: string, q: string, n: number): Promise<TopItem[]> {
  return getJson<TopItem[]>(`/${purpose}/top/${field}:${n}`, { q });
}

/** The server's /cgi/config (statements `config.KEY = JSON;`). */
export async function getConfig(): Promise<Record<string, unknown>> {
  const t = await getText("/config");
  const out: Record<string, unknown> = {};
  for (const m of t.matchAll(/^config\.(\w+) = (.*);$/gm)) {
    try {
      out[m[1]] = JSON.parse(m[2]);
    } catch {
      /* ignored */
    }
  }
  return out;
}

/** A request with a JSON body (POST, DELETE); the answer's JSON. */
export async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const key = apiKey();
  if (key) headers["Authorization"] = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (r.status === 401) {
    onAuth();
    throw new AuthError(errorText(text) || `HTTP ${r.status}`);
  }
  if (!r.ok) throw new ApiError(errorText(text) || `HTTP ${r.status}`);
  return JSON.parse(text) as T;
}

/** Who the signed-in key is (/cgi/auth/me). */
export type Me = {
  authenticated: boolean;
  email?: string;
  name?: string;
  is_admin?: boolean;
  permissions?: string[];
  base_filter?: string | null;
};
