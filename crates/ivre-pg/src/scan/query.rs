//! The query API of the scan purpose: count, get (a stream), distinct, top
//! values, delete, each taking a [`ScanFilter`]. The CLI (and the web API)
//! are thin layers over these functions; what every purpose shares is in
//! [`crate::query`].
//!
//! The same functions query the view: they take any filter whose leaf is a
//! [`HostLeaf`], and read the table set that leaf is compiled for (a
//! `ScanFilter` reads `scan_*`, a view filter `view_*`).
//!
//! Results stream from the server (`query_raw` with a portal): `get` over a
//! million hosts holds one record at a time. Streaming functions take a
//! callback whose error type is the caller's (see [`crate::query`]).

use super::tables::{HostLeaf, HostTables};
use super::top::{self, HostProjection, Projection, ScanChild};
use crate::query::projection::{Counting, Rows, TopQuery, TopValue, Unnest, ValueShape};
use crate::query::{self, for_each_row, json_path, QueryOpts};
use crate::sql::SqlBuilder;
use crate::{Error, Result};
use ivre_model::filter::Filter;
use postgres::{Client, GenericClient};
use serde_json::Value;

/// Number of matching records.
pub fn count<L: HostLeaf>(client: &mut impl GenericClient, flt: &Filter<L>) -> Result<i64> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    query::count(client, L::TABLES.hosts(), &w, &b)
}

/// The query plan (`EXPLAIN`) of the count query for the filter.
pub fn explain<L: HostLeaf>(client: &mut impl GenericClient, flt: &Filter<L>) -> Result<String> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    query::explain(client, L::TABLES.hosts(), &w, &b)
}

/// ORDER BY keys for IVRE's sort fields (`addr`, `starttime`, `endtime`,
/// `source`, `openports.count`, `schema_version`, or a dotted path of the
/// record under one of its keys), ending with the record id.
fn order_by(b: &mut SqlBuilder, sort: &[(String, bool)], t: HostTables) -> Result<String> {
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
                top::check_record_path(other).map_err(|_| {
                    Error::BadFilter(format!(
                        "cannot sort on {other:?} (addr, starttime, endtime, source, \
                         openports.count, schema_version, id, or a record path under {})",
                        top::RECORD_KEYS.join(", ")
                    ))
                })?;
                // The scripts are not in the stored document.
                let doc = if other.split('.').next() == Some("ports") {
                    t.doc()
                } else {
                    "h.doc"
                };
                json_path(b, doc, other)
            }
        };
        keys.push(format!("{expr} {}", if *desc { "DESC" } else { "ASC" }));
    }
    keys.push("h.id".into());
    Ok(keys.join(", "))
}

/// `SELECT {column} FROM scan_host h WHERE ... ORDER BY ... LIMIT ...`.
fn select_hosts<L: HostLeaf>(
    column: &str,
    flt: &Filter<L>,
    opts: &QueryOpts,
) -> Result<(String, SqlBuilder)> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let order = order_by(&mut b, &opts.sort, L::TABLES)?;
    let hosts = L::TABLES.hosts();
    let mut sql = format!("SELECT {column} FROM {hosts} WHERE {w} ORDER BY {order}");
    sql += &opts.limit_offset(&mut b);
    Ok((sql, b))
}

/// Calls `each` with every matching record (IVRE JSON, as stored), streaming.
pub fn get<L: HostLeaf, E: From<Error>>(
    client: &mut Client,
    flt: &Filter<L>,
    opts: &QueryOpts,
    mut each: impl FnMut(Value) -> Result<(), E>,
) -> Result<(), E> {
    let (sql, b) = select_hosts(L::TABLES.doc(), flt, opts)?;
    for_each_row(client, &sql, &b.refs(), |row| each(row.get(0)))?;
    Ok(())
}

