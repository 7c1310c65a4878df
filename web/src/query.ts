// The q= filter language as the UI sees it: tokens (chips), keyword
// completion, and the facet label -> filter token mapper.

/** Splits a q= string into tokens; quotes group, an unbalanced quote is tolerated. */
export function tokenize(q: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | null = null;
  for (const c of q) {
    if (quote) {
      cur += c;
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (/\s/.test(c)) {
      if (cur) out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

export const KEYWORDS = [
  "asname:", "asnum:", "banner:", "category:", "city:", "closed:", "cookie:", "countports:",
  "country:", "cpe:", "devicetype:", "display:", "domain:", "file:", "filtered:", "hop:",
  "hopdomain:", "hopname:", "host:", "hostname:", "httpapp:", "httphdr:", "httptitle:",
  "ike.vendor_id.name:", "limit:", "net:", "open:", "os:", "otheropenport:", "product:",
  "range:", "recontype:", "screenshot:", "script:", "sensor:", "service:", "skip:", "sortby:",
  "source:", "sourcefile:", "sshkey.bits:", "sshkey.fingerprint:", "sshkey.type:", "tag:",
  "timeago:", "timerange:", "version:", "vuln:", "anonftp", "anonldap", "authbypassvnc",
  "authhttp", "geovision", "httpgit", "ms-sql-empty-password", "mssqlemptypwd", "nfs",
  "owa", "phpmyadmin", "smbshare", "sshd", "webfiles", "webmin", "x11open", "x11srv",
  "yp", "ypserv", "torcert", "webcam", "ssl-ja3-client:", "ssl-ja3-server:", "useragent:",
];

/** Up to 8 keywords starting with the typed prefix. */
export function complete(prefix: string): string[] {
  const p = prefix.replace(/^[!-]/, "").toLowerCase();
  if (!p || p.includes(":")) return [];
  const neg = prefix.startsWith("!") || prefix.startsWith("-") ? prefix[0] : "";
  return KEYWORDS.filter((k) => k.startsWith(p) && k !== p)
    .slice(0, 8)
    .map((k) => neg + k);
}

/** A value as a token part: quoted when it holds spaces or quotes. */
export function quote(v: string): string {
  return /[\s"']/.test(v) ? JSON.stringify(v) : v;
}

/** The token a click on a facet row (field, label) adds; null: none. */
export function facetToken(field: string, label: unknown): string | null {
  const base = field.replace(/:\d+$/, "");
  const l = Array.isArray(label) ? label : [label];
  if (l[0] === null || l[0] === undefined || l[0] === "") return null;
  switch (base) {
    case "port:open":
    case "port":
      return `${l[0]}/${l[1]}`;
    case "country":
      return `country:${l[0]}`;
    case "as":
    case "asnum":
      return `asnum:${l[0]}`;
    case "product":
      return l[1] ? `product:${quote(`${l[0]}:${l[1]}`)}` : `service:${quote(String(l[0]))}`;
    case "service":
      return `service:${quote(String(l[0]))}`;
    case "tag":
      return `tag:${quote(String(l[0]))}`;
    case "category":
      return `category:${quote(String(l[0]))}`;
    case "source":
      return l.length > 1 ? `source:${quote(`${l[0]}:${l[1]}`)}` : `source:${quote(String(l[0]))}`;
    case "sensor":
      return `sensor:${quote(String(l[0]))}`;
    case "recontype":
      return `recontype:${quote(String(l[0]))}`;
    case "domains":
      return `domain:${quote(String(l[0]))}`;
    case "city":
      return `city:${quote(String(l[1] ?? l[0]))}`;
    default:
      return null;
  }
}

/** How a facet label reads. */
export function labelText(label: unknown): string {
  if (Array.isArray(label)) {
    const parts = label.filter((x) => x !== null && x !== undefined && x !== "");
    if (parts.length === 2 && (parts[0] === "tcp" || parts[0] === "udp")) return `${parts[0]}/${parts[1]}`;
    return parts.length ? parts.join(" · ") : "(none)";
  }
  if (label === null || label === undefined || label === "") return "(none)";
  return String(label);
}
