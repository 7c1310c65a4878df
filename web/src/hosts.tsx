// The View and Active pages: filter bar, facets, host cards with paging,
// top-values chart, map (View) or scan timeline (Active), host panel.
import { useEffect, useState } from "preact/hooks";
import { getCount, getJson, getNdjson } from "./api";
import { navigate, Route } from "./route";
import { FilterBar, Facet, Pager, Timeline, TopChart, VirtualList } from "./widgets";
import { WorldMap } from "./worldmap";
import { quote, tokenize } from "./query";
import { asArray, errMsg, fmtTime } from "./util";

export type Port = {
  protocol?: string;
  port?: number;
  state_state?: string;
  service_name?: string;
  service_product?: string;
  service_version?: string;
  service_extrainfo?: string;
  scripts?: { id: string; output?: string }[];
};
export type Host = {
  addr: string;
  hostnames?: { name: string; type?: string }[];
  infos?: Record<string, unknown>;
  tags?: { value: string; type?: string; info?: string[] }[];
  categories?: string[];
  source?: string | string[];
  ports?: Port[];
  traces?: { protocol?: string; port?: number; hops?: { ttl: number; ipaddr: string; rtt?: number; host?: string }[] }[];
  os?: { osmatch?: { name: string; accuracy?: number }[]; osclass?: { vendor?: string; osfamily?: string; osgen?: string; type?: string }[] };
  starttime?: number;
  endtime?: number;
  addresses?: { mac?: { addr: string; manuf?: string }[] };
};

const SEVERITY: Record<string, number> = { danger: 0, error: 0, warning: 1, success: 2, info: 3 };

function sortedTags(h: Host) {
  return [...(h.tags || [])].sort((a, b) => (SEVERITY[a.type || ""] ?? 4) - (SEVERITY[b.type || ""] ?? 4));
}

function openPorts(h: Host): Port[] {
  return (h.ports || []).filter((p) => p.state_state === "open" && p.port !== -1);
}

function svcText(p: Port): string {
  return [p.service_name, p.service_product, p.service_version].filter(Boolean).join(" ");
}

const FACETS: Record<string, [string, string][]> = {
  view: [
    ["country", "Country"],
    ["as", "AS"],
    ["port:open", "Open ports"],
    ["product", "Product"],
    ["tag", "Tag"],
    ["category", "Category"],
    ["source", "Source"],
  ],
  scans: [
    ["category", "Category"],
    ["source", "Source"],
    ["port:open", "Open ports"],
    ["service", "Service"],
    ["product", "Product"],
    ["tag", "Tag"],
  ],
};

function Chip(props: { tok: string; onAdd: (t: string) => void; cls?: string; children: preact.ComponentChildren }) {
  return (
    <button class={`tagchip ${props.cls || ""}`} title={`add ${props.tok}`} onClick={(e) => (e.stopPropagation(), props.onAdd(props.tok))}>
      {props.children}
    </button>
  );
}

/** How many tags a card shows before "show N more". */
const TAG_CAP = 6;