/// Calls `each` with every record's text, as the server serialises it (the
/// fast path of `--json`: no parsing on our side).
pub fn get_text<L: HostLeaf, E: From<Error>>(
    client: &mut Client,
    flt: &Filter<L>,
    opts: &QueryOpts,
    mut each: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let doc = format!("{}::text", L::TABLES.doc());
    let (sql, b) = select_hosts(&doc, flt, opts)?;
    for_each_row(client, &sql, &b.refs(), |row| each(row.get(0)))?;
    Ok(())
}

/// Distinct addresses of the matching records, sorted (`--short`).
pub fn addresses<L: HostLeaf, E: From<Error>>(
    client: &mut Client,
    flt: &Filter<L>,
    each: impl FnMut(String) -> Result<(), E>,
) -> Result<(), E> {
    addresses_page(client, flt, &QueryOpts::default(), each)
}

/// [`addresses`], `opts.skip` of them skipped and at most `opts.limit`
/// (`--short --skip --limit`; the sort is the addresses').
pub fn addresses_page<L: HostLeaf, E: From<Error>>(
    client: &mut Client,
    flt: &Filter<L>,
    opts: &QueryOpts,
    mut each: impl FnMut(String) -> Result<(), E>,
) -> Result<(), E> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let page = opts.limit_offset(&mut b);
    let sql = format!(
        "SELECT host(a) FROM (SELECT DISTINCT h.addr AS a FROM {} WHERE {w}) x ORDER BY a{page}",
        L::TABLES.hosts()
    );
    for_each_row(client, &sql, &b.refs(), |row| each(row.get(0)))?;
    Ok(())
}

/// The projection of a `--distinct` field: a few columns by name, else a
/// `--top` field (named, or a path of the record).
fn distinct_projection(b: &mut SqlBuilder, field: &str, t: HostTables) -> Result<HostProjection> {
    match distinct_fields(field, t) {
        Some(p) => Ok(top::in_tables(p, t)),
        None => top::projection(b, field, t),
    }
}

fn distinct_fields(field: &str, t: HostTables) -> Option<Projection> {
    let child = |table, column: &str| Projection {
        rows: Rows::Child {
            table,
            unnest: Vec::new(),
        },
        cond: Vec::new(),
        value: ValueShape::Scalar(column.into()),
    };
    let main = |rows, value| Projection {
        rows,
        cond: Vec::new(),
        value,
    };
    Some(match field {
        "addr" => main(Rows::Main, ValueShape::Scalar("host(h.addr)".into())),
        "source" if t.source_is_list() => main(
            Rows::MainList(Unnest::new("unnest(h.source)", "c")),
            ValueShape::Scalar("c.v".into()),
        ),
        "source" => main(Rows::Main, ValueShape::Scalar("h.source".into())),
        "categories" | "category" => main(
            Rows::MainList(Unnest::new("unnest(h.categories)", "c")),
            ValueShape::Scalar("c.v".into()),
        ),
        "ports.port" => child(ScanChild::Port, "p.port"),
        "ports.service_name" => child(ScanChild::Port, "p.service_name"),
        "hostnames.name" => child(ScanChild::Hostname, "n.name"),
        _ => return None,
    })
}

/// Distinct values of a field (a dotted path of the record, lists unwound as
/// in IVRE's MongoDB backend), sorted.
pub fn distinct<L: HostLeaf, E: From<Error>>(
    client: &mut Client,
    flt: &Filter<L>,
    field: &str,
    each: impl FnMut(Value) -> Result<(), E>,
) -> Result<(), E> {
    distinct_page(client, flt, field, &QueryOpts::default(), each)
}

