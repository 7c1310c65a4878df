//! Compiles a [`ScanFilter`] into a parameterized SQL boolean expression on
//! `scan_host h`, or on `view_host h` ([`leaf_in`] with
//! [`HostTables::View`]: the view's records have the same shape).
//!
//! Every user-given value becomes a bind parameter (`$n`); the SQL text only
//! ever holds fixed fragments written here (column names from fixed lists),
//! so filter text cannot change the statement.
//!
//! Each leaf compiles to a self-contained predicate on the host row: host
//! columns directly, child tables through `EXISTS (SELECT 1 FROM child WHERE
//! child.host_id = h.id AND ...)`. AND, OR and NOT then combine them as plain
//! SQL booleans, so OR / NOT across different child tables mean what they
//! say (IVRE's PostgreSQL backend turns such an OR into an AND). NOT is
//! compiled as `NOT COALESCE(x, false)` so that NULL columns never make a
//! negated filter drop records.
//!
//! Indexes (`docs/indexes.md`): addresses use the B-tree of
//! `scan_host.addr`, open ports, services and products the GIN indexes of
//! the host's summary arrays (`open_ports`, `services`, `products`), other
//! port conditions the B-tree on `scan_port (port, state)`, script ids
//! (with their output and structured data) the B-tree on
//! `scan_script.name`, domains and categories the GIN indexes of their
//! arrays.

use super::tables::{HostLeaf, HostTables};
use crate::sql::{LeafSql, SqlBuilder};
use ivre_model::filter::scan::{
    CpeCond, DataCond, PortCond, ScanLeaf, ScriptCond, ScriptPort, Seg,
};
use ivre_model::filter::value::{Match, ValueCond};
use serde_json::{Map, Value};

pub use crate::sql::pg_regex;

impl LeafSql for ScanLeaf {
    fn leaf_sql(&self, b: &mut SqlBuilder) -> String {
        leaf_in(b, HostTables::Scan, self)
    }
}

impl HostLeaf for ScanLeaf {
    const TABLES: HostTables = HostTables::Scan;
}

/// The predicate of one leaf on the host row `h` of the table set `t`.
pub fn leaf_in(b: &mut SqlBuilder, t: HostTables, l: &ScanLeaf) -> String {
    match l {
        ScanLeaf::Addr(c) => b.addr_cond("h.addr", c),
        ScanLeaf::Id(ids) => format!("h.id = ANY({})", b.param(ids.clone(), "int8[]")),
        ScanLeaf::SchemaVersion(v) => {
            format!("h.schema_version = {}", b.param(*v, "int8"))
        }
        ScanLeaf::Category(m) => b.array_match("h.categories", m),
        ScanLeaf::Source(m) if t.source_is_list() => b.array_match("h.source", m),
        ScanLeaf::Source(m) => b.text_match("h.source", m),
        ScanLeaf::Port(c) => port(b, t, c),
        ScanLeaf::OtherOpenPort(list) => {
            let keys: Vec<String> = list.iter().map(|(p, n)| format!("{p}/{n}")).collect();
            let keys = b.param(keys, "text[]");
            format!(
                "EXISTS (SELECT 1 FROM {} p WHERE p.host_id = h.id AND p.state = 'open' \
                 AND p.port <> -1 AND NOT (coalesce(p.protocol, '') || '/' || p.port) = ANY({keys}))",
                t.port()
            )
        }
        ScanLeaf::CountOpenPorts { min, max } => {
            let a = b.param(*min, "int8");
            let b = b.param(*max, "int8");
            format!("h.open_port_count BETWEEN {a} AND {b}")
        }
        ScanLeaf::Script(c) => script(b, t, c),
        ScanLeaf::Hostname { name, domain } => {
            let mut conds = String::new();
            if let Some(m) = name {
                conds += &format!(" AND {}", b.text_match("n.name", m));
            }
            if let Some(m) = domain {
                conds += &format!(" AND {}", b.array_match("n.domains", m));
            }
            format!(
                "EXISTS (SELECT 1 FROM {} n WHERE n.host_id = h.id{conds})",
                t.hostname()
            )
        }
        ScanLeaf::Hop {
            addr,
            ttl,
            name,
            domain,
        } => {
            let mut conds = String::new();
            if let Some(a) = addr {
                conds += &format!(" AND o.ipaddr = {}", b.param(*a, "inet"));
            }
            if let Some(t) = ttl {
                conds += &format!(" AND o.ttl = {}", b.param(*t, "int8"));
            }
            if let Some(m) = name {
                conds += &format!(" AND {}", b.text_match("o.host", m));
            }
            if let Some(m) = domain {
                conds += &format!(" AND {}", b.array_match("o.domains", m));
            }
            format!(
                "EXISTS (SELECT 1 FROM {} o WHERE o.host_id = h.id{conds})",
                t.hop()
            )
        }
        ScanLeaf::Os(m) => {
            let parts: Vec<String> = ["o.vendor", "o.osfamily", "o.osgen", "o.type"]
                .iter()
                .map(|c| b.text_match(c, m))
                .collect();
            format!(
                "EXISTS (SELECT 1 FROM {} o WHERE o.host_id = h.id AND ({}))",
                t.osclass(),
                parts.join(" OR ")
            )
        }
        ScanLeaf::Cpe(c) => cpe(b, t, c),
        ScanLeaf::Tag { value, info } => {
            let mut conds = String::new();
            if let Some(m) = value {
                conds += &format!(" AND {}", b.text_match("t.value", m));
            }
            if let Some(m) = info {
                conds += &format!(" AND {}", b.array_match("t.info", m));
            }
            format!(
                "EXISTS (SELECT 1 FROM {} t WHERE t.host_id = h.id{conds})",
                t.tag()
            )
        }
        ScanLeaf::TimeRange { start, end } => {
            let mut parts = Vec::new();
            if let Some(s) = start {
                parts.push(format!("h.end_time >= {}", b.param(*s, "timestamptz")));
            }
            if let Some(e) = end {
                parts.push(format!("h.start_time <= {}", b.param(*e, "timestamptz")));
            }
            if parts.is_empty() {
                "true".into()
            } else {
                parts.join(" AND ")
            }
        }
        ScanLeaf::TimeAgo(secs) => format!(
            "h.end_time >= now() - make_interval(secs => {})",
            b.param(*secs, "float8")
        ),
        ScanLeaf::Mac(m) => match m {
            None => "jsonb_typeof(h.doc -> 'addresses' -> 'mac') = 'array'".into(),
            Some(Match::Exact(s)) => format!(
                "h.doc -> 'addresses' -> 'mac' @> jsonb_build_array({})",
                b.param(s.clone(), "text")
            ),
            Some(m) => {
                let a = b.fresh("m");
                let cond = b.text_match(&format!("({a}.v #>> '{{}}')"), m);
                format!(
                        "EXISTS (SELECT 1 FROM jsonb_path_query(h.doc, 'lax $.addresses.mac[*]') {a}(v) WHERE {cond})"
                    )
            }
        },
    }
}

