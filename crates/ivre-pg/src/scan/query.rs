//! The query API of the scan purpose: count, get (a stream), distinct, top
//! values, delete, each taking a [`ScanFilter`]. The CLI (and the web API)
//! are thin layers over these functions.
//!
//! Results stream from the server (`query_raw` with a portal): `get` over a
//! million hosts holds one record at a time.

use super::top;
use crate::sql::SqlBuilder;
use anyhow::{anyhow, bail, Result};
use fallible_iterator::FallibleIterator;
use ivre_model::filter::scan::ScanFilter;
use ivre_model::filter::Filter;
use postgres::error::SqlState;
use postgres::{Client, GenericClient};
use serde_json::Value;

/// Sort, skip and limit of a `get`.
#[derive(Debug, Clone, Default)]
pub struct QueryOpts {
    /// Fields (IVRE names: `addr`, `starttime`, `endtime`, `source`,
    /// `openports.count`, `schema_version`, or any dotted path of the record),
    /// with `true` for descending.
    pub sort: Vec<(String, bool)>,
    pub skip: u64,
    /// 0: no limit.
    pub limit: u64,
}

impl QueryOpts {
    /// Parses IVRE's `--sort` values: `FIELD` or `~FIELD` (descending).
    pub fn parse_sort(fields: &[String]) -> Vec<(String, bool)> {
        fields
            .iter()
            .flat_map(|f| f.split(','))
            .filter(|f| !f.is_empty())
            .map(
                |f| match f.strip_prefix('~').or_else(|| f.strip_prefix('-')) {
                    Some(rest) => (rest.to_string(), true),
                    None => (f.to_string(), false),
                },
            )
            .collect()
    }
}

/// Turns database errors caused by the user's filter into clear messages.
pub fn explain_error(e: postgres::Error) -> anyhow::Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_REGULAR_EXPRESSION {
            return anyhow!("invalid regular expression: {}", db.message());
        }
        if *code == SqlState::QUERY_CANCELED {
            return anyhow!("query cancelled: {}", db.message());
        }
        if *code == SqlState::PROGRAM_LIMIT_EXCEEDED
            || *code == SqlState::SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION
        {
            return anyhow!("invalid filter: {}", db.message());
        }
        if code.code().starts_with("22") {
            return anyhow!("invalid filter value: {}", db.message());
        }
        if code.code() == "42601" {
            return anyhow!("invalid filter value: {}", db.message());
        }
    }
    anyhow::Error::new(e)
}

fn where_clause(b: &mut SqlBuilder, flt: &ScanFilter) -> String {
    b.filter(flt)
}

/// Number of matching records.
pub fn count(client: &mut impl GenericClient, flt: &ScanFilter) -> Result<i64> {
    let mut b = SqlBuilder::new();
    let w = where_clause(&mut b, flt);
    let sql = format!("SELECT count(*) FROM scan_host h WHERE {w}");
    Ok(client
        .query_one(sql.as_str(), &b.refs())
        .map_err(explain_error)?
        .get(0))
}