function HostCard(props: { h: Host; onAdd: (t: string) => void; onOpen: () => void; selected: boolean }) {
  const { h, onAdd } = props;
  const inf = h.infos || {};
  const [allTags, setAllTags] = useState(false);
  const tags = sortedTags(h);
  return (
    <article class={`card host ${props.selected ? "selected" : ""}`} data-addr={h.addr}>
      <header>
        <button class="addr" onClick={props.onOpen} title="details">
          {h.addr}
        </button>
        {inf.country_code ? (
          <Chip tok={`country:${inf.country_code}`} onAdd={onAdd}>
            {String(inf.country_code)}
          </Chip>
        ) : null}
        {inf.as_num ? (
          <Chip tok={`asnum:${inf.as_num}`} onAdd={onAdd}>
            AS{String(inf.as_num)} {String(inf.as_name || "")}
          </Chip>
        ) : null}
        <span class="muted small right">{fmtTime(h.endtime || h.starttime)}</span>
      </header>
      {(h.hostnames || []).length > 0 && (
        <div class="hostnames">
          {(h.hostnames || []).slice(0, 5).map((n) => (
            <Chip key={n.name} tok={`hostname:${n.name}`} onAdd={onAdd} cls="plain">
              {n.name}
            </Chip>
          ))}
        </div>
      )}
      <div class="chiprow">
        {asArray(h.source).map((s) => (
          <Chip key={"s" + s} tok={`source:${quote(s)}`} onAdd={onAdd} cls="src">
            {s}
          </Chip>
        ))}
        {(h.categories || []).map((c) => (
          <Chip key={"c" + c} tok={`category:${quote(c)}`} onAdd={onAdd} cls="cat">
            {c}
          </Chip>
        ))}
        {(allTags ? tags : tags.slice(0, TAG_CAP)).map((t) => (
          <Chip key={"t" + t.value} tok={`tag:${quote(t.value)}`} onAdd={onAdd} cls={`tag-${t.type || "default"}`}>
            {t.value}
          </Chip>
        ))}
        {tags.length > TAG_CAP && (
          <button class="link small" onClick={() => setAllTags(!allTags)}>
            {allTags ? "fewer" : `show ${tags.length - TAG_CAP} more`}
          </button>
        )}
      </div>
      <ul class="ports">
        {openPorts(h)
          .slice(0, 12)
          .map((p) => (
            <li key={`${p.protocol}/${p.port}`}>
              <Chip tok={`${p.protocol}/${p.port}`} onAdd={onAdd} cls="port">
                {p.protocol}/{p.port}
              </Chip>
              <span class="svc">{svcText(p)}</span>
            </li>
          ))}
        {openPorts(h).length > 12 && <li class="muted">+{openPorts(h).length - 12} more</li>}
      </ul>
    </article>
  );
}