/// A port condition: through the host's summary arrays (`open_ports`,
/// `services`, `products`, GIN-indexed) when it is an exact value of one
/// of them, alone when the array says it all, else as a pre-filter of the
/// port rows.
fn port(b: &mut SqlBuilder, t: HostTables, c: &PortCond) -> String {
    let mut arrays = Vec::new();
    let mut rest = c.clone();
    if let (Some(proto), Some(n), Some(Match::Exact(state))) = (&c.protocol, c.port, &c.state) {
        if state == "open" && n != -1 {
            let key = b.param(vec![format!("{proto}/{n}")], "text[]");
            arrays.push(format!("h.open_ports && {key}"));
            (rest.protocol, rest.port, rest.state) = (None, None, None);
        }
    }
    for (col, m, left) in [
        ("services", &c.service, &mut rest.service),
        ("products", &c.product, &mut rest.product),
    ] {
        if let Some(Match::Exact(v)) = m {
            let v = b.param(vec![v.clone()], "text[]");
            arrays.push(format!("h.{col} && {v}"));
            *left = None;
        }
    }
    if arrays.len() == 1 && rest == PortCond::default() {
        return arrays.remove(0);
    }
    let conds = port_conds(b, "p", c);
    arrays.push(format!(
        "EXISTS (SELECT 1 FROM {} p WHERE p.host_id = h.id{conds})",
        t.port()
    ));
    arrays.join(" AND ")
}

fn port_conds(b: &mut SqlBuilder, a: &str, c: &PortCond) -> String {
    let mut conds = String::new();
    if let Some(p) = &c.protocol {
        conds += &format!(" AND {a}.protocol = {}", b.param(p.clone(), "text"));
    }
    if let Some(n) = c.port {
        conds += &format!(" AND {a}.port = {}", b.param(n, "int4"));
    }
    for (col, m) in [
        ("state", &c.state),
        ("service_name", &c.service),
        ("service_product", &c.product),
        ("service_version", &c.version),
        ("service_extrainfo", &c.extrainfo),
        ("service_devicetype", &c.devicetype),
        ("service_hostname", &c.hostname),
        ("service_tunnel", &c.tunnel),
    ] {
        if let Some(m) = m {
            conds += &format!(" AND {}", b.text_match(&format!("{a}.{col}"), m));
        }
    }
    conds
}

fn cpe(b: &mut SqlBuilder, t: HostTables, c: &CpeCond) -> String {
    let mut conds = String::new();
    for (col, m) in [
        ("type", &c.cpe_type),
        ("vendor", &c.vendor),
        ("product", &c.product),
        ("version", &c.version),
    ] {
        if let Some(m) = m {
            conds += &format!(" AND {}", b.text_match(&format!("c.{col}"), m));
        }
    }
    format!(
        "EXISTS (SELECT 1 FROM {} c WHERE c.host_id = h.id{conds})",
        t.cpe()
    )
}

