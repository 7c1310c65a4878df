//! The query API of the flow purpose (spec 1.9): count, list (a stream),
//! graph (`{nodes, edges}` in the default, `flow_map` and `talk_map`
//! modes), top values, host details, flow details, time-of-day counts,
//! slot precisions and their reduction, purge. `ivre-flowcli` and the web
//! route `/cgi/flows` are thin layers over these functions.
//!
//! Every query reads the view `flow_total` (alias `f`): each flow's
//! totals from `flow_key`, its sets (ports, codes, slots, metadata)
//! united over its rows of `flow` only when the query reads them. A [`FlowQuery`] is a filter (spec 1.8) plus the time
//! window of `--after` / `--before` / `--precision`, which keeps the flows
//! having one slot in the window.

use super::filter::compile;
use crate::sql::SqlBuilder;
use crate::{Error, Result};
use chrono::{DateTime, NaiveTime, Timelike, Utc};
use ivre_model::filter::Filter;
use ivre_model::flow::{FlowFilter, SlotWindow};
use postgres::{Client, GenericClient, Row};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Which flows: a filter and a time window over their slots.
#[derive(Debug, Clone)]
pub struct FlowQuery {
    pub filter: FlowFilter,
    pub window: SlotWindow,
}

impl Default for FlowQuery {
    fn default() -> Self {
        FlowQuery::new(Filter::True)
    }
}

impl FlowQuery {
    pub fn new(filter: FlowFilter) -> FlowQuery {
        FlowQuery {
            filter,
            window: SlotWindow::default(),
        }
    }

    /// The same flows with another window.
    fn with_window(&self, window: SlotWindow) -> FlowQuery {
        FlowQuery {
            filter: self.filter.clone(),
            window,
        }
    }

    /// The conditions on a slot `t` (a `tstzrange`) of the window.
    fn slot_conditions(&self, b: &mut SqlBuilder, t: &str) -> Vec<String> {
        let mut c = vec!["true".to_string()];
        if let Some(after) = self.window.after {
            c.push(format!("lower({t}) >= {}", b.param(after, "timestamptz")));
        }
        if let Some(before) = self.window.before {
            c.push(format!("lower({t}) < {}", b.param(before, "timestamptz")));
        }
        if let Some(p) = self.window.precision {
            c.push(format!(
                "upper({t}) - lower({t}) = make_interval(secs => {})",
                b.param(f64::from(p), "float8")
            ));
        }
        c
    }

    /// The boolean SQL of the query on `flow_total f`.
    pub fn condition(&self, b: &mut SqlBuilder) -> Result<String> {
        let mut cond = compile(b, &self.filter);
        if !self.window.is_unbounded() {
            let t = b.fresh("w");
            let slot = self.slot_conditions(b, &format!("{t}.t"));
            cond = format!(
                "({cond}) AND EXISTS (SELECT 1 FROM unnest(f.times) {t}(t) WHERE {})",
                slot.join(" AND ")
            );
        }
        Ok(cond)
    }
}

/// `--count`: distinct clients, distinct servers, flows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlowCount {
    pub clients: i64,
    pub servers: i64,
    pub flows: i64,
}

/// Counts the flows of `q` and their distinct clients and servers (a host
/// with both roles counts in both).
pub fn count(client: &mut impl GenericClient, q: &FlowQuery) -> Result<FlowCount> {
    let mut b = SqlBuilder::new();
    let cond = q.condition(&mut b)?;
    let sql = format!(
        "SELECT count(DISTINCT f.src), count(DISTINCT f.dst), count(*) FROM flow_total f WHERE {cond}"
    );
    let row = client
        .query_one(sql.as_str(), &b.refs())
        .map_err(Error::from_query)?;
    Ok(FlowCount {
        clients: row.get(0),
        servers: row.get(1),
        flows: row.get(2),
    })
}

