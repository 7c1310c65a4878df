//! The query API of the passive purpose: count, get (a stream), tail,
//! addresses, distinct, top values, delete, each taking a [`PassiveFilter`].
//! `ivre-ipinfo` (and the web API) are thin layers over these functions;
//! what every purpose shares is in [`crate::query`].
//!
//! Results stream from the server (`query_raw`): nothing is collected.
//! Streaming functions take a callback whose error type is the caller's.
//! Field names (`--sort`, `--distinct`, `--top`) map through fixed lists;
//! `infos.<key>` paths travel as parameters.

use super::top::{self, column};
use crate::query::projection::{Counting, TopQuery, TopValue};
use crate::query::{self, for_each_row, json_path, QueryOpts};
use crate::sql::SqlBuilder;
use crate::{Error, Result};
use ivre_model::filter::passive::{self as p, PassiveFilter};
use ivre_model::filter::Filter;
use ivre_model::passive::PassiveRecord;
use postgres::{Client, GenericClient, Row};
use serde_json::Value;

const RECORDS: &str = "passive p";

pub(crate) const COLUMNS: &str =
    "p.addr, p.sensor, p.recontype, p.source, p.port, p.value, p.targetval, \
                       p.count, p.firstseen, p.lastseen, p.infos, p.schema_version";

/// The order `ivre ipinfo` prints records in.
const DEFAULT_ORDER: &str = "p.addr, p.port, p.recontype, p.source, p.id";

fn record(row: &Row) -> PassiveRecord {
    record_at(row, 0)
}

/// The record in the [`COLUMNS`] of `row`, from column `i` on.
pub(crate) fn record_at(row: &Row, i: usize) -> PassiveRecord {
    let infos: Option<Value> = row.get(i + 10);
    PassiveRecord {
        addr: row.get(i),
        sensor: row.get(i + 1),
        recontype: row.get(i + 2),
        source: row.get(i + 3),
        port: row
            .get::<_, Option<i32>>(i + 4)
            .and_then(|p| u16::try_from(p).ok()),
        value: row.get(i + 5),
        targetval: row.get(i + 6),
        count: u64::try_from(row.get::<_, i64>(i + 7)).unwrap_or(0),
        firstseen: row.get(i + 8),
        lastseen: row.get(i + 9),
        infos: match infos {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        },
        schema_version: u32::try_from(row.get::<_, i32>(i + 11)).unwrap_or(0),
    }
}

/// Number of matching records.
pub fn count(client: &mut impl GenericClient, flt: &PassiveFilter) -> Result<i64> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    query::count(client, RECORDS, &w, &b)
}

/// The query plan (`EXPLAIN`) of the count query for the filter.
pub fn explain(client: &mut impl GenericClient, flt: &PassiveFilter) -> Result<String> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    query::explain(client, RECORDS, &w, &b)
}

/// A sortable column or `infos` path.
fn sort_expr(b: &mut SqlBuilder, field: &str) -> Result<String> {
    Ok(match field {
        "addr" | "sensor" | "recontype" | "source" | "port" | "value" | "targetval" | "count"
        | "firstseen" | "lastseen" | "schema_version" | "id" => format!("p.{field}"),
        "_id" => "p.id".into(),
        other => match other.strip_prefix("infos.") {
            Some(path) if !path.is_empty() => json_path(b, "p.infos", path),
            _ => {
                return Err(Error::BadFilter(format!(
                    "cannot sort on {other:?} (addr, sensor, recontype, source, port, value, \
                     targetval, count, firstseen, lastseen, schema_version or infos.KEY)"
                )))
            }
        },
    })
}

fn order_by(b: &mut SqlBuilder, sort: &[(String, bool)]) -> Result<String> {
    if sort.is_empty() {
        return Ok(DEFAULT_ORDER.into());
    }
    let mut keys = Vec::new();
    for (field, desc) in sort {
        let e = sort_expr(b, field)?;
        keys.push(format!("{e} {}", if *desc { "DESC" } else { "ASC" }));
    }
    keys.push("p.id".into());
    Ok(keys.join(", "))
}

/// Calls `each` with every matching record, streaming; by default sorted
/// by addr, port, recontype, source (as `ivre ipinfo` prints them).
pub fn get<E: From<Error>>(
    client: &mut Client,
    flt: &PassiveFilter,
    opts: &QueryOpts,
    mut each: impl FnMut(PassiveRecord) -> Result<(), E>,
) -> Result<(), E> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let order = order_by(&mut b, &opts.sort)?;
    let lim = opts.limit_offset(&mut b);
    let sql = format!("SELECT {COLUMNS} FROM {RECORDS} WHERE {w} ORDER BY {order}{lim}");
    for_each_row(client, &sql, &b.refs(), |row| each(record(row)))?;
    Ok(())
}