/// [`distinct`], `opts.skip` values skipped and at most `opts.limit`
/// (`--distinct --skip --limit`; the sort is the values').
pub fn distinct_page<L: HostLeaf, E: From<Error>>(
    client: &mut Client,
    flt: &Filter<L>,
    field: &str,
    opts: &QueryOpts,
    mut each: impl FnMut(Value) -> Result<(), E>,
) -> Result<(), E> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let proj = distinct_projection(&mut b, field, L::TABLES)?;
    let page = opts.limit_offset(&mut b);
    let sql = format!(
        "SELECT DISTINCT {value} AS v FROM {hosts}{from} WHERE ({w}){cond} ORDER BY 1{page}",
        hosts = L::TABLES.hosts(),
        value = proj.value.sql(),
        from = proj.joins(),
        cond = proj.cond_sql(),
    );
    for_each_row(client, &sql, &b.refs(), |row| {
        let v: Option<Value> = row.get(0);
        each(v.unwrap_or(Value::Null))
    })?;
    Ok(())
}

/// The most (or, with `least`, the least) common values of a field among the
/// matching records (IVRE's `topvalues`; see [`top`] for the fields).
/// `limit` 0 means all values.
pub fn topvalues<L: HostLeaf>(
    client: &mut Client,
    flt: &Filter<L>,
    field: &str,
    limit: u64,
    least: bool,
) -> Result<Vec<TopValue>> {
    let mut out = Vec::new();
    for_each_topvalue(client, flt, field, limit, least, |v| {
        out.push(v);
        Ok::<_, Error>(())
    })?;
    Ok(out)
}

/// [`topvalues`], streamed (for `--limit 0` over many distinct values).
pub fn for_each_topvalue<L: HostLeaf, E: From<Error>>(
    client: &mut Client,
    flt: &Filter<L>,
    field: &str,
    limit: u64,
    least: bool,
    each: impl FnMut(TopValue) -> Result<(), E>,
) -> Result<(), E> {
    let page = QueryOpts {
        limit,
        ..QueryOpts::default()
    };
    for_each_topvalue_page(client, flt, field, &page, least, each)
}

/// [`for_each_topvalue`], the first `page.skip` values skipped (`--top
/// --skip`); `page.limit` 0: all values.
pub fn for_each_topvalue_page<L: HostLeaf, E: From<Error>>(
    client: &mut Client,
    flt: &Filter<L>,
    field: &str,
    page: &QueryOpts,
    least: bool,
    mut each: impl FnMut(TopValue) -> Result<(), E>,
) -> Result<(), E> {
    let mut b = SqlBuilder::new();
    let sql = topvalues_sql(&mut b, flt, field, page, least)?;
    for_each_row(client, &sql, &b.refs(), |r| each(TopValue::from_row(r)))?;
    Ok(())
}

/// The SQL of [`for_each_topvalue`], parameters added to `b`.
fn topvalues_sql<L: HostLeaf>(
    b: &mut SqlBuilder,
    flt: &Filter<L>,
    field: &str,
    page: &QueryOpts,
    least: bool,
) -> Result<String> {
    let w = b.filter(flt);
    let proj = top::projection(b, field, L::TABLES)?;
    let limit = page.limit_offset(b);
    // Without a filter, count the child rows alone (no join with scan_host).
    let from = proj.from_clause(L::TABLES.hosts(), !matches!(flt, Filter::True));
    let query = TopQuery {
        from: &from,
        filter: &w,
        cond: &proj.cond_sql(),
        value: &proj.value,
        counting: Counting {
            count: "count(*)",
            on_keys: true,
            least,
        },
        limit: &limit,
    };
    Ok(query.sql())
}

/// Deletes the matching records (and their child rows) in one transaction.
/// Returns how many were deleted. Deleting scan records marks their
/// addresses for the next view build, in the same transaction.
pub fn delete<L: HostLeaf>(client: &mut Client, flt: &Filter<L>) -> Result<u64> {
    let mut tx = client.transaction()?;
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let hosts = L::TABLES.hosts();
    let n = match L::TABLES {
        HostTables::Scan => {
            let sql = crate::view::pending::mark_deleted(&format!(
                "DELETE FROM {hosts} WHERE {w} RETURNING h.addr"
            ));
            let n: i64 = tx
                .query_one(sql.as_str(), &b.refs())
                .map_err(Error::from_query)?
                .get(0);
            // Counted first, then updated: Citus refuses a subquery on a
            // distributed table correlated with the updated table.
            tx.execute(
                "WITH c AS MATERIALIZED (SELECT file_id, count(*) AS n FROM scan_host \
                 GROUP BY file_id) \
                 UPDATE scan_file f SET host_count = \
                 coalesce((SELECT c.n FROM c WHERE c.file_id = f.id), 0)",
                &[],
            )?;
            n as u64
        }
        HostTables::View => tx
            .execute(format!("DELETE FROM {hosts} WHERE {w}").as_str(), &b.refs())
            .map_err(Error::from_query)?,
    };
    tx.commit()?;
    Ok(n)
}