/// A flow as read back: its id, key and merged observations.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFlow {
    pub id: i64,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: String,
    pub dport: Option<i32>,
    pub icmp_type: Option<i32>,
    /// `None` when only protocol logs touched the flow.
    pub count: Option<i64>,
    pub cspkts: i64,
    pub scpkts: i64,
    pub csbytes: i64,
    pub scbytes: i64,
    pub firstseen: DateTime<Utc>,
    pub lastseen: DateTime<Utc>,
    pub sports: Vec<i32>,
    pub codes: Vec<i32>,
    /// `(start, duration in seconds)`, sorted.
    pub times: Vec<(DateTime<Utc>, i64)>,
    pub meta: Option<Value>,
}

/// The columns of a flow but its sets (those of `flow_key`).
const KEY_COLUMNS: &str = "f.id, f.src, f.dst, f.proto, f.dport, f.type, f.count, f.cspkts, \
     f.scpkts, f.csbytes, f.scbytes, f.firstseen, f.lastseen";

impl StoredFlow {
    /// A flow read with [`KEY_COLUMNS`]: its sets empty until
    /// [`fill_sets`].
    fn from_key_row(row: &Row) -> StoredFlow {
        StoredFlow {
            id: row.get(0),
            src: row.get(1),
            dst: row.get(2),
            proto: row.get(3),
            dport: row.get(4),
            icmp_type: row.get(5),
            count: row.get(6),
            cspkts: row.get(7),
            scpkts: row.get(8),
            csbytes: row.get(9),
            scbytes: row.get(10),
            firstseen: row.get(11),
            lastseen: row.get(12),
            sports: Vec::new(),
            codes: Vec::new(),
            times: Vec::new(),
            meta: None,
        }
    }

    /// `tcp/80`, `icmp/8`, or the bare protocol: the flow's label.
    pub fn name(&self) -> String {
        match (self.dport, self.icmp_type) {
            (Some(p), _) => format!("{}/{p}", self.proto),
            (_, Some(t)) => format!("{}/{t}", self.proto),
            _ => self.proto.clone(),
        }
    }

    /// Whether the protocol keys flows by port (the `sports`/`dport` pair
    /// is shown) or by ICMP type (`codes`/`type`).
    fn ported(&self) -> bool {
        matches!(self.proto.as_str(), "tcp" | "udp")
    }

    /// The `data` of a default graph edge (spec 1.9); with `timeline`,
    /// `meta.times` lists the slots (those of `q`'s window).
    pub fn edge_data(&self, timeline: Option<&FlowQuery>) -> Value {
        let mut d = Map::new();
        d.insert("cspkts".into(), json!(self.cspkts));
        d.insert("csbytes".into(), json!(self.csbytes));
        d.insert("count".into(), json!(self.count));
        d.insert("scpkts".into(), json!(self.scpkts));
        d.insert("scbytes".into(), json!(self.scbytes));
        d.insert("proto".into(), json!(self.proto));
        d.insert("firstseen".into(), json!(py_time(&self.firstseen)));
        d.insert("lastseen".into(), json!(py_time(&self.lastseen)));
        d.insert("__key__".into(), json!(self.id.to_string()));
        d.insert("addr_src".into(), json!(self.src.to_string()));
        d.insert("addr_dst".into(), json!(self.dst.to_string()));
        if self.ported() {
            d.insert("sports".into(), json!(self.sports));
            d.insert("dport".into(), json!(self.dport));
        } else if self.icmp_type.is_some() {
            d.insert("codes".into(), json!(self.codes));
            d.insert("type".into(), json!(self.icmp_type));
        }
        if let Some(q) = timeline {
            let times: Vec<Value> = self
                .times
                .iter()
                .filter(|(start, duration)| slot_in_window(q, start, *duration))
                .map(|(start, duration)| json!({"start": py_time(start), "duration": duration}))
                .collect();
            d.insert("meta".into(), json!({ "times": times }));
        }
        Value::Object(d)
    }
}

fn slot_in_window(q: &FlowQuery, start: &DateTime<Utc>, duration: i64) -> bool {
    let w = &q.window;
    w.after.is_none_or(|a| *start >= a)
        && w.before.is_none_or(|b| *start < b)
        && w.precision.is_none_or(|p| i64::from(p) == duration)
}