/// The `n` most recently first seen (`--tail`) or, with `by_lastseen`,
/// last seen (`--tailnew`) records, oldest first.
pub fn tail<E: From<Error>>(
    client: &mut Client,
    flt: &PassiveFilter,
    n: u64,
    by_lastseen: bool,
    mut each: impl FnMut(PassiveRecord) -> Result<(), E>,
) -> Result<(), E> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let col = if by_lastseen { "lastseen" } else { "firstseen" };
    let n = b.param(n as i64, "int8");
    let sql = format!(
        "SELECT {COLUMNS} FROM (SELECT * FROM {RECORDS} WHERE {w} \
         ORDER BY p.{col} DESC, p.id DESC LIMIT {n}) p ORDER BY p.{col}, p.id"
    );
    for_each_row(client, &sql, &b.refs(), |row| each(record(row)))?;
    Ok(())
}

/// Follows the store (`--tailf`: by last seen; `--tailfnew`, i.e. not
/// `by_lastseen`: by first seen): the 10 latest records, then, every
/// `interval`, the records seen after the latest time already shown.
/// Returns only when `each` fails (e.g. a closed pipe).
pub fn follow<E: From<Error>>(
    client: &mut Client,
    flt: &PassiveFilter,
    by_lastseen: bool,
    interval: std::time::Duration,
    mut each: impl FnMut(PassiveRecord) -> Result<(), E>,
) -> Result<(), E> {
    let time = |r: &PassiveRecord| if by_lastseen { r.lastseen } else { r.firstseen };
    let mut last = None;
    tail(client, flt, 10, by_lastseen, |r| {
        last = last.max(Some(time(&r)));
        each(r)
    })?;
    loop {
        std::thread::sleep(interval);
        let f = match last {
            Some(t) => flt.clone().and(p::newer(t, !by_lastseen)),
            None => flt.clone(),
        };
        let opts = QueryOpts {
            sort: vec![(
                (if by_lastseen { "lastseen" } else { "firstseen" }).into(),
                false,
            )],
            ..Default::default()
        };
        get(client, &f, &opts, |r| {
            last = last.max(Some(time(&r)));
            each(r)
        })?;
    }
}

/// Distinct addresses of the matching records, sorted (`--short`).
pub fn addresses<E: From<Error>>(
    client: &mut Client,
    flt: &PassiveFilter,
    each: impl FnMut(String) -> Result<(), E>,
) -> Result<(), E> {
    addresses_page(client, flt, &QueryOpts::default(), each)
}

/// [`addresses`], `opts.skip` of them skipped and at most `opts.limit`
/// (`--short --skip --limit`; the sort is the addresses').
pub fn addresses_page<E: From<Error>>(
    client: &mut Client,
    flt: &PassiveFilter,
    opts: &QueryOpts,
    mut each: impl FnMut(String) -> Result<(), E>,
) -> Result<(), E> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let page = opts.limit_offset(&mut b);
    let sql = format!(
        "SELECT host(a) FROM (SELECT DISTINCT p.addr AS a FROM {RECORDS} \
         WHERE p.addr IS NOT NULL AND ({w})) x ORDER BY a{page}"
    );
    for_each_row(client, &sql, &b.refs(), |row| each(row.get(0)))?;
    Ok(())
}

/// Distinct values of a field (see [`top::projection`] for the fields),
/// sorted.
pub fn distinct<E: From<Error>>(
    client: &mut Client,
    flt: &PassiveFilter,
    field: &str,
    each: impl FnMut(Value) -> Result<(), E>,
) -> Result<(), E> {
    distinct_page(client, flt, field, &QueryOpts::default(), each)
}

/// [`distinct`], `opts.skip` values skipped and at most `opts.limit`
/// (`--distinct --skip --limit`; the sort is the values').
pub fn distinct_page<E: From<Error>>(
    client: &mut Client,
    flt: &PassiveFilter,
    field: &str,
    opts: &QueryOpts,
    mut each: impl FnMut(Value) -> Result<(), E>,
) -> Result<(), E> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    // Plain sources here; `--top source` counts (recontype, source) pairs.
    let proj = match field {
        "source" => column("source"),
        _ => top::projection(&mut b, field)?,
    };
    let page = opts.limit_offset(&mut b);
    let sql = format!(
        "SELECT DISTINCT {value} AS v FROM {RECORDS}{from} WHERE ({w}){cond} ORDER BY 1{page}",
        value = proj.value.sql(),
        from = proj.joins(),
        cond = proj.cond_sql(),
    );
    for_each_row(client, &sql, &b.refs(), |row| {
        each(row.get::<_, Option<Value>>(0).unwrap_or(Value::Null))
    })?;
    Ok(())
}

