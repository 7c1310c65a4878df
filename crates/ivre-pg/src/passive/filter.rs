//! Compiles a [`PassiveFilter`] into a parameterized SQL boolean expression
//! on `passive p`.
//!
//! User values only travel as bind parameters; the SQL text holds fixed
//! fragments (column names and `infos` list names from fixed lists).
//!
//! Indexes: addresses use the GiST `inet_ops` index of `addr` (`=`, `<<=`,
//! `BETWEEN`); recontype and source the `(recontype, source)` B-tree; exact
//! values the `left(value, 256)` / `left(targetval, 256)` B-trees (the full
//! comparison follows); exact `infos` values the `jsonb_path_ops` GIN index
//! (through a containment pre-filter `infos @> {...}`); DNS name suffixes the
//! GIN index on `infos -> 'domain'` / `infos -> 'domaintarget'`; times the
//! B-trees of `firstseen` / `lastseen`.

use crate::sql::{LeafSql, SqlBuilder};
use ivre_model::filter::passive::{InfosList, PassiveLeaf};
use ivre_model::filter::value::{Match, ValueCond};
use serde_json::{Map, Value};

impl LeafSql for PassiveLeaf {
    fn leaf_sql(&self, b: &mut SqlBuilder) -> String {
        leaf(b, self)
    }
}

/// Length of the indexed prefix of `value` and `targetval`.
const INDEXED_PREFIX: usize = 256;

/// An exact condition on `value` / `targetval` that can use the index on
/// `left(col, 256)`.
fn long_text_match(b: &mut SqlBuilder, col: &str, m: &Match) -> String {
    match m {
        Match::Exact(s) => {
            let prefix: String = s.chars().take(INDEXED_PREFIX).collect();
            let p = b.param(prefix, "text");
            let full = b.param(s.clone(), "text");
            format!("left({col}, {INDEXED_PREFIX}) = {p} AND {col} = {full}")
        }
        Match::AnyOf(v) => {
            let prefixes: Vec<String> = v
                .iter()
                .map(|s| s.chars().take(INDEXED_PREFIX).collect())
                .collect();
            let p = b.param(prefixes, "text[]");
            let full = b.param(v.clone(), "text[]");
            format!("left({col}, {INDEXED_PREFIX}) = ANY({p}) AND {col} = ANY({full})")
        }
        m => b.text_match(col, m),
    }
}

fn leaf(b: &mut SqlBuilder, l: &PassiveLeaf) -> String {
    match l {
        PassiveLeaf::Addr(c) => b.addr_cond("p.addr", c),
        PassiveLeaf::Id(ids) => format!("p.id = ANY({})", b.param(ids.clone(), "int8[]")),
        PassiveLeaf::SchemaVersion(v) => {
            format!("p.schema_version = {}", b.param(*v as i32, "int4"))
        }
        PassiveLeaf::Sensor(m) => b.text_match("p.sensor", m),
        PassiveLeaf::Recontype(m) => b.text_match("p.recontype", m),
        PassiveLeaf::Source(m) => b.text_match("p.source", m),
        PassiveLeaf::Port(n) => format!("p.port = {}", b.param(*n, "int4")),
        PassiveLeaf::Value(m) => long_text_match(b, "p.value", m),
        PassiveLeaf::Targetval(m) => long_text_match(b, "p.targetval", m),
        PassiveLeaf::Infos(path, cond) => infos(b, path, cond),
        PassiveLeaf::InfosList(list, m) => {
            let expr = match list {
                // Written as in the index definitions.
                InfosList::Domain => "(p.infos -> 'domain')",
                InfosList::DomainTarget => "(p.infos -> 'domaintarget')",
            };
            match m {
                Match::Exact(s) => format!(
                    "{expr} @> jsonb_build_array({})",
                    b.param(s.clone(), "text")
                ),
                Match::AnyOf(v) => format!("{expr} ?| {}", b.param(v.clone(), "text[]")),
                Match::Absent => format!("coalesce(jsonb_array_length({expr}), 0) = 0"),
                m => {
                    let a = b.fresh("d");
                    let cond = b.text_match(&format!("{a}.v"), m);
                    format!(
                        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(\
                         CASE WHEN jsonb_typeof({expr}) = 'array' THEN {expr} END) {a}(v) WHERE {cond})"
                    )
                }
            }
        }
        PassiveLeaf::TimeAgo { seconds, new } => format!(
            "p.{} >= now() - make_interval(secs => {})",
            if *new { "firstseen" } else { "lastseen" },
            b.param(*seconds, "float8")
        ),
        PassiveLeaf::Newer { time, new } => format!(
            "p.{} > {}",
            if *new { "firstseen" } else { "lastseen" },
            b.param(*time, "timestamptz")
        ),
    }
}

/// A condition on `infos #> path`.
fn infos(b: &mut SqlBuilder, path: &[String], cond: &ValueCond) -> String {
    let target = format!("(p.infos #> {})", b.param(path.to_vec(), "text[]"));
    let leafv = match cond {
        ValueCond::Str(Match::Exact(s)) => Some(Value::String(s.clone())),
        ValueCond::Bool(v) => Some(Value::Bool(*v)),
        ValueCond::Int(i) => Some(Value::from(*i)),
        _ => None,
    };
    let mut parts = Vec::new();
    if let Some(v) = leafv.filter(|_| !path.is_empty()) {
        // Served by the jsonb_path_ops GIN index; the exact check follows.
        let mut doc = v;
        for k in path.iter().rev() {
            let mut m = Map::new();
            m.insert(k.clone(), doc);
            doc = Value::Object(m);
        }
        parts.push(format!("p.infos @> {}", b.param(doc, "jsonb")));
    }
    parts.push(match cond {
        ValueCond::Str(m) => {
            let text = format!("({target} #>> '{{}}')");
            b.text_match(&text, m)
        }
        ValueCond::Bool(v) => format!("{target} = to_jsonb({})", b.param(*v, "bool")),
        ValueCond::Int(i) => format!("{target} = to_jsonb({})", b.param(*i, "int8")),
        ValueCond::Exists => format!("{target} IS NOT NULL"),
    });
    parts.join(" AND ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivre_model::filter::passive as f;
    use ivre_model::filter::value::str2regexp;

    #[test]
    fn user_text_only_in_parameters() {
        let evil = "x'; DROP TABLE passive; --";
        let flt = f::dns(Some(Match::exact(evil)), false, Some(evil), true, false)
            .or(f::useragent(Some(Match::exact(evil))))
            .and(f::infos(&[evil], Match::exact(evil)).not())
            .and(f::sensor(str2regexp(&format!("/{evil}/")).unwrap()));
        let mut b = SqlBuilder::new();
        let sql = b.filter(&flt);
        assert!(!sql.contains("DROP"), "{sql}");
    }

    #[test]
    fn infos_containment() {
        let mut b = SqlBuilder::new();
        let sql = b.filter(&f::infos(&["client", "sha1"], Match::exact("ab")));
        assert!(sql.starts_with("p.infos @> $2::jsonb"), "{sql}");
    }
}