/// A time as Python's `str()` writes a datetime (what IVRE's outputs
/// show): `YYYY-MM-DD HH:MM:SS[.ffffff]`, in UTC.
pub fn py_time(t: &DateTime<Utc>) -> String {
    if t.nanosecond() / 1000 == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}

/// How a listing is sorted (`--orderby`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderBy {
    /// Storage order (flow id).
    #[default]
    Id,
    Src,
    Dst,
    /// Destination port, then protocol.
    Flow,
}

impl OrderBy {
    /// IVRE's names: `src`, `dst`, `flow`; anything else is an error.
    pub fn parse(name: &str) -> Result<OrderBy> {
        match name {
            "src" => Ok(OrderBy::Src),
            "dst" => Ok(OrderBy::Dst),
            "flow" => Ok(OrderBy::Flow),
            other => Err(Error::BadFilter(format!(
                "unknown sort order {other:?} (src, dst or flow)"
            ))),
        }
    }

    fn sql(self) -> &'static str {
        match self {
            OrderBy::Id => "f.id",
            OrderBy::Src => "f.src, f.id",
            OrderBy::Dst => "f.dst, f.id",
            OrderBy::Flow => "f.dport, f.proto, f.id",
        }
    }
}

/// Pagination and order of a listing.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListOpts {
    pub skip: u64,
    /// 0: no limit.
    pub limit: u64,
    pub orderby: OrderBy,
}

/// Streams the flows of `q` to `each`, page by page: the flows of a page
/// (their keys and totals, from `flow_key`) as the server sends them, then
/// their sets read from their rows of `flow` in one query per page and
/// united here (see [`fill_sets`]).
pub fn list<E: From<Error>>(
    client: &mut Client,
    q: &FlowQuery,
    opts: &ListOpts,
    mut each: impl FnMut(StoredFlow) -> Result<(), E>,
) -> Result<u64, E> {
    let mut b = SqlBuilder::new();
    let cond = q.condition(&mut b)?;
    let mut sql = format!(
        "SELECT {KEY_COLUMNS} FROM flow_total f WHERE {cond} ORDER BY {}",
        opts.orderby.sql()
    );
    if opts.limit > 0 {
        sql += &format!(" LIMIT {}", b.param(big(opts.limit), "int8"));
    }
    if opts.skip > 0 {
        sql += &format!(" OFFSET {}", b.param(big(opts.skip), "int8"));
    }
    let mut tx = client.transaction().map_err(Error::from)?;
    let statement = tx.prepare(&sql).map_err(Error::from_query)?;
    let portal = tx.bind(&statement, &b.refs()).map_err(Error::from_query)?;
    let mut n = 0;
    loop {
        let rows = tx.query_portal(&portal, PAGE).map_err(Error::from_query)?;
        let mut page: Vec<StoredFlow> = rows.iter().map(StoredFlow::from_key_row).collect();
        fill_sets(&mut tx, &mut page)?;
        for f in page {
            each(f)?;
            n += 1;
        }
        if rows.len() < PAGE as usize {
            break;
        }
    }
    tx.commit().map_err(Error::from)?;
    Ok(n)
}

/// Flows per page of a listing.
const PAGE: i32 = 1000;

