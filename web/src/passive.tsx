// The Passive page (records by recontype, readable cards, timeline) and
// the DNS page (passive DNS by name or address, /passivedns).
import { useEffect, useState } from "preact/hooks";
import { getCount, getNdjson, getText } from "./api";
import { navigate, Route } from "./route";
import { FilterBar, Facet, Pager, VirtualList } from "./widgets";
import { quote, tokenize } from "./query";
import { errMsg, fmtTime } from "./util";

type Rec = {
  addr?: string;
  sensor?: string;
  recontype: string;
  source?: string;
  value?: string;
  targetval?: string;
  port?: number;
  count?: number;
  firstseen?: number;
  lastseen?: number;
  infos?: Record<string, unknown>;
};

function dn(v: unknown): string {
  if (v && typeof v === "object") return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${x}`).join(", ");
  return v === undefined || v === null ? "" : String(v);
}

function RecBody(props: { r: Rec }) {
  const { r } = props;
  const i = r.infos || {};
  switch (r.recontype) {
    case "DNS_ANSWER":
      return (
        <p class="mono">
          {r.value} → {r.addr || r.targetval} <span class="muted">({String(r.source || "").split("-")[0]})</span>
        </p>
      );
    case "SSL_SERVER":
    case "SSL_CLIENT":
      if (r.source === "cert" || r.source === "cacert")
        return (
          <dl>
            <dt>Subject</dt>
            <dd>{String(i.subject_text || dn(i.subject))}</dd>
            <dt>Issuer</dt>
            <dd>{String(i.issuer_text || dn(i.issuer))}</dd>
            <dt>SHA1</dt>
            <dd class="mono">{String(i.sha1 || "")}</dd>
            {i.not_after ? (
              <>
                <dt>Validity</dt>
                <dd>
                  {fmtTime(i.not_before)} → {fmtTime(i.not_after)}
                </dd>
              </>
            ) : null}
          </dl>
        );
      return (
        <p class="mono">
          {String(r.source || "").toUpperCase()} {r.value} {i.raw ? <span class="muted small wrap">{String(i.raw)}</span> : null}
        </p>
      );
    case "SSH_SERVER_HOSTKEY":
    case "SSH_CLIENT_HOSTKEY":
      return (
        <p class="mono">
          {String(i.algo || "")} {i.bits ? `${i.bits} bits` : ""} MD5 {String(i.md5 || "")}
        </p>
      );
    default:
      return <pre class="value">{(r.value || "").slice(0, 600)}</pre>;
  }
}

function RecTimeline(props: { recs: Rec[]; hover: number; onHover: (i: number) => void }) {
  const recs = props.recs.filter((r) => r.firstseen && r.lastseen);
  if (!recs.length) return null;
  const W = 560;
  const rowH = 6;
  const H = recs.length * rowH + 24;
  const t0 = Math.min(...recs.map((r) => r.firstseen!));
  const t1 = Math.max(...recs.map((r) => r.lastseen!));
  const x = (t: number) => 10 + ((W - 20) * (t - t0)) / Math.max(1, t1 - t0);
  return (
    <section class="panel timeline">
      <h3>Timeline</h3>
      <svg width="100%" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="timeline of records">
        {recs.map((r, k) => (
          <line
            key={k}
            x1={x(r.firstseen!)}
            x2={Math.max(x(r.firstseen!) + 2, x(r.lastseen!))}
            y1={k * rowH + 4}
            y2={k * rowH + 4}
            class={props.hover === props.recs.indexOf(r) ? "span hover" : "span"}
            stroke-width={Math.min(5, 1 + Math.log2(1 + (r.count || 1)))}
            onMouseEnter={() => props.onHover(props.recs.indexOf(r))}
          >
            <title>{`${r.recontype} ${r.value || ""}: ${fmtTime(r.firstseen)} → ${fmtTime(r.lastseen)} (${r.count})`}</title>
          </line>
        ))}
        <text x={10} y={H - 4} class="small">
          {fmtTime(t0).slice(0, 10)}
        </text>
        <text x={W - 10} y={H - 4} text-anchor="end" class="small">
          {fmtTime(t1).slice(0, 10)}
        </text>
      </svg>
    </section>
  );
}

export function PassivePage(props: { route: Route; defaultLimit: number }) {
  const { route } = props;
  const q = route.params.get("q") || "";
  const limitP = parseInt(route.params.get("limit") || "", 10);
  const limit = limitP > 0 && limitP <= 10000 ? limitP : props.defaultLimit;
  const skip = Math.max(0, parseInt(route.params.get("skip") || "0", 10) || 0);
  const [recs, setRecs] = useState<Rec[] | null>(null);
  const [count, setCount] = useState<number | null>(null);
  const [err, setErr] = useState("");
  const [hover, setHover] = useState(-1);
  const setQ = (nq: string) => navigate("passive", { q: nq.trim() || undefined });
  const addTok = (t: string) => {
    const toks = tokenize(q);
    if (!toks.includes(t)) setQ([...toks, t].join(" "));
  };
  useEffect(() => {
    let live = true;
    setErr("");
    setRecs(null);
    getNdjson<Rec>("/passive", { q: [q, `limit:${limit}`, skip ? `skip:${skip}` : ""].filter(Boolean).join(" ") })
      .then((r) => live && setRecs(r))
      .catch((e) => live && (setRecs([]), setErr(errMsg(e))));
    getCount("passive", q)
      .then((n) => live && setCount(n))
      .catch(() => live && setCount(0));
    return () => {
      live = false;
    };
  }, [q, skip, limit]);
  return (
    <div class="layout">
      <aside class="facets">
        <Facet purpose="passive" field="recontype" title="Record type" q={q} onAdd={addTok} />
        <Facet purpose="passive" field="sensor" title="Sensor" q={q} onAdd={addTok} />
        <Facet purpose="passive" field="source" title="Source" q={q} onAdd={addTok} />
      </aside>
      <main class="main">
        <FilterBar q={q} onChange={setQ} error={err} />
        <Pager skip={skip} limit={limit} count={count} onSkip={(s) => navigate("passive", { q: q || undefined, limit: route.params.get("limit") || undefined, skip: s ? String(s) : undefined })} />
        <div class="cards" id="records">
          {recs === null && <p class="muted">loading…</p>}
          {recs && (
            <VirtualList
              items={recs}
              itemKey={(_r, k) => k}
              render={(r, k) => (
            <article class={`card rec ${hover === k ? "selected" : ""}`} key={k} onMouseEnter={() => setHover(k)}>
              <header>
                <button class="tagchip" onClick={() => addTok(`recontype:${r.recontype}`)}>
                  {r.recontype}
                </button>
                {r.source && (
                  <button class="tagchip src" onClick={() => addTok(`source:${quote(`${r.recontype}:${r.source}`)}`)}>
                    {r.source}
                  </button>
                )}
                {r.addr && (
                  <button class="addr" onClick={() => addTok(`host:${r.addr}`)}>
                    {r.addr}
                    {r.port ? `:${r.port}` : ""}
                  </button>
                )}
                <span class="muted small right">
                  ×{r.count} {fmtTime(r.firstseen)} → {fmtTime(r.lastseen)}
                </span>
              </header>
              <RecBody r={r} />
            </article>)}
            />
          )}
        </div>
        {recs && <RecTimeline recs={recs} hover={hover} onHover={setHover} />}
      </main>
    </div>
  );
}

type Cof = { rrname: string; rrtype: string; rdata: string; count?: number; time_first?: number | string; time_last?: number | string; sensor?: string; source?: string };

export function DnsPage(props: { route: Route }) {
  const name = props.route.params.get("name") || "";
  const sub = props.route.params.get("subdomains") === "1";
  const [input, setInput] = useState(name);
  const [rows, setRows] = useState<Cof[] | null>(null);
  const [err, setErr] = useState("");
  useEffect(() => setInput(name), [name]);
  useEffect(() => {
    if (!name) {
      setRows(null);
      return;
    }
    let live = true;
    setErr("");
    setRows(null);
    getText(`/passivedns/${encodeURIComponent(name)}`, { subdomains: sub ? "1" : undefined })
      .then(
        (t) =>
          live &&
          setRows(
            t
              .split("\n")
              .filter((l) => l.trim())
              .map((l) => JSON.parse(l) as Cof),
          ),
      )
      .catch((e) => live && (setRows([]), setErr(errMsg(e))));
    return () => {
      live = false;
    };
  }, [name, sub]);
  return (
    <main class="main narrow">
      <form
        class="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate("dns", { name: input.trim() || undefined, subdomains: sub ? "1" : undefined });
        }}
      >
        <input id="dns-input" aria-label="name, address or network" placeholder="name, address or CIDR (e.g. example.com, 192.0.2.1)" value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} />
        <label>
          <input type="checkbox" checked={sub} onChange={(e) => navigate("dns", { name: name || undefined, subdomains: (e.target as HTMLInputElement).checked ? "1" : undefined })} /> subdomains
        </label>
        <button type="submit">Look up</button>
      </form>
      {err && <p class="error">{err}</p>}
      {!name && <p class="muted">Passive DNS: the answers seen for a name, or the names seen for an address.</p>}
      {rows && <p class="muted">{rows.length} record(s)</p>}
      <div class="cards" id="dns-records">
        {rows?.map((r, k) => (
          <article class="card" key={k}>
            <header>
              <button class="link mono" onClick={() => navigate("dns", { name: r.rrname })}>
                {r.rrname}
              </button>
              <span class="tagchip">{r.rrtype}</span> →{" "}
              <button class="link mono" onClick={() => navigate("dns", { name: r.rdata })}>
                {r.rdata}
              </button>
              <span class="muted small right">
                ×{r.count} {fmtTime(r.time_first)} → {fmtTime(r.time_last)} {r.source ? `via ${r.source}` : ""}
              </span>
            </header>
          </article>
        ))}
      </div>
    </main>
  );
}