/// Removes every record and import of the scan purpose (`--init`); their
/// addresses wait for the next view build. Returns how many records there
/// were.
pub fn purge(client: &mut Client) -> Result<u64> {
    let mut tx = client.transaction()?;
    // Locked first, so that the count is what the TRUNCATE removes.
    tx.batch_execute("LOCK TABLE scan_host IN ACCESS EXCLUSIVE MODE")?;
    let n: i64 = tx.query_one("SELECT count(*) FROM scan_host", &[])?.get(0);
    crate::view::pending::mark_all_scan(&mut tx)?;
    tx.batch_execute(
        "TRUNCATE scan_tag, scan_cpe, scan_osclass, scan_osmatch, scan_hop, scan_hostname, \
         scan_script, scan_port, scan_host, scan_file RESTART IDENTITY",
    )?;
    tx.commit()?;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivre_model::filter::scan::{self as s, ScanFilter};

    fn sql(flt: &ScanFilter, field: &str) -> String {
        topvalues_sql(
            &mut SqlBuilder::new(),
            flt,
            field,
            &QueryOpts {
                limit: 10,
                ..QueryOpts::default()
            },
            false,
        )
        .unwrap()
    }

    /// The statements that `--top` ran before projections were typed (the
    /// filter on an open port now reads the host's `open_ports`).
    #[test]
    fn top_sql_is_unchanged() {
        let port80 = s::port("80").unwrap();
        assert_eq!(
            sql(&Filter::True, "service"),
            "SELECT to_jsonb(x.k0) AS v, x.n FROM (SELECT p.service_name AS k0, count(*) AS n \
             FROM scan_port p WHERE (true) AND p.port <> -1 AND p.state = 'open' GROUP BY k0 \
             ORDER BY n DESC, k0 LIMIT $1::int8) x ORDER BY x.n DESC, x.k0"
        );
        assert_eq!(
            sql(&port80, "port:open"),
            "SELECT jsonb_build_array(x.k0, x.k1) AS v, x.n FROM (SELECT p.protocol AS k0, \
             p.port AS k1, count(*) AS n FROM scan_host h JOIN scan_port p ON p.host_id = h.id \
             WHERE (h.open_ports && $1::text[]) AND p.port <> -1 AND \
             p.state = $2::text GROUP BY k0, k1 ORDER BY n DESC, k0, k1 LIMIT $3::int8) x \
             ORDER BY x.n DESC, x.k0, x.k1"
        );
        assert_eq!(
            sql(&Filter::True, "cert.sha256"),
            "SELECT (e.v #> $2::text[]) AS v, count(*) AS n FROM scan_script s CROSS JOIN \
             jsonb_path_query(s.data -> 'ssl-cert', 'lax $[*]') e(v) WHERE (true) AND s.name = \
             $1::text AND (e.v #> $2::text[]) IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT \
             $3::int8"
        );
        assert_eq!(
            sql(&Filter::True, "category"),
            "SELECT to_jsonb(x.k0) AS v, x.n FROM (SELECT c.v AS k0, count(*) AS n FROM \
             scan_host h CROSS JOIN unnest(h.categories) c(v) WHERE (true) GROUP BY k0 ORDER BY \
             n DESC, k0 LIMIT $1::int8) x ORDER BY x.n DESC, x.k0"
        );
    }
}
