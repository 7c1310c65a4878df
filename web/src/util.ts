export function fmtTime(t: unknown): string {
  if (typeof t === "number") return new Date(t * 1000).toISOString().slice(0, 19).replace("T", " ");
  if (typeof t === "string") return t;
  return "";
}

export function flag(cc: unknown): string {
  if (typeof cc !== "string" || !/^[A-Z]{2}$/.test(cc)) return "";
  return String.fromCodePoint(...[...cc].map((c) => 0x1f1a5 + c.charCodeAt(0)));
}

export function asArray<T>(v: T | T[] | undefined | null): T[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

export function fmtBytes(n: number): string {
  const u = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${u[i]}`;
}

export function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