/// The most (or, with `least`, the least) common values of a field among
/// the matching records (IVRE's `topvalues`), streamed. `distinct`: count
/// records; otherwise sum their `count` (observations). `limit` 0: all.
/// Values are grouped as jsonb (scan groups on the plain keys instead).
pub fn for_each_topvalue<E: From<Error>>(
    client: &mut Client,
    flt: &PassiveFilter,
    field: &str,
    limit: u64,
    least: bool,
    distinct: bool,
    each: impl FnMut(TopValue) -> Result<(), E>,
) -> Result<(), E> {
    let page = QueryOpts {
        limit,
        ..QueryOpts::default()
    };
    for_each_topvalue_page(client, flt, field, &page, least, distinct, each)
}

/// [`for_each_topvalue`], the first `page.skip` values skipped (`--top
/// --skip`); `page.limit` 0: all values.
pub fn for_each_topvalue_page<E: From<Error>>(
    client: &mut Client,
    flt: &PassiveFilter,
    field: &str,
    page: &QueryOpts,
    least: bool,
    distinct: bool,
    mut each: impl FnMut(TopValue) -> Result<(), E>,
) -> Result<(), E> {
    let mut b = SqlBuilder::new();
    let sql = topvalues_sql(&mut b, flt, field, page, least, distinct)?;
    for_each_row(client, &sql, &b.refs(), |r| each(TopValue::from_row(r)))?;
    Ok(())
}

/// The SQL of [`for_each_topvalue`], parameters added to `b`.
fn topvalues_sql(
    b: &mut SqlBuilder,
    flt: &PassiveFilter,
    field: &str,
    page: &QueryOpts,
    least: bool,
    distinct: bool,
) -> Result<String> {
    let w = b.filter(flt);
    let proj = top::projection(b, field)?;
    let limit = page.limit_offset(b);
    let query = TopQuery {
        from: &format!("{RECORDS}{}", proj.joins()),
        filter: &w,
        cond: &proj.cond_sql(),
        value: &proj.value,
        counting: Counting {
            count: if distinct {
                "count(*)"
            } else {
                "sum(p.count)::int8"
            },
            on_keys: false,
            least,
        },
        limit: &limit,
    };
    Ok(query.sql())
}

/// [`for_each_topvalue`], collected.
pub fn topvalues(
    client: &mut Client,
    flt: &PassiveFilter,
    field: &str,
    limit: u64,
    least: bool,
    distinct: bool,
) -> Result<Vec<TopValue>> {
    let mut out = Vec::new();
    for_each_topvalue(client, flt, field, limit, least, distinct, |v| {
        out.push(v);
        Ok::<_, Error>(())
    })?;
    Ok(out)
}

/// Deletes the matching records in one transaction (which marks their
/// addresses for the next view build); returns how many.
pub fn delete(client: &mut Client, flt: &PassiveFilter) -> Result<u64> {
    let mut tx = client.transaction()?;
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let sql = crate::view::pending::mark_deleted(&format!(
        "DELETE FROM passive p WHERE {w} RETURNING p.addr"
    ));
    let n: i64 = tx
        .query_one(sql.as_str(), &b.refs())
        .map_err(Error::from_query)?
        .get(0);
    tx.commit()?;
    Ok(n as u64)
}

/// IVRE's `--dnsbl-update`: turns the stored `DNS_ANSWER` records (among
/// those matching `flt`) that are DNS blacklist lookups under one of the
/// zones of `config` into `DNS_BLACKLIST` records, as the importer does
/// for new observations (the converted record merges with an existing one
/// of the same identity; unlike IVRE, the sensor is kept). One transaction.
/// Returns how many records were converted.
pub fn dnsbl_update(
    client: &mut Client,
    flt: &PassiveFilter,
    config: &ivre_model::passive::NormalizeConfig,
) -> Result<u64> {
    let mut tx = client.transaction()?;
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let zones = b.param(config.dnsbl_zones.clone(), "text[]");
    // Candidates only (a name under a zone); the importer's rules decide.
    let sql = format!(
        "SELECT p.id, {COLUMNS} FROM passive p WHERE p.recontype = 'DNS_ANSWER' \
         AND p.addr IS NOT NULL AND ({w}) AND EXISTS (SELECT 1 FROM unnest({zones}) z(v) \
         WHERE right(rtrim(lower(p.value), '.'), length(z.v) + 1) = '.' || lower(z.v)) \
         ORDER BY p.id"
    );
    let rows = tx
        .query(sql.as_str(), &b.refs())
        .map_err(Error::from_query)?;
    let mut converted = 0;
    for row in &rows {
        let id: i64 = row.get(0);
        let old = record_at(row, 1);
        let new: Vec<PassiveRecord> = ivre_model::passive::process(old, config, None)
            .into_iter()
            .filter(|r| r.recontype == "DNS_BLACKLIST")
            .collect();
        if new.is_empty() {
            continue;
        }
        for r in &new {
            upsert(&mut tx, r)?;
        }
        let delete =
            crate::view::pending::mark_deleted("DELETE FROM passive WHERE id = $1 RETURNING addr");
        tx.query_one(delete.as_str(), &[&id])?;
        let addrs: Vec<_> = new.iter().filter_map(|r| r.addr).collect();
        crate::view::pending::mark_addrs(&mut tx, &addrs)?;
        converted += 1;
    }
    tx.commit()?;
    Ok(converted)
}

