// The Flow page: node and edge clauses, mode, time window, limit/skip,
// counts, and the graph laid out by a force simulation (d3-force), with
// nodes and edges sized by traffic; a click shows details.
import { useEffect, useMemo, useState } from "preact/hooks";
import { forceCenter, forceLink, forceManyBody, forceSimulation, forceX, forceY, SimulationLinkDatum, SimulationNodeDatum } from "d3-force";
import { getJson } from "./api";
import { navigate, Route } from "./route";
import { errMsg, fmtBytes } from "./util";

type FNode = { id: string; label: string; x: number; y: number; data: { addr: string; firstseen?: string; lastseen?: string } };
type FEdge = { id: string; label: string; source: string; target: string; data: Record<string, unknown> };
type Graph = { nodes: FNode[]; edges: FEdge[] };
type FlowQ = { nodes?: string[]; edges?: string[]; limit?: number; skip?: number; mode?: string; after?: string; before?: string };

type SNode = SimulationNodeDatum & { id: string; bytes: number; inbound: number };
type SLink = SimulationLinkDatum<SNode> & { e: FEdge; bytes: number };

function edgeBytes(e: FEdge): number {
  return Number(e.data.csbytes || 0) + Number(e.data.scbytes || 0);
}

function layout(g: Graph, W: number, H: number) {
  const byId = new Map<string, SNode>();
  for (const n of g.nodes) byId.set(n.id, { id: n.id, x: n.x * W, y: n.y * H, bytes: 0, inbound: 0 });
  const links: SLink[] = [];
  for (const e of g.edges) {
    const s = byId.get(e.source);
    const t = byId.get(e.target);
    if (!s || !t) continue;
    const b = edgeBytes(e);
    s.bytes += b;
    t.bytes += b;
    t.inbound += 1;
    links.push({ source: s, target: t, e, bytes: b });
  }
  const nodes = [...byId.values()];
  const sim = forceSimulation(nodes)
    .force("charge", forceManyBody().strength(-60))
    .force("link", forceLink<SNode, SLink>(links).distance(40))
    .force("center", forceCenter(W / 2, H / 2))
    // Pull the separate components together (flows often make many).
    .force("x", forceX(W / 2).strength(0.07))
    .force("y", forceY(H / 2).strength(0.07))
    .stop();
  const ticks = Math.min(300, Math.max(60, 30000 / Math.max(1, nodes.length)));
  for (let i = 0; i < ticks; i++) sim.tick();
  const xs = nodes.map((n) => n.x || 0);
  const ys = nodes.map((n) => n.y || 0);
  const box = nodes.length
    ? [Math.min(...xs) - 30, Math.min(...ys) - 30, Math.max(...xs) - Math.min(...xs) + 60, Math.max(...ys) - Math.min(...ys) + 60]
    : [0, 0, W, H];
  return { nodes, links, box };
}