/// Reads the sets of `flows` (read by [`StoredFlow::from_key_row`]) from
/// their rows of `flow`, all in one query, and unites them here (sorted,
/// without duplicates, as `flow_total` does): each flow's rows are read
/// once, instead of once per set column of the view and per partition.
/// The metadata of flows with more than one row holding some is merged
/// by the database (`flow_meta_set`, whose order of values is the
/// database's).
pub fn fill_sets(client: &mut impl GenericClient, flows: &mut [StoredFlow]) -> Result<()> {
    if flows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = flows.iter().map(|f| f.id).collect();
    let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let rows = client.query(
        "SELECT f.key_id, f.sports, f.codes,
             ARRAY(SELECT lower(t) FROM unnest(f.times) t),
             ARRAY(SELECT extract(epoch FROM upper(t) - lower(t))::int8 FROM unnest(f.times) t),
             f.meta
         FROM flow f WHERE f.key_id = ANY($1)",
        &[&ids],
    )?;
    let mut rows_of = vec![0u32; flows.len()];
    let mut metas = vec![0u32; flows.len()];
    for row in &rows {
        let Some(&i) = index.get(&row.get::<_, i64>(0)) else {
            continue;
        };
        let f = &mut flows[i];
        rows_of[i] += 1;
        if let Some(sports) = row.get::<_, Option<Vec<i32>>>(1) {
            f.sports.extend(sports);
        }
        if let Some(codes) = row.get::<_, Option<Vec<i32>>>(2) {
            f.codes.extend(codes);
        }
        let starts: Vec<DateTime<Utc>> = row.get(3);
        let durations: Vec<i64> = row.get(4);
        f.times.extend(starts.into_iter().zip(durations));
        if let Some(meta) = row.get::<_, Option<Value>>(5) {
            metas[i] += 1;
            f.meta = Some(meta);
        }
    }
    let mut merge_meta = Vec::new();
    for (i, f) in flows.iter_mut().enumerate() {
        if rows_of[i] > 1 {
            f.sports.sort_unstable();
            f.sports.dedup();
            f.codes.sort_unstable();
            f.codes.dedup();
            f.times.sort_unstable();
            f.times.dedup();
        }
        if metas[i] > 1 {
            merge_meta.push(f.id);
        }
    }
    if !merge_meta.is_empty() {
        for row in client.query(
            "SELECT f.key_id, flow_meta_set(f.meta)
             FROM flow f WHERE f.key_id = ANY($1) AND f.meta IS NOT NULL GROUP BY 1",
            &[&merge_meta],
        )? {
            if let Some(&i) = index.get(&row.get::<_, i64>(0)) {
                flows[i].meta = row.get(1);
            }
        }
    }
    Ok(())
}

fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The flow of an id, or `None`.
pub fn get(client: &mut impl GenericClient, id: i64) -> Result<Option<StoredFlow>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM flow_total f WHERE f.id = $1");
    let Some(row) = client.query_opt(sql.as_str(), &[&id])? else {
        return Ok(None);
    };
    let mut flows = [StoredFlow::from_key_row(&row)];
    fill_sets(client, &mut flows)?;
    let [flow] = flows;
    Ok(Some(flow))
}

/// How flows become graph edges (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphMode {
    /// One edge per flow.
    #[default]
    Default,
    /// One edge per (client, server): the distinct `[proto, dport]`.
    FlowMap,
    /// One edge per (client, server), labelled `TALK`.
    TalkMap,
}

impl GraphMode {
    pub fn parse(name: &str) -> Result<GraphMode> {
        match name {
            "default" => Ok(GraphMode::Default),
            "flow_map" => Ok(GraphMode::FlowMap),
            "talk_map" => Ok(GraphMode::TalkMap),
            other => Err(Error::BadFilter(format!(
                "unknown graph mode {other:?} (default, flow_map or talk_map)"
            ))),
        }
    }
}

/// The `{nodes, edges}` graph of the flows of `q` (spec 1.9): `opts`
/// limits the flows before edges are merged; `timeline` adds each edge's
/// slots (default mode).
pub fn graph(
    client: &mut Client,
    q: &FlowQuery,
    opts: &ListOpts,
    mode: GraphMode,
    timeline: bool,
) -> Result<Value> {
    let mut g = GraphBuilder::new(mode, timeline.then_some(q));
    list::<Error>(client, q, opts, |f| {
        g.add(&f);
        Ok(())
    })?;
    Ok(g.finish())
}

/// Builds a graph flow by flow (for callers that also stream the flows).
pub struct GraphBuilder<'q> {
    mode: GraphMode,
    timeline: Option<&'q FlowQuery>,
    nodes: Vec<(IpAddr, DateTime<Utc>, DateTime<Utc>)>,
    node_index: HashMap<IpAddr, usize>,
    edges: Vec<Value>,
    /// Merged edges (flow_map, talk_map): their index by (src, dst).
    pairs: HashMap<(IpAddr, IpAddr), usize>,
}

