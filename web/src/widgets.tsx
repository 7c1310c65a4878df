// Shared components: filter bar, facets, top-values chart, timeline, pager.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { ComponentChild } from "preact";
import { complete, facetToken, labelText, tokenize } from "./query";
import { getTop, TopItem } from "./api";
import { errMsg, fmtTime } from "./util";

export function FilterBar(props: { q: string; onChange: (q: string) => void; error?: string }) {
  const tokens = tokenize(props.q);
  const [text, setText] = useState("");
  const [sel, setSel] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const last = text.split(/\s+/).pop() || "";
  const sugg = complete(last);
  useEffect(() => {
    const f = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName)) {
        e.preventDefault();
        input.current?.focus();
      }
    };
    window.addEventListener("keydown", f);
    return () => window.removeEventListener("keydown", f);
  }, []);
  const add = (t: string) => {
    const nt = tokenize(t);
    if (!nt.length) return;
    props.onChange([...tokens, ...nt].join(" "));
    setText("");
  };
  const remove = (i: number) => props.onChange(tokens.filter((_, j) => j !== i).join(" "));
  const accept = (k: string) => {
    const parts = text.split(/\s+/);
    parts[parts.length - 1] = k;
    setText(parts.join(" "));
    setSel(0);
    input.current?.focus();
  };
  return (
    <div class="filterbar" role="search">
      <div class="chips" aria-label="active filters">
        {tokens.map((t, i) => (
          <span class="chip" key={t + i} data-token={t}>
            {t}
            <button class="x" aria-label={`remove filter ${t}`} title="remove" onClick={() => remove(i)}>
              ×
            </button>
          </span>
        ))}
        <input
          ref={input}
          id="filter-input"
          aria-label="add a filter (q= language), Enter to add"
          placeholder={tokens.length ? "add a filter…" : "filter: e.g. tcp/443 service:http tag:TOR  (/ to focus)"}
          value={text}
          autocomplete="off"
          onInput={(e) => {
            setText((e.target as HTMLInputElement).value);
            setSel(0);
          }}
          onKeyDown={(e) => {
            if (e.key === "Tab" && sugg.length) {
              e.preventDefault();
              accept(sugg[sel]);
            } else if (e.key === "ArrowDown" && sugg.length) {
              e.preventDefault();
              setSel((sel + 1) % sugg.length);
            } else if (e.key === "ArrowUp" && sugg.length) {
              e.preventDefault();
              setSel((sel + sugg.length - 1) % sugg.length);
            } else if (e.key === "Enter") {
              e.preventDefault();
              add(text);
            } else if (e.key === "Backspace" && !text && tokens.length) {
              remove(tokens.length - 1);
            }
          }}
        />
        {tokens.length > 0 && (
          <button class="link" onClick={() => props.onChange("")}>
            clear
          </button>
        )}
      </div>
      {sugg.length > 0 && (
        <ul class="suggest" role="listbox" aria-label="keyword completions">
          {sugg.map((k, i) => (
            <li key={k} role="option" aria-selected={i === sel} class={i === sel ? "sel" : ""}>
              <button tabIndex={-1} onMouseDown={(e) => (e.preventDefault(), accept(k))}>
                {k}
              </button>
            </li>
          ))}
        </ul>
      )}
      {props.error && (
        <div class="error" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}

/** A facet: the top values of one field; a click adds a filter. */
export function Facet(props: {
  purpose: string;
  field: string;
  title: string;
  q: string;
  onAdd: (t: string) => void;
  /** False while the page's main results load (sequential loading). */
  enabled?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<TopItem[] | null>(null);
  const [err, setErr] = useState("");
  const tokens = tokenize(props.q);
  useEffect(() => {
    if (props.enabled === false) return;
    let live = true;
    setErr("");
    getTop(props.purpose, props.field, props.q, open ? 50 : 5)
      .then((r) => live && setItems(r))
      .catch((e) => live && (setItems([]), setErr(errMsg(e))));
    return () => {
      live = false;
    };
  }, [props.purpose, props.field, props.q, open, props.enabled]);
  const max = Math.max(1, ...(items || []).map((i) => i.value));
  return (
    <section class="facet" data-field={props.field}>
      <h3>{props.title}</h3>
      {err && <p class="muted small">{err}</p>}
      {items === null && <p class="muted small">…</p>}
      <ul>
        {(items || []).map((it) => {
          const tok = facetToken(props.field, it.label);
          const active = tok !== null && tokens.includes(tok);
          return (
            <li key={JSON.stringify(it.label)} class={active ? "active" : ""}>
              <button
                class="facet-row"
                disabled={!tok || active}
                title={tok ? `add ${tok}` : undefined}
                data-token={tok || undefined}
                onClick={() => tok && props.onAdd(tok)}
              >
                <span class="bar" style={{ width: `${(100 * it.value) / max}%` }} />
                <span class="lbl">{labelText(it.label)}</span>
                <span class="num">{it.value}</span>
              </button>
            </li>
          );
        })}
      </ul>
      {items && (items.length >= 5 || open) && (
        <button class="link small" onClick={() => setOpen(!open)}>
          {open ? "fewer" : "more"}
        </button>
      )}
    </section>
  );
}

/** A horizontal bar chart of the top values of any field (clickable bars). */
export function TopChart(props: { purpose: string; q: string; onAdd: (t: string) => void; initial?: string; enabled?: boolean }) {
  const [field, setField] = useState(props.initial || "port:open");
  const [input, setInput] = useState(field);
  const [items, setItems] = useState<TopItem[]>([]);
  const [err, setErr] = useState("");
  useEffect(() => {
    if (props.enabled === false) return;
    let live = true;
    setErr("");
    getTop(props.purpose, field, props.q, 15)
      .then((r) => live && setItems(r))
      .catch((e) => live && (setItems([]), setErr(errMsg(e))));
    return () => {
      live = false;
    };
  }, [props.purpose, field, props.q, props.enabled]);
  const max = Math.max(1, ...items.map((i) => i.value));
  const rowH = 20;
  const W = 560;
  const labW = 200;
  return (
    <section class="panel chart">
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          setField(input.trim() || "port:open");
        }}
      >
        <label>
          Top values of{" "}
          <input
            aria-label="field for the top-values chart"
            value={input}
            list="top-fields"
            onInput={(e) => setInput((e.target as HTMLInputElement).value)}
          />
        </label>
        <datalist id="top-fields">
          {["port:open", "service", "product", "country", "as", "tag", "category", "source", "domains", "version", "script", "cpe", "devicetype", "city", "recontype", "sensor"].map(
            (f) => (
              <option key={f} value={f} />
            ),
          )}
        </datalist>
        <button type="submit">Show</button>
      </form>
      {err && <p class="error">{err}</p>}
      <svg class="topchart" width="100%" viewBox={`0 0 ${W} ${Math.max(1, items.length) * rowH + 4}`} role="img" aria-label={`top values of ${field}`}>
        {items.map((it, i) => {
          const tok = facetToken(field, it.label);
          const w = ((W - labW - 50) * it.value) / max;
          return (
            <g
              key={i}
              class={tok ? "bar clickable" : "bar"}
              transform={`translate(0,${i * rowH + 2})`}
              onClick={() => tok && props.onAdd(tok)}
              tabIndex={tok ? 0 : undefined}
              onKeyDown={(e) => tok && e.key === "Enter" && props.onAdd(tok)}
              data-token={tok || undefined}
            >
              <title>{`${labelText(it.label)}: ${it.value}`}</title>
              <text x={labW - 6} y={rowH / 2 + 4} text-anchor="end">
                {labelText(it.label).slice(0, 30)}
              </text>
              <rect x={labW} y={2} height={rowH - 5} width={Math.max(1, w)} rx={2} />
              <text x={labW + w + 4} y={rowH / 2 + 4} class="num">
                {it.value}
              </text>
            </g>
          );
        })}
      </svg>
    </section>
  );
}

/** Points in time: [t, label, size]. */
export function Timeline(props: { points: [number, string, number][]; title?: string; onPick?: (label: string) => void }) {
  // A zero time is a missing one (it would stretch the axis to 1970).
  const pts = props.points.filter((p) => typeof p[0] === "number" && p[0] > 0);
  if (!pts.length) return <section class="panel timeline"><h3>{props.title || "Timeline"}</h3><p class="muted">nothing to show</p></section>;
  const W = 560;
  const H = 120;
  const t0 = Math.min(...pts.map((p) => p[0]));
  const t1 = Math.max(...pts.map((p) => p[0]));
  const maxS = Math.max(1, ...pts.map((p) => p[2]));
  const x = (t: number) => 30 + ((W - 40) * (t - t0)) / Math.max(1, t1 - t0);
  const y = (s: number) => H - 20 - ((H - 30) * s) / maxS;
  return (
    <section class="panel timeline">
      <h3>{props.title || "Timeline"}</h3>
      <svg width="100%" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="timeline">
        <line x1={30} x2={W - 10} y1={H - 20} y2={H - 20} class="axis" />
        {pts.slice(0, 5000).map((p, i) => (
          <circle
            key={i}
            cx={x(p[0])}
            cy={y(p[2])}
            r={3}
            class="dot"
            tabIndex={props.onPick && i < 200 ? 0 : undefined}
            onClick={() => props.onPick?.(p[1])}
            onKeyDown={(e) => e.key === "Enter" && props.onPick?.(p[1])}
          >
            <title>{`${fmtTime(p[0])} ${p[1]} (${p[2]})`}</title>
          </circle>
        ))}
        <text x={30} y={H - 4} class="small">
          {fmtTime(t0).slice(0, 10)}
        </text>
        <text x={W - 10} y={H - 4} text-anchor="end" class="small">
          {fmtTime(t1).slice(0, 10)}
        </text>
      </svg>
    </section>
  );
}

export function Pager(props: { skip: number; limit: number; count: number | null; onSkip: (s: number) => void }) {
  const { skip, limit, count } = props;
  const last = count ? Math.max(0, Math.floor((count - 1) / limit) * limit) : 0;
  const end = count === null ? skip + limit : Math.min(count, skip + limit);
  return (
    <nav class="pager" aria-label="pages">
      <button disabled={skip === 0} onClick={() => props.onSkip(0)} aria-label="first page">
        «
      </button>
      <button disabled={skip === 0} onClick={() => props.onSkip(Math.max(0, skip - limit))} aria-label="previous page">
        ‹
      </button>
      <span class="showing">
        {count === null ? "…" : count === 0 ? "No result" : <>Showing {skip + 1} to {end} of <b id="total-count">{count}</b></>}
      </span>
      <button disabled={count === null || skip + limit >= count} onClick={() => props.onSkip(skip + limit)} aria-label="next page">
        ›
      </button>
      <button disabled={count === null || skip >= last} onClick={() => props.onSkip(last)} aria-label="last page">
        »
      </button>
    </nav>
  );
}

/**
 * A list that renders only the items near the window's viewport (plus a
 * margin), between two spacers that stand for the others, so that a page
 * of 10,000 records costs the DOM of a few dozen. Heights are measured as
 * items are shown (an estimate stands for the others). Lists up to
 * `threshold` items render whole.
 */
export function VirtualList<T>(props: {
  items: T[];
  render: (item: T, i: number) => ComponentChild;
  itemKey: (item: T, i: number) => string | number;
  estimate?: number;
  threshold?: number;
  gap?: number;
}) {
  const { items } = props;
  const est = props.estimate ?? 110;
  const gap = props.gap ?? 8;
  const threshold = props.threshold ?? 200;
  const ref = useRef<HTMLDivElement>(null);
  const heights = useRef<Map<string | number, number>>(new Map());
  const [range, setRange] = useState<[number, number]>([0, Math.min(items.length, 30)]);
  const [tick, setTick] = useState(0);
  const virtual = items.length > threshold;
  // Offsets of each item's top (prefix sums), and the total height.
  const offsets = new Float64Array(items.length + 1);
  if (virtual) {
    for (let i = 0; i < items.length; i++) {
      const h = heights.current.get(props.itemKey(items[i], i)) ?? est;
      offsets[i + 1] = offsets[i] + h + gap;
    }
  }
  const find = (y: number) => {
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  useEffect(() => {
    if (!virtual) return;
    let frame = 0;
    const update = () => {
      frame = 0;
      const el = ref.current;
      if (!el) return;
      const top = el.getBoundingClientRect().top;
      const margin = innerHeight;
      const a = Math.max(0, find(-top - margin));
      const b = Math.min(items.length, find(-top + innerHeight + margin) + 1);
      setRange((r) => (r[0] === a && r[1] === b ? r : [a, b]));
    };
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    update();
    addEventListener("scroll", onScroll, { passive: true });
    addEventListener("resize", onScroll);
    return () => {
      removeEventListener("scroll", onScroll);
      removeEventListener("resize", onScroll);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [items, virtual, tick]);
  // Measure what was rendered; re-lay out when an estimate was wrong.
  useLayoutEffect(() => {
    if (!virtual || !ref.current) return;
    let changed = false;
    for (const el of ref.current.querySelectorAll<HTMLElement>(":scope > [data-vi]")) {
      const i = Number(el.dataset.vi);
      if (i >= items.length) continue;
      const k = props.itemKey(items[i], i);
      const h = el.offsetHeight;
      if (heights.current.get(k) !== h) {
        heights.current.set(k, h);
        changed = true;
      }
    }
    if (changed) setTick((t) => t + 1);
  });
  if (!virtual) return <>{items.map((it, i) => props.render(it, i))}</>;
  const [a, b] = [Math.min(range[0], items.length), Math.min(range[1], items.length)];
  return (
    <div ref={ref} class="vlist" data-total={items.length} style={{ display: "flex", flexDirection: "column", gap: `${gap}px` }}>
      <div class="vspacer" style={{ height: `${Math.max(0, offsets[a] - gap)}px` }} aria-hidden="true" />
      {items.slice(a, b).map((it, j) => (
        <div key={props.itemKey(it, a + j)} data-vi={a + j}>
          {props.render(it, a + j)}
        </div>
      ))}
      <div class="vspacer" style={{ height: `${Math.max(0, offsets[items.length] - offsets[b] - gap)}px` }} aria-hidden="true" />
    </div>
  );
}