function parseQ(s: string | null): FlowQ {
  if (!s) return {};
  try {
    const v = JSON.parse(s);
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}

export function FlowPage(props: { route: Route }) {
  const fq = parseQ(props.route.params.get("q"));
  const qs = JSON.stringify(fq);
  const detail = props.route.params.get("detail") || "";
  const [nodesT, setNodesT] = useState((fq.nodes || []).join("\n"));
  const [edgesT, setEdgesT] = useState((fq.edges || []).join("\n"));
  const [mode, setMode] = useState(fq.mode || "default");
  const [after, setAfter] = useState(fq.after || "");
  const [before, setBefore] = useState(fq.before || "");
  const [limit, setLimit] = useState(String(fq.limit ?? 1000));
  const [skip, setSkip] = useState(String(fq.skip ?? 0));
  const [graph, setGraph] = useState<Graph | null>(null);
  const [counts, setCounts] = useState<{ clients: number; servers: number; flows: number } | null>(null);
  const [err, setErr] = useState("");
  useEffect(() => {
    let live = true;
    setErr("");
    setGraph(null);
    const base = { ...fq, limit: fq.limit ?? 1000 };
    getJson<Graph>("/flows", { q: JSON.stringify(base) })
      .then((g) => live && setGraph(g))
      .catch((e) => live && (setGraph({ nodes: [], edges: [] }), setErr(errMsg(e))));
    getJson<{ clients: number; servers: number; flows: number }>("/flows", { q: JSON.stringify({ ...base, count: true }) })
      .then((c) => live && setCounts(c))
      .catch(() => live && setCounts(null));
    return () => {
      live = false;
    };
  }, [qs]);
  const W = 900;
  const H = 600;
  const lay = useMemo(() => (graph ? layout(graph, W, H) : null), [graph]);
  const submit = (e: Event) => {
    e.preventDefault();
    const lines = (t: string) =>
      t
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    const q: FlowQ = {};
    if (lines(nodesT).length) q.nodes = lines(nodesT);
    if (lines(edgesT).length) q.edges = lines(edgesT);
    if (mode !== "default") q.mode = mode;
    if (after.trim()) q.after = after.trim();
    if (before.trim()) q.before = before.trim();
    const l = parseInt(limit, 10);
    if (l >= 0 && l !== 1000) q.limit = l;
    const s = parseInt(skip, 10);
    if (s > 0) q.skip = s;
    navigate("flow", { q: Object.keys(q).length ? JSON.stringify(q) : undefined });
  };
  const setDetail = (d: string | undefined) => navigate("flow", { q: props.route.params.get("q") || undefined, detail: d }, true);
  const maxB = Math.max(1, ...(lay?.nodes || []).map((n) => n.bytes));
  // Sizes relative to the drawing, so that they read the same at any scale.
  const unit = lay ? Math.max(lay.box[2], lay.box[3]) / 300 : 1;
  const [dtype, did] = detail.includes(":") ? [detail.slice(0, detail.indexOf(":")), detail.slice(detail.indexOf(":") + 1)] : ["", ""];
  return (
    <div class="layout">
      <aside class="facets flowform">
        <form onSubmit={submit}>
          <label>
            Node filters (one clause per line)
            <textarea id="flow-nodes" rows={3} value={nodesT} placeholder="addr = 10.0.0.1" onInput={(e) => setNodesT((e.target as HTMLTextAreaElement).value)} />
          </label>
          <label>
            Edge filters
            <textarea id="flow-edges" rows={3} value={edgesT} placeholder="proto = udp&#10;dport = 53" onInput={(e) => setEdgesT((e.target as HTMLTextAreaElement).value)} />
          </label>
          <label>
            Mode
            <select value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value)}>
              <option value="default">flows</option>
              <option value="flow_map">flow map</option>
              <option value="talk_map">talk map</option>
            </select>
          </label>
          <label>
            After <input value={after} placeholder="YYYY-MM-DD HH:MM" onInput={(e) => setAfter((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Before <input value={before} placeholder="YYYY-MM-DD HH:MM" onInput={(e) => setBefore((e.target as HTMLInputElement).value)} />
          </label>
          <div class="row">
            <label>
              Limit <input size={5} value={limit} onInput={(e) => setLimit((e.target as HTMLInputElement).value)} />
            </label>
            <label>
              Skip <input size={5} value={skip} onInput={(e) => setSkip((e.target as HTMLInputElement).value)} />
            </label>
          </div>
          <button type="submit">Apply</button>
        </form>
      </aside>
      <main class="main">
        <p class="counts" id="flow-counts">
          {counts ? (
            <>
              <b>{counts.clients}</b> clients · <b>{counts.servers}</b> servers · <b>{counts.flows}</b> flows
              {graph ? ` (showing ${graph.nodes.length} nodes, ${graph.edges.length} edges)` : ""}
            </>
          ) : (
            "…"
          )}
        </p>
        {err && (
          <p class="error" role="alert">
            {err}
          </p>
        )}
        {!lay && <p class="muted">loading…</p>}
        {lay && (
          <svg id="flowgraph" class="flowgraph" viewBox={lay.box.join(" ")} role="img" aria-label="flow graph">
            <g class="edges">
              {lay.links.map((l) => {
                const s = l.source as SNode;
                const t = l.target as SNode;
                return (
                  <line
                    key={l.e.id}
                    class={`edge ${detail === `edge:${l.e.id}` ? "sel" : ""}`}
                    x1={s.x}
                    y1={s.y}
                    x2={t.x}
                    y2={t.y}
                    stroke-width={(unit * (0.3 + Math.log10(1 + l.bytes) / 3)) / 2}
                    onClick={() => setDetail(`edge:${l.e.id}`)}
                  >
                    <title>{`${l.e.label} ${s.id} → ${t.id}`}</title>
                  </line>
                );
              })}
            </g>
            <g class="nodes">
              {lay.nodes.map((n) => (
                <circle
                  key={n.id}
                  class={`node ${n.inbound ? "server" : ""} ${detail === `node:${n.id}` ? "sel" : ""}`}
                  cx={n.x}
                  cy={n.y}
                  r={unit * (1.5 + 4 * Math.sqrt(n.bytes / maxB))}
                  tabIndex={0}
                  data-addr={n.id}
                  onClick={() => setDetail(`node:${n.id}`)}
                  onKeyDown={(e) => e.key === "Enter" && setDetail(`node:${n.id}`)}
                >
                  <title>{n.id}</title>
                </circle>
              ))}
            </g>
            {lay.nodes.length <= 150 && (
              <g class="labels">
                {lay.nodes.map((n) => (
                  <text key={n.id} class="label" x={(n.x || 0) + unit * 3} y={(n.y || 0) + unit} font-size={unit * 3.2}>
                    {n.id}
                  </text>
                ))}
              </g>
            )}
          </svg>
        )}
      </main>
      {dtype && graph && (
        <aside class="hostpanel" role="dialog" aria-label="flow details">
          <header>
            <h2>{dtype === "node" ? did : graph.edges.find((e) => e.id === did)?.label || did}</h2>
            <button onClick={() => setDetail(undefined)} aria-label="close">
              ✕
            </button>
          </header>
          {dtype === "node" ? <NodeDetail g={graph} id={did} /> : <EdgeDetail e={graph.edges.find((e) => e.id === did)} />}
        </aside>
      )}
    </div>
  );
}

function NodeDetail(props: { g: Graph; id: string }) {
  const n = props.g.nodes.find((x) => x.id === props.id);
  const out = props.g.edges.filter((e) => e.source === props.id);
  const inn = props.g.edges.filter((e) => e.target === props.id);
  const uniq = (a: string[]) => [...new Set(a)];
  return (
    <div class="body">
      <dl>
        <dt>First seen</dt>
        <dd>{n?.data.firstseen}</dd>
        <dt>Last seen</dt>
        <dd>{n?.data.lastseen}</dd>
      </dl>
      <h3>Incoming flows</h3>
      <p>{uniq(inn.map((e) => e.label)).join(", ") || "none"}</p>
      <h3>Outgoing flows</h3>
      <p>{uniq(out.map((e) => e.label)).join(", ") || "none"}</p>
      <h3>Clients</h3>
      <p class="mono">{uniq(inn.map((e) => e.source)).join(", ") || "none"}</p>
      <h3>Servers</h3>
      <p class="mono">{uniq(out.map((e) => e.target)).join(", ") || "none"}</p>
    </div>
  );
}

function EdgeDetail(props: { e?: FEdge }) {
  if (!props.e) return <p class="muted">not in this graph</p>;
  const d = props.e.data;
  return (
    <div class="body">
      <p class="mono">
        {props.e.source} → {props.e.target}
      </p>
      <dl>
        {Object.entries(d)
          .filter(([k]) => k !== "__key__")
          .map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd class="mono">{k.endsWith("bytes") ? fmtBytes(Number(v)) : typeof v === "object" ? JSON.stringify(v) : String(v)}</dd>
            </>
          ))}
      </dl>
    </div>
  );
}