function HostPanel(props: {
  purpose: string;
  addr: string;
  onClose: () => void;
  onPrev?: () => void;
  onNext?: () => void;
  onAdd: (t: string) => void;
  page: string;
}) {
  const [h, setH] = useState<Host | null>(null);
  const [err, setErr] = useState("");
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    let live = true;
    setH(null);
    setErr("");
    getJson<Host[]>(`/${props.purpose}`, { q: `host:${props.addr} limit:1` })
      .then((r) => live && (r.length ? setH(r[0]) : setErr("no such host")))
      .catch((e) => live && setErr(errMsg(e)));
    return () => {
      live = false;
    };
  }, [props.purpose, props.addr]);
  useEffect(() => {
    const f = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).tagName === "INPUT") return;
      if (e.key === "Escape") props.onClose();
      else if (e.key === "ArrowLeft" || e.key === "k") props.onPrev?.();
      else if (e.key === "ArrowRight" || e.key === "j") props.onNext?.();
    };
    window.addEventListener("keydown", f);
    return () => window.removeEventListener("keydown", f);
  }, [props.onClose, props.onPrev, props.onNext]);
  const permalink = `${location.origin}/#/${props.page}?q=${encodeURIComponent(`host:${props.addr}`)}&host=${encodeURIComponent(props.addr)}`;
  const inf = h?.infos || {};
  return (
    <aside class="hostpanel" role="dialog" aria-label={`host ${props.addr}`} id="hostpanel">
      <header>
        <h2>{props.addr}</h2>
        <div class="row">
          <button onClick={props.onPrev} disabled={!props.onPrev} aria-label="previous host">
            ‹ prev
          </button>
          <button onClick={props.onNext} disabled={!props.onNext} aria-label="next host">
            next ›
          </button>
          <button
            onClick={() => {
              navigator.clipboard?.writeText(permalink).then(
                () => setCopied(true),
                () => setCopied(false),
              );
            }}
          >
            {copied ? "copied" : "permalink"}
          </button>
          <a href={permalink}>link</a>
          <button onClick={props.onClose} aria-label="close">
            ✕
          </button>
        </div>
      </header>
      {err && <p class="error">{err}</p>}
      {!h && !err && <p class="muted">loading…</p>}
      {h && (
        <div class="body">
          <h3>Network</h3>
          <dl>
            {inf.country_code ? (
              <>
                <dt>Country</dt>
                <dd>
                  {String(inf.country_name || inf.country_code)}
                  {inf.city ? `, ${inf.city}` : ""}
                </dd>
              </>
            ) : null}
            {inf.as_num ? (
              <>
                <dt>AS</dt>
                <dd>
                  AS{String(inf.as_num)} {String(inf.as_name || "")}
                </dd>
              </>
            ) : null}
            <dt>Source</dt>
            <dd>{asArray(h.source).join(", ")}</dd>
            <dt>Seen</dt>
            <dd>
              {fmtTime(h.starttime)} → {fmtTime(h.endtime)}
            </dd>
            {(h.addresses?.mac || []).map((m) => (
              <>
                <dt>MAC</dt>
                <dd>
                  {m.addr} {m.manuf || ""}
                </dd>
              </>
            ))}
          </dl>
          {(h.hostnames || []).length > 0 && (
            <>
              <h3>Hostnames</h3>
              <ul>
                {h.hostnames!.map((n) => (
                  <li key={n.name + n.type}>
                    {n.name} <span class="muted small">{n.type}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
          {(h.tags || []).length > 0 && (
            <>
              <h3>Tags</h3>
              <ul>
                {sortedTags(h).map((t) => (
                  <li key={t.value}>
                    <span class={`tagchip tag-${t.type || "default"}`}>{t.value}</span> {(t.info || []).join("; ")}
                  </li>
                ))}
              </ul>
            </>
          )}
          {(h.categories || []).length > 0 && (
            <>
              <h3>Categories</h3>
              <p>{h.categories!.join(", ")}</p>
            </>
          )}
          {h.os && (h.os.osmatch || h.os.osclass) && (
            <>
              <h3>OS</h3>
              <ul>
                {(h.os.osmatch || []).slice(0, 3).map((m) => (
                  <li key={m.name}>
                    {m.name} {m.accuracy ? <span class="muted">({m.accuracy}%)</span> : null}
                  </li>
                ))}
                {(h.os.osclass || []).slice(0, 3).map((c, i) => (
                  <li key={i}>{[c.vendor, c.osfamily, c.osgen, c.type].filter(Boolean).join(" ")}</li>
                ))}
              </ul>
            </>
          )}
          <h3>Ports &amp; services</h3>
          {(h.ports || []).filter((p) => p.port !== -1).length === 0 && <p class="muted">none</p>}
          {(h.ports || [])
            .filter((p) => p.port !== -1)
            .map((p) => (
              <div class="port" key={`${p.protocol}/${p.port}`}>
                <div class="porthead">
                  <button class="tagchip port" onClick={() => props.onAdd(`${p.protocol}/${p.port}`)}>
                    {p.protocol}/{p.port}
                  </button>
                  <span class={`state ${p.state_state}`}>{p.state_state}</span> <span>{svcText(p)}</span>{" "}
                  <span class="muted">{p.service_extrainfo || ""}</span>
                </div>
                {(p.scripts || []).map((s) => (
                  <details class="script" open key={s.id}>
                    <summary>{s.id}</summary>
                    <pre class="script-output">{s.output || ""}</pre>
                  </details>
                ))}
              </div>
            ))}
          {(h.traces || []).map((t, i) => (
            <div key={i}>
              <h3>
                Traceroute {t.protocol ? `(${t.protocol}/${t.port})` : ""}
              </h3>
              <ol class="trace">
                {[...(t.hops || [])]
                  .sort((a, b) => a.ttl - b.ttl)
                  .map((hp) => (
                    <li key={hp.ttl} value={hp.ttl}>
                      {hp.ipaddr} {hp.host ? <span class="muted">({hp.host})</span> : null} {hp.rtt !== undefined ? <span class="muted small">{hp.rtt} ms</span> : null}
                    </li>
                  ))}
              </ol>
            </div>
          ))}
        </div>
      )}
    </aside>
  );
}

export function HostsPage(props: { route: Route; purpose: "view" | "scans"; page: string; defaultLimit: number }) {
  const { route, purpose, page } = props;
  const q = route.params.get("q") || "";
  const limitP = parseInt(route.params.get("limit") || "", 10);
  const limit = limitP > 0 && limitP <= 10000 ? limitP : props.defaultLimit;
  const skip = Math.max(0, parseInt(route.params.get("skip") || "0", 10) || 0);
  const sel = route.params.get("host") || "";
  const [hosts, setHosts] = useState<Host[] | null>(null);
  const [count, setCount] = useState<number | null>(null);
  const [err, setErr] = useState("");
  // Sequential loading: the hosts first, then facets, charts and map for
  // the filter those hosts answered (paging does not reload them).
  const [shownQ, setShownQ] = useState<string | null>(null);
  const loaded = shownQ !== null;
  const fq = shownQ ?? q;
  const [timeline, setTimeline] = useState<[number, string, number][] | null>(null);

  const go = (p: Record<string, string | undefined>, replace = false) =>
    navigate(page, { q, limit: route.params.get("limit") || undefined, skip: skip ? String(skip) : undefined, host: sel || undefined, ...p }, replace);
  const setQ = (nq: string) => go({ q: nq.trim() || undefined, skip: undefined, host: undefined });
  const addTok = (t: string) => {
    const toks = tokenize(q);
    if (!toks.includes(t)) setQ([...toks, t].join(" "));
  };

  useEffect(() => {
    let live = true;
    setErr("");
    setHosts(null);
    setCount(null);
    const qq = [q, `limit:${limit}`, skip ? `skip:${skip}` : ""].filter(Boolean).join(" ");
    getNdjson<Host>(`/${purpose}`, { q: qq })
      .then((r) => live && (setHosts(r), setShownQ(q)))
      .catch((e) => live && (setHosts([]), setErr(errMsg(e)), setShownQ(q)));
    getCount(purpose, q)
      .then((n) => live && setCount(n))
      .catch(() => live && setCount(0));
    return () => {
      live = false;
    };
  }, [purpose, q, limit, skip]);

  // The timeline of every matching host (/timeline); where the server
  // has no such action yet, the hosts of this page.
  useEffect(() => {
    if (shownQ === null) return;
    let live = true;
    getJson<[number, string, number][]>(`/${purpose}/timeline`, { q: shownQ })
      .then((r) => live && setTimeline(r))
      .catch(() => live && setTimeline(null));
    return () => {
      live = false;
    };
  }, [purpose, shownQ]);

  const idx = hosts ? hosts.findIndex((h) => h.addr === sel) : -1;
  return (
    <div class="layout">
      <aside class="facets" aria-label="facets">
        {FACETS[purpose].map(([f, t]) => (
          <Facet key={f} purpose={purpose} field={f} title={t} q={fq} onAdd={addTok} enabled={loaded} />
        ))}
      </aside>
      <main class="main">
        <FilterBar q={q} onChange={setQ} error={err} />
        <Pager skip={skip} limit={limit} count={count} onSkip={(s) => go({ skip: s ? String(s) : undefined, host: undefined })} />
        <div class="cards" id="hosts">
          {hosts === null && <p class="muted loading">loading…</p>}
          {hosts && (
            <VirtualList
              items={hosts}
              itemKey={(h) => h.addr}
              render={(h) => <HostCard key={h.addr} h={h} onAdd={addTok} selected={h.addr === sel} onOpen={() => go({ host: h.addr })} />}
            />
          )}
        </div>
        {hosts && hosts.length > 3 && (
          <Pager skip={skip} limit={limit} count={count} onSkip={(s) => go({ skip: s ? String(s) : undefined, host: undefined })} />
        )}
        <div class="charts">
          <TopChart purpose={purpose} q={fq} onAdd={addTok} enabled={loaded} />
          {purpose === "view" && <WorldMap purpose={purpose} q={fq} enabled={loaded} />}
          {timeline ? (
            <Timeline title={purpose === "scans" ? "Scan timeline" : "Timeline"} points={timeline} onPick={(a) => go({ host: a })} />
          ) : (
            hosts && (
              <Timeline
                title="Timeline (this page)"
                points={hosts.map((h) => [h.starttime || 0, h.addr, openPorts(h).length] as [number, string, number]).filter((p) => p[0])}
                onPick={(a) => go({ host: a })}
              />
            )
          )}
        </div>
      </main>
      {sel && (
        <HostPanel
          purpose={purpose}
          addr={sel}
          page={page}
          onAdd={addTok}
          onClose={() => go({ host: undefined })}
          onPrev={idx > 0 ? () => go({ host: hosts![idx - 1].addr }, true) : undefined}
          onNext={hosts && idx >= 0 && idx < hosts.length - 1 ? () => go({ host: hosts[idx + 1].addr }, true) : undefined}
        />
      )}
    </div>
  );
}