fn script(b: &mut SqlBuilder, t: HostTables, c: &ScriptCond) -> String {
    let mut conds = String::new();
    if let Some(m) = &c.name {
        conds += &format!(" AND {}", b.text_match("s.name", m));
    }
    if let Some(m) = &c.output {
        conds += &format!(" AND {}", b.text_match("s.output", m));
    }
    match c.port {
        ScriptPort::Any => {}
        ScriptPort::Host => conds += " AND s.port = -1",
        ScriptPort::Service => conds += " AND s.port <> -1",
        ScriptPort::Number(n) => conds += &format!(" AND s.port = {}", b.param(n, "int4")),
    }
    if let Some(d) = &c.data {
        conds += &format!(" AND {}", data(b, d));
    }
    format!(
        "EXISTS (SELECT 1 FROM {} s WHERE s.host_id = h.id{conds})",
        t.script()
    )
}

/// Conditions on one element of `s.data` along `d.path`.
fn data(b: &mut SqlBuilder, d: &DataCond) -> String {
    let mut out = Vec::new();
    if let Some(doc) = containment(d) {
        // Served by the jsonb_path_ops GIN index; the exact check follows.
        out.push(format!("s.data @> {}", b.param(doc, "jsonb")));
    }
    let mut expr = "s.data".to_string();
    let mut from = Vec::new();
    for seg in &d.path {
        match seg {
            Seg::Key(k) => expr = format!("({expr} -> {})", b.param(k.clone(), "text")),
            Seg::Each => {
                let a = b.fresh("e");
                from.push(format!("jsonb_path_query({expr}, 'lax $[*]') {a}(v)"));
                expr = format!("{a}.v");
            }
        }
    }
    let mut conds = Vec::new();
    for (sub, vc) in &d.conds {
        let target = if sub.is_empty() {
            expr.clone()
        } else {
            format!("({expr} #> {})", b.param(sub.clone(), "text[]"))
        };
        conds.push(match vc {
            ValueCond::Str(m) => {
                let text = format!("({target} #>> '{{}}')");
                b.text_match(&text, m)
            }
            ValueCond::Bool(v) => {
                format!("{target} = to_jsonb({})", b.param(*v, "bool"))
            }
            ValueCond::Int(i) => {
                format!("{target} = to_jsonb({})", b.param(*i, "int8"))
            }
            ValueCond::Exists => format!("{target} IS NOT NULL"),
        });
    }
    if conds.is_empty() {
        conds.push(format!("{expr} IS NOT NULL"));
    }
    let cond = conds.join(" AND ");
    if from.is_empty() {
        out.push(cond);
    } else {
        out.push(format!(
            "EXISTS (SELECT 1 FROM {} WHERE {cond})",
            from.join(" CROSS JOIN ")
        ));
    }
    out.join(" AND ")
}

/// The JSON document that every matching `data` contains, when exact
/// conditions allow one (for the GIN index).
fn containment(d: &DataCond) -> Option<Value> {
    let mut obj = Map::new();
    for (sub, vc) in &d.conds {
        let v = match vc {
            ValueCond::Str(Match::Exact(s)) => Value::String(s.clone()),
            ValueCond::Bool(b) => Value::Bool(*b),
            ValueCond::Int(i) => Value::from(*i),
            _ => continue,
        };
        if sub.is_empty() {
            return None;
        }
        let mut node = &mut obj;
        for (i, k) in sub.iter().enumerate() {
            if i + 1 == sub.len() {
                node.insert(k.clone(), v.clone());
            } else {
                node = node
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()?;
            }
        }
    }
    if obj.is_empty() {
        return None;
    }
    let mut doc = Value::Object(obj);
    for seg in d.path.iter().rev() {
        doc = match seg {
            Seg::Key(k) => {
                let mut m = Map::new();
                m.insert(k.clone(), doc);
                Value::Object(m)
            }
            Seg::Each => Value::Array(vec![doc]),
        };
    }
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivre_model::filter::scan;

    #[test]
    fn user_text_only_in_parameters() {
        let evil = "x'; DROP TABLE scan_host; --";
        let f = scan::script(Some(Match::exact(evil)), Some(Match::exact(evil)))
            .or(scan::hostname(Some(Match::exact(evil))))
            .and(scan::named::httphdr(Some(Match::exact(evil)), None).not());
        let mut b = SqlBuilder::new();
        let sql = b.filter(&f);
        assert!(!sql.contains("DROP"), "{sql}");
    }

    #[test]
    fn containment_document() {
        let d = DataCond {
            path: vec![Seg::Key("http-headers".into()), Seg::Each],
            conds: vec![(vec!["name".into()], ValueCond::Str(Match::exact("server")))],
        };
        assert_eq!(
            containment(&d).unwrap(),
            serde_json::json!({"http-headers": [{"name": "server"}]})
        );
    }
}