impl<'q> GraphBuilder<'q> {
    pub fn new(mode: GraphMode, timeline: Option<&'q FlowQuery>) -> GraphBuilder<'q> {
        GraphBuilder {
            mode,
            timeline,
            nodes: Vec::new(),
            node_index: HashMap::new(),
            edges: Vec::new(),
            pairs: HashMap::new(),
        }
    }

    fn node(&mut self, addr: IpAddr, first: DateTime<Utc>, last: DateTime<Utc>) {
        match self.node_index.get(&addr) {
            Some(&i) => {
                let n = &mut self.nodes[i];
                n.1 = n.1.min(first);
                n.2 = n.2.max(last);
            }
            None => {
                self.node_index.insert(addr, self.nodes.len());
                self.nodes.push((addr, first, last));
            }
        }
    }

    /// The edge a flow gives in this mode (a merged edge as it stands
    /// after this flow).
    pub fn add(&mut self, f: &StoredFlow) -> &Value {
        self.node(f.src, f.firstseen, f.lastseen);
        self.node(f.dst, f.firstseen, f.lastseen);
        let index = match self.mode {
            GraphMode::Default => {
                self.edges.push(json!({
                    "id": f.id.to_string(),
                    "label": edge_label(f),
                    "labels": ["Flow"],
                    "source": f.src.to_string(),
                    "target": f.dst.to_string(),
                    "data": f.edge_data(self.timeline),
                }));
                self.edges.len() - 1
            }
            mode => {
                let next = self.edges.len();
                let i = *self.pairs.entry((f.src, f.dst)).or_insert(next);
                if i == next {
                    let (label, data) = match mode {
                        GraphMode::TalkMap => ("TALK", json!({"count": 1, "flows": ["TALK"]})),
                        _ => ("MERGED_FLOWS", json!({"count": 0, "flows": []})),
                    };
                    self.edges.push(json!({
                        "id": next.to_string(),
                        "label": label,
                        "labels": [label],
                        "source": f.src.to_string(),
                        "target": f.dst.to_string(),
                        "data": data,
                    }));
                }
                if mode == GraphMode::FlowMap {
                    let entry = json!([f.proto, f.dport]);
                    let data = &mut self.edges[i]["data"];
                    let flows = data["flows"].as_array_mut().expect("built above");
                    if !flows.contains(&entry) {
                        flows.push(entry);
                    }
                    let n = flows.len();
                    data["count"] = json!(n);
                }
                i
            }
        };
        &self.edges[index]
    }

    /// `{"nodes": [...], "edges": [...]}`.
    pub fn finish(self) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .map(|(addr, first, last)| {
                let (x, y) = layout(addr);
                json!({
                    "id": addr.to_string(),
                    "label": addr.to_string(),
                    "labels": ["Host"],
                    "x": x,
                    "y": y,
                    "data": {"addr": addr.to_string(), "firstseen": py_time(first), "lastseen": py_time(last)},
                })
            })
            .collect();
        json!({"nodes": nodes, "edges": self.edges})
    }
}

/// `tcp/80` for TCP and UDP, else `<proto>/<type>` (`icmp/8`, `arp/None`).
pub fn edge_label(f: &StoredFlow) -> String {
    if f.ported() {
        format!("{}/{}", f.proto, f.dport.unwrap_or_default())
    } else {
        match f.icmp_type {
            Some(t) => format!("{}/{t}", f.proto),
            None => format!("{}/None", f.proto),
        }
    }
}

/// Initial layout coordinates of a node, in [0, 1): IVRE draws them at
/// random; derived from the address here, so that outputs are stable.
fn layout(addr: &IpAddr) -> (f64, f64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in addr.to_string().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let x = (h >> 40) as f64 / (1u64 << 24) as f64;
    let y = ((h >> 16) & 0xff_ffff) as f64 / (1u64 << 24) as f64;
    (x, y)
}