/// Inserts one record or merges it into the stored one of the same identity.
fn upsert(tx: &mut postgres::Transaction, r: &PassiveRecord) -> Result<()> {
    let addr = r.addr.map(|a| a.to_string());
    let port = r.port.map(i32::from);
    let key = super::identity_hash(
        addr.as_deref(),
        r.sensor.as_deref(),
        &r.recontype,
        port.map(i64::from),
        r.source.as_deref(),
        &r.value,
        r.targetval.as_deref(),
    );
    let infos = r.infos.clone().filter(|m| !m.is_empty()).map(Value::Object);
    tx.execute(
        "INSERT INTO passive (key_hash, addr, sensor, recontype, source, port, value, targetval,
             count, firstseen, lastseen, infos, schema_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (key_hash) DO UPDATE SET
             count = passive.count + excluded.count,
             firstseen = least(passive.firstseen, excluded.firstseen),
             lastseen = greatest(passive.lastseen, excluded.lastseen)",
        &[
            &key.as_slice(),
            &r.addr,
            &r.sensor,
            &r.recontype,
            &r.source,
            &port,
            &r.value,
            &r.targetval,
            &i64::try_from(r.count).unwrap_or(i64::MAX),
            &r.firstseen,
            &r.lastseen,
            &infos,
            &(r.schema_version as i32),
        ],
    )?;
    Ok(())
}

/// IVRE's `--to-db`: copies the matching records into another database's
/// store, merging them with the records of the same identity there (counts
/// summed, first seen min, last seen max), in transactions of `batch`
/// records. Streams: the records are never all in memory.
pub fn copy_to(
    src: &mut Client,
    flt: &PassiveFilter,
    dst: &mut Client,
    batch: usize,
) -> Result<u64> {
    let mut loader = super::PassiveLoader::new(dst)?;
    let mut n = 0;
    let opts = QueryOpts {
        sort: vec![("id".into(), false)],
        ..Default::default()
    };
    get(src, flt, &opts, |r| {
        loader.add(&r);
        n += 1;
        if loader.pending() >= batch.max(1) {
            loader.commit()?;
        }
        Ok::<_, Error>(())
    })?;
    loader.commit()?;
    Ok(n)
}

/// Removes every passive record (`--init`); returns how many there were.
pub fn purge(client: &mut Client) -> Result<u64> {
    let mut tx = client.transaction()?;
    // Locked first, so that the count is what the TRUNCATE removes.
    tx.batch_execute("LOCK TABLE passive IN ACCESS EXCLUSIVE MODE")?;
    let n: i64 = tx.query_one("SELECT count(*) FROM passive", &[])?.get(0);
    crate::view::pending::mark_all_passive(&mut tx)?;
    tx.batch_execute("TRUNCATE passive RESTART IDENTITY")?;
    tx.commit()?;
    Ok(n as u64)
}

/// Whether a filter is "match everything" (ipinfo's std mode without a filter).
pub fn is_empty(flt: &PassiveFilter) -> bool {
    matches!(flt, Filter::True)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statements that `--top` ran before projections were typed.
    #[test]
    fn top_sql_is_unchanged() {
        let sql = |field: &str, distinct: bool| {
            topvalues_sql(
                &mut SqlBuilder::new(),
                &Filter::True,
                field,
                &QueryOpts {
                    limit: 10,
                    ..QueryOpts::default()
                },
                false,
                distinct,
            )
            .unwrap()
        };
        assert_eq!(
            sql("source", true),
            "SELECT jsonb_build_array(p.recontype, p.source) AS v, count(*) AS n FROM passive p \
             WHERE (true) AND p.source IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $1::int8"
        );
        assert_eq!(
            sql("domains:com", false),
            "SELECT to_jsonb(d.v) AS v, sum(p.count)::int8 AS n FROM passive p CROSS JOIN \
             jsonb_array_elements_text(CASE WHEN jsonb_typeof(p.infos -> 'domain') = 'array' \
             THEN p.infos -> 'domain' END) d(v) WHERE (true) AND p.recontype = 'DNS_ANSWER' AND \
             right(d.v, length($1::text)) = $1::text GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2::int8"
        );
    }
}