/// The query plan (`EXPLAIN`) of the count query for the filter.
pub fn explain(client: &mut impl GenericClient, flt: &ScanFilter) -> Result<String> {
    let mut b = SqlBuilder::new();
    let w = where_clause(&mut b, flt);
    let sql = format!("EXPLAIN SELECT count(*) FROM scan_host h WHERE {w}");
    let rows = client
        .query(sql.as_str(), &b.refs())
        .map_err(explain_error)?;
    Ok(rows
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n"))
}

fn order_by(b: &mut SqlBuilder, sort: &[(String, bool)]) -> String {
    let mut keys = Vec::new();
    for (field, desc) in sort {
        let expr = match field.as_str() {
            "addr" => "h.addr".to_string(),
            "starttime" => "h.start_time".to_string(),
            "endtime" => "h.end_time".to_string(),
            "source" => "h.source".to_string(),
            "openports.count" => "h.open_port_count".to_string(),
            "schema_version" => "h.schema_version".to_string(),
            "_id" | "id" => "h.id".to_string(),
            other => {
                let path: Vec<String> = other.split('.').map(str::to_string).collect();
                format!("(h.doc #> {})", b.param(path, "text[]"))
            }
        };
        keys.push(format!("{expr} {}", if *desc { "DESC" } else { "ASC" }));
    }
    keys.push("h.id".into());
    keys.join(", ")
}

fn stream_rows(
    client: &mut Client,
    sql: &str,
    b: &SqlBuilder,
    mut each: impl FnMut(&postgres::Row) -> Result<()>,
) -> Result<()> {
    let mut rows = client
        .query_raw(sql, b.refs().iter().copied())
        .map_err(explain_error)?;
    while let Some(row) = rows.next().map_err(explain_error)? {
        each(&row)?;
    }
    Ok(())
}

/// Calls `each` with every matching record (IVRE JSON, as stored), streaming.
pub fn get(
    client: &mut Client,
    flt: &ScanFilter,
    opts: &QueryOpts,
    mut each: impl FnMut(Value) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = where_clause(&mut b, flt);
    let order = order_by(&mut b, &opts.sort);
    let mut sql = format!("SELECT h.doc FROM scan_host h WHERE {w} ORDER BY {order}");
    if opts.limit > 0 {
        sql += &format!(" LIMIT {}", b.param(opts.limit as i64, "int8"));
    }
    if opts.skip > 0 {
        sql += &format!(" OFFSET {}", b.param(opts.skip as i64, "int8"));
    }
    stream_rows(client, &sql, &b, |row| each(row.get(0)))
}

/// Calls `each` with every record's text, as the server serialises it (the
/// fast path of `--json`: no parsing on our side).
pub fn get_text(
    client: &mut Client,
    flt: &ScanFilter,
    opts: &QueryOpts,
    mut each: impl FnMut(&str) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = where_clause(&mut b, flt);
    let order = order_by(&mut b, &opts.sort);
    let mut sql = format!("SELECT h.doc::text FROM scan_host h WHERE {w} ORDER BY {order}");
    if opts.limit > 0 {
        sql += &format!(" LIMIT {}", b.param(opts.limit as i64, "int8"));
    }
    if opts.skip > 0 {
        sql += &format!(" OFFSET {}", b.param(opts.skip as i64, "int8"));
    }
    stream_rows(client, &sql, &b, |row| each(row.get(0)))
}

/// Distinct addresses of the matching records, sorted (`--short`).
pub fn addresses(
    client: &mut Client,
    flt: &ScanFilter,
    mut each: impl FnMut(String) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = where_clause(&mut b, flt);
    let sql = format!(
        "SELECT host(a) FROM (SELECT DISTINCT h.addr AS a FROM scan_host h WHERE {w}) x ORDER BY a"
    );
    stream_rows(client, &sql, &b, |row| each(row.get(0)))
}

/// Distinct values of a field (a dotted path of the record, lists unwound as
/// in IVRE's MongoDB backend), sorted.
pub fn distinct(
    client: &mut Client,
    flt: &ScanFilter,
    field: &str,
    mut each: impl FnMut(Value) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = where_clause(&mut b, flt);
    let (from, value) = match field {
        "addr" => (String::new(), "to_jsonb(host(h.addr))".to_string()),
        "source" => (String::new(), "to_jsonb(h.source)".to_string()),
        "categories" | "category" => (
            " CROSS JOIN unnest(h.categories) c(v)".into(),
            "to_jsonb(c.v)".into(),
        ),
        "ports.port" => (
            " JOIN scan_port p ON p.host_id = h.id".into(),
            "to_jsonb(p.port)".into(),
        ),
        "ports.service_name" => (
            " JOIN scan_port p ON p.host_id = h.id".into(),
            "to_jsonb(p.service_name)".into(),
        ),
        "hostnames.name" => (
            " JOIN scan_hostname n ON n.host_id = h.id".into(),
            "to_jsonb(n.name)".into(),
        ),
        _ => {
            let path = format!("{}::jsonpath", b.param(jsonpath(field)?, "text"));
            (
                format!(" CROSS JOIN jsonb_path_query(h.doc, {path}) j(v)"),
                "j.v".into(),
            )
        }
    };
    let sql = format!("SELECT DISTINCT {value} AS v FROM scan_host h{from} WHERE {w} ORDER BY 1");
    stream_rows(client, &sql, &b, |row| {
        let v: Option<Value> = row.get(0);
        each(v.unwrap_or(Value::Null))
    })
}

/// A lax SQL/JSON path for a dotted record path; the final list is unwound.
pub fn jsonpath(field: &str) -> Result<String> {
    if field.is_empty() {
        bail!("empty field name");
    }
    let mut p = String::from("lax $");
    for key in field.split('.') {
        if key.is_empty() {
            bail!("invalid field {field:?}");
        }
        p.push_str(".\"");
        for c in key.chars() {
            match c {
                '"' => p.push_str("\\\""),
                '\\' => p.push_str("\\\\"),
                c if (c as u32) < 0x20 => p.push_str(&format!("\\u{:04x}", c as u32)),
                c => p.push(c),
            }
        }
        p.push('"');
    }
    p.push_str("[*]");
    Ok(p)
}

/// One value of a top-values result.
#[derive(Debug, Clone, PartialEq)]
pub struct TopValue {
    pub value: Value,
    pub count: i64,
}

/// The most (or, with `least`, the least) common values of a field among the
/// matching records (IVRE's `topvalues`; see [`top`] for the fields).
/// `limit` 0 means all values.
pub fn topvalues(
    client: &mut Client,
    flt: &ScanFilter,
    field: &str,
    limit: u64,
    least: bool,
) -> Result<Vec<TopValue>> {
    let mut out = Vec::new();
    for_each_topvalue(client, flt, field, limit, least, |v| {
        out.push(v);
        Ok(())
    })?;
    Ok(out)
}

/// [`topvalues`], streamed (for `--limit 0` over many distinct values).
pub fn for_each_topvalue(
    client: &mut Client,
    flt: &ScanFilter,
    field: &str,
    limit: u64,
    least: bool,
    mut each: impl FnMut(TopValue) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = where_clause(&mut b, flt);
    let proj = top::projection(&mut b, field)?;
    // Without a filter, count the child rows alone (no join with scan_host).
    let from = match (flt, proj.child_only()) {
        (Filter::True, Some(from)) => from,
        _ => format!("scan_host h{}", proj.from),
    };
    let dir = if least { "ASC" } else { "DESC" };
    let limit = if limit > 0 {
        format!(" LIMIT {}", b.param(limit as i64, "int8"))
    } else {
        String::new()
    };
    let cond = &proj.cond;
    let sql = match plain_keys(&proj.value) {
        // Group on the plain columns, build the JSON of the winners only
        // (hashing and comparing jsonb per row costs several times more).
        Some((keys, value)) => {
            let cols: Vec<String> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| format!("{k} AS k{i}"))
                .collect();
            let order: Vec<String> = (0..keys.len()).map(|i| format!("k{i}")).collect();
            format!(
                "SELECT {value} AS v, x.n FROM (SELECT {cols}, count(*) AS n FROM {from} \
                 WHERE ({w}){cond} GROUP BY {order} ORDER BY n {dir}, {order}{limit}) x \
                 ORDER BY x.n {dir}, {xorder}",
                cols = cols.join(", "),
                order = order.join(", "),
                xorder = order
                    .iter()
                    .map(|k| format!("x.{k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        }
        None => format!(
            "SELECT {value} AS v, count(*) AS n FROM {from} WHERE ({w}){cond} \
             GROUP BY 1 ORDER BY 2 {dir}, 1{limit}",
            value = proj.value,
        ),
    };
    stream_rows(client, &sql, &b, |r| {
        each(TopValue {
            value: r.get::<_, Option<Value>>(0).unwrap_or(Value::Null),
            count: r.get(1),
        })
    })
}

/// `to_jsonb(col)` or `jsonb_build_array(col, col, ...)` over plain
/// columns: the columns, and the value rebuilt from `x.k0, x.k1, ...`.
fn plain_keys(value: &str) -> Option<(Vec<String>, String)> {
    let plain = |e: &str| {
        !e.is_empty()
            && !["->", "SELECT", "jsonb", "coalesce", "'", "$"]
                .iter()
                .any(|bad| e.contains(bad))
    };
    if let Some(inner) = value
        .strip_prefix("to_jsonb(")
        .and_then(|v| v.strip_suffix(')'))
    {
        if plain(inner) && !inner.contains(',') {
            return Some((vec![inner.to_string()], "to_jsonb(x.k0)".into()));
        }
    }
    if let Some(inner) = value
        .strip_prefix("jsonb_build_array(")
        .and_then(|v| v.strip_suffix(')'))
    {
        let keys: Vec<String> = inner.split(", ").map(str::to_string).collect();
        if keys.iter().all(|k| plain(k) && !k.contains(',')) {
            let vals: Vec<String> = (0..keys.len()).map(|i| format!("x.k{i}")).collect();
            return Some((keys, format!("jsonb_build_array({})", vals.join(", "))));
        }
    }
    None
}

/// Deletes the matching records (and their child rows) in one transaction.
/// Returns how many were deleted.
pub fn delete(client: &mut Client, flt: &ScanFilter) -> Result<u64> {
    let mut tx = client.transaction()?;
    let mut b = SqlBuilder::new();
    let w = where_clause(&mut b, flt);
    let sql = format!("DELETE FROM scan_host h WHERE {w}");
    let n = tx.execute(sql.as_str(), &b.refs()).map_err(explain_error)?;
    tx.execute(
        "UPDATE scan_file f SET host_count = (SELECT count(*) FROM scan_host h WHERE h.file_id = f.id)",
        &[],
    )?;
    tx.commit()?;
    Ok(n)
}

/// Removes every record and import of the scan purpose (`--init`).
pub fn purge(client: &mut Client) -> Result<()> {
    client.batch_execute(
        "TRUNCATE scan_tag, scan_cpe, scan_osclass, scan_osmatch, scan_hop, scan_hostname, \
         scan_script, scan_port, scan_host, scan_file RESTART IDENTITY",
    )?;
    Ok(())
}