/// `host_details(addr)` (spec 1.9): the host's first and last seen over
/// every flow touching it, the flows it serves (`in_flows`) and uses
/// (`out_flows`) as `[proto, dport]`, its clients and servers.
pub fn host_details(client: &mut impl GenericClient, addr: IpAddr) -> Result<Option<Value>> {
    let row = client.query_one(
        "SELECT min(f.firstseen), max(f.lastseen),
             coalesce(jsonb_agg(DISTINCT jsonb_build_array(f.proto, f.dport)) FILTER (WHERE f.dst = $1), '[]'),
             coalesce(jsonb_agg(DISTINCT jsonb_build_array(f.proto, f.dport)) FILTER (WHERE f.src = $1), '[]'),
             coalesce(jsonb_agg(DISTINCT host(f.src)) FILTER (WHERE f.dst = $1), '[]'),
             coalesce(jsonb_agg(DISTINCT host(f.dst)) FILTER (WHERE f.src = $1), '[]')
         FROM flow_total f WHERE f.src = $1 OR f.dst = $1",
        &[&addr],
    )?;
    let Some(first) = row.get::<_, Option<DateTime<Utc>>>(0) else {
        return Ok(None);
    };
    let last: DateTime<Utc> = row.get(1);
    Ok(Some(json!({
        "elt": {"addr": addr.to_string(), "firstseen": py_time(&first), "lastseen": py_time(&last)},
        "in_flows": row.get::<_, Value>(2),
        "out_flows": row.get::<_, Value>(3),
        "clients": row.get::<_, Value>(4),
        "servers": row.get::<_, Value>(5),
    })))
}

/// `flow_details(id)` (spec 1.9): the edge data (with first and last
/// seen) and the protocol metadata, or `None` when there is no such flow.
pub fn flow_details(client: &mut impl GenericClient, id: i64) -> Result<Option<Value>> {
    let Some(f) = get(client, id)? else {
        return Ok(None);
    };
    let mut out = json!({ "elt": f.edge_data(None) });
    if let Some(meta) = f
        .meta
        .as_ref()
        .filter(|m| m.as_object().is_some_and(|o| !o.is_empty()))
    {
        out["meta"] = meta.clone();
    }
    Ok(Some(out))
}

/// One line of `flow_daily`: a time of day and, per flow name, the slots
/// starting at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCount {
    pub time_in_day: NaiveTime,
    /// `(flow name, slots)`, most slots first.
    pub flows: Vec<(String, i64)>,
}

/// `flow_daily` (spec 1.9): for every slot of duration `precision` of the
/// flows of `q` (in its window), the time of day (UTC) of its start; per
/// time of day, the number of slots of each flow name.
pub fn flow_daily(
    client: &mut impl GenericClient,
    q: &FlowQuery,
    precision: u32,
) -> Result<Vec<DailyCount>> {
    let mut b = SqlBuilder::new();
    let cond = q.condition(&mut b)?;
    let window = q.with_window(SlotWindow {
        precision: Some(precision),
        ..q.window
    });
    let slot = window.slot_conditions(&mut b, "d.t").join(" AND ");
    let sql = format!(
        "SELECT (lower(d.t) AT TIME ZONE 'UTC')::time AS tod,
             CASE WHEN f.dport IS NOT NULL THEN f.proto || '/' || f.dport
                  WHEN f.type IS NOT NULL THEN f.proto || '/' || f.type
                  ELSE f.proto END AS name,
             count(*)
         FROM flow_total f CROSS JOIN LATERAL unnest(f.times) d(t)
         WHERE ({cond}) AND {slot}
         GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2"
    );
    let rows = client
        .query(sql.as_str(), &b.refs())
        .map_err(Error::from_query)?;
    let mut out: Vec<DailyCount> = Vec::new();
    for row in rows {
        let tod: NaiveTime = row.get(0);
        let entry = (row.get::<_, String>(1), row.get::<_, i64>(2));
        match out.last_mut() {
            Some(last) if last.time_in_day == tod => last.flows.push(entry),
            _ => out.push(DailyCount {
                time_in_day: tod,
                flows: vec![entry],
            }),
        }
    }
    Ok(out)
}

/// The distinct slot durations stored (seconds), sorted.
pub fn list_precisions(client: &mut impl GenericClient) -> Result<Vec<i64>> {
    Ok(client
        .query(
            "SELECT DISTINCT extract(epoch FROM upper(t) - lower(t))::int8
             FROM flow f CROSS JOIN LATERAL unnest(f.times) u(t) ORDER BY 1",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// `--reduce-precision NEW` (spec 1.4) on the flows of `q`: each slot
/// starting in the window whose duration is `current` (or, without
/// `current`, any duration that `new` is a strict multiple of), when
/// `base` is a multiple of that duration, becomes the slot of duration
/// `new` containing its start (base `base` mod `new`). Returns the flow
/// rows (flow, month) rewritten.
pub fn reduce_precision(
    client: &mut Client,
    q: &FlowQuery,
    new: u32,
    current: Option<u32>,
    base: i64,
) -> Result<u64> {
    if new == 0 {
        return Err(Error::BadFilter(
            "the new precision must be positive".into(),
        ));
    }
    if let Some(cur) = current {
        if cur == 0 || new <= cur || !new.is_multiple_of(cur) {
            return Err(Error::BadFilter(format!(
                "the new precision ({new}) must be a strict multiple of the current one ({cur})"
            )));
        }
        if base.rem_euclid(i64::from(cur)) != 0 {
            return Err(Error::BadFilter(format!(
                "the slot base ({base}) must be a multiple of the current precision ({cur})"
            )));
        }
    }
    let mut b = SqlBuilder::new();
    let cond = q.condition(&mut b)?;
    let window = FlowQuery {
        filter: Filter::True,
        window: SlotWindow {
            precision: None,
            ..q.window
        },
    };
    let mut slot = window.slot_conditions(&mut b, "s.t");
    let new_p = b.param(i64::from(new), "int8");
    let base_p = b.param(base.rem_euclid(i64::from(new)), "int8");
    let dur = "extract(epoch FROM upper(s.t) - lower(s.t))::int8";
    match current {
        Some(cur) => slot.push(format!("{dur} = {}", b.param(i64::from(cur), "int8"))),
        None => {
            let orig_base = b.param(base, "int8");
            slot.push(format!(
                "{new_p} > {dur} AND {new_p} % {dur} = 0 AND {orig_base} % {dur} = 0"
            ))
        }
    }
    let start = "extract(epoch FROM lower(s.t))::int8";
    let sql = format!(
        "UPDATE flow p SET times = (
             SELECT array_agg(DISTINCT x ORDER BY x) FROM (
                 SELECT CASE WHEN {eligible} THEN tstzrange(
                         to_timestamp({start} - {offset}),
                         to_timestamp({start} - {offset} + {new_p}))
                     ELSE s.t END
                 FROM unnest(p.times) s(t)) r(x))
         WHERE p.times IS NOT NULL AND p.key_id IN (SELECT f.id FROM flow_total f WHERE {cond})",
        eligible = slot.join(" AND "),
        // The start's distance to its slot start, rem_euclid as the
        // model's slots compute it.
        offset = format!("(((({start} % {new_p}) - {base_p}) % {new_p}) + {new_p}) % {new_p}"),
    );
    client
        .execute(sql.as_str(), &b.refs())
        .map_err(Error::from_query)
}

/// Removes every flow and import record, and the month partitions
/// (`--init`). Returns how many flows there were.
pub fn purge(client: &mut Client) -> Result<u64> {
    let mut tx = client.transaction()?;
    // Locked first, so that the count is what the TRUNCATE removes.
    tx.batch_execute("LOCK TABLE flow_key IN ACCESS EXCLUSIVE MODE")?;
    let n: i64 = tx.query_one("SELECT count(*) FROM flow_key", &[])?.get(0);
    let partitions: Vec<String> = tx
        .query(
            "SELECT c.relname::text FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'flow'::regclass",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for p in partitions {
        // Names read from the catalogue, quoted as identifiers.
        tx.batch_execute(&format!("DROP TABLE \"{}\"", p.replace('"', "\"\"")))?;
    }
    tx.batch_execute("TRUNCATE flow, flow_key, flow_file RESTART IDENTITY")?;
    tx.commit()?;
    Ok(n as u64)
}

/// One result of [`top`]: the grouped values, their score, and the
/// distinct tuples of the collected fields.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowTop {
    pub fields: Vec<Value>,
    pub count: i64,
    pub collected: Vec<Vec<Value>>,
}

/// What [`top`] groups, collects and sums.
#[derive(Debug, Clone, Default)]
pub struct TopSpec {
    pub fields: Vec<String>,
    pub collect: Vec<String>,
    pub sum: Vec<String>,
    /// Least common first.
    pub least: bool,
    /// Groups (0: all).
    pub limit: u64,
    pub skip: u64,
}

/// `topvalues` (spec 1.9): the flows of `q` grouped by `spec.fields`
/// (arrays unwound: a flow counts once per element), scored by the number
/// of (unwound) flows or by the sum of `spec.sum`; flows missing a grouped
/// or collected field are left out.
pub fn top(client: &mut impl GenericClient, q: &FlowQuery, spec: &TopSpec) -> Result<Vec<FlowTop>> {
    if spec.fields.is_empty() {
        return Err(Error::BadFilter("--top needs at least one field".into()));
    }
    let mut b = SqlBuilder::new();
    let cond = q.condition(&mut b)?;
    let mut joins = Vec::new();
    let mut unwound = BTreeMap::new();
    let mut exprs = |b: &mut SqlBuilder, names: &[String]| -> Result<Vec<String>> {
        names
            .iter()
            .map(|n| super::fields::top_expr(b, n, &mut joins, &mut unwound))
            .collect()
    };
    let group = exprs(&mut b, &spec.fields)?;
    let collect = exprs(&mut b, &spec.collect)?;
    let sums: Vec<String> = spec
        .sum
        .iter()
        .map(|n| super::fields::sum_expr(&mut b, n))
        .collect::<Result<_>>()?;
    let present: Vec<String> = group
        .iter()
        .chain(&collect)
        .map(|e| format!("{e} IS NOT NULL"))
        .collect();
    let score = if sums.is_empty() {
        "count(*)".to_string()
    } else {
        format!("sum({})::int8", sums.join(" + "))
    };
    let collected = if collect.is_empty() {
        "'[]'::jsonb".to_string()
    } else {
        format!(
            "jsonb_agg(DISTINCT jsonb_build_array({}))",
            collect.join(", ")
        )
    };
    let mut sql = format!(
        "SELECT jsonb_build_array({g}) AS k, {score} AS score, {collected}
         FROM flow_total f{joins}
         WHERE ({cond}){present}
         GROUP BY 1 ORDER BY 2 {dir}, 1",
        g = group.join(", "),
        joins = joins.concat(),
        present = present
            .iter()
            .map(|p| format!(" AND {p}"))
            .collect::<String>(),
        dir = if spec.least { "ASC" } else { "DESC" },
    );
    if spec.limit > 0 {
        sql += &format!(" LIMIT {}", b.param(big(spec.limit), "int8"));
    }
    if spec.skip > 0 {
        sql += &format!(" OFFSET {}", b.param(big(spec.skip), "int8"));
    }
    let rows = client
        .query(sql.as_str(), &b.refs())
        .map_err(Error::from_query)?;
    Ok(rows
        .iter()
        .map(|r| FlowTop {
            fields: as_list(r.get(0)),
            count: r.get::<_, Option<i64>>(1).unwrap_or(0),
            collected: as_list(r.get(2)).into_iter().map(as_list).collect(),
        })
        .collect())
}

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => vec![other],
    }
}
