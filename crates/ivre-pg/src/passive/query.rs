//! The query API of the passive purpose: count, get (a stream), tail,
//! addresses, distinct, top values, delete, each taking a [`PassiveFilter`].
//! `ivre-ipinfo` (and the web API) are thin layers over these functions.
//!
//! Results stream from the server (`query_raw`): nothing is collected.
//! Field names (`--sort`, `--distinct`, `--top`) map through fixed lists;
//! `infos.<key>` paths travel as parameters.

use crate::scan::query::{explain_error, jsonpath};
use crate::scan::QueryOpts;
use crate::sql::SqlBuilder;
use anyhow::{anyhow, bail, Result};
use fallible_iterator::FallibleIterator;
use ivre_model::filter::passive::{self as p, PassiveFilter};
use ivre_model::filter::value::str2regexp;
use ivre_model::filter::Filter;
use ivre_model::passive::PassiveRecord;
use postgres::{Client, GenericClient, Row};
use serde_json::Value;

pub use crate::scan::TopValue;

const COLUMNS: &str = "p.addr, p.sensor, p.recontype, p.source, p.port, p.value, p.targetval, \
                       p.count, p.firstseen, p.lastseen, p.infos, p.schema_version";

/// The order `ivre ipinfo` prints records in.
const DEFAULT_ORDER: &str = "p.addr, p.port, p.recontype, p.source, p.id";

fn record(row: &Row) -> PassiveRecord {
    record_at(row, 0)
}

/// The record in the [`COLUMNS`] of `row`, from column `i` on.
fn record_at(row: &Row, i: usize) -> PassiveRecord {
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

fn stream_rows(
    client: &mut Client,
    sql: &str,
    b: &SqlBuilder,
    mut each: impl FnMut(&Row) -> Result<()>,
) -> Result<()> {
    let mut rows = client
        .query_raw(sql, b.refs().iter().copied())
        .map_err(explain_error)?;
    while let Some(row) = rows.next().map_err(explain_error)? {
        each(&row)?;
    }
    Ok(())
}

/// Number of matching records.
pub fn count(client: &mut impl GenericClient, flt: &PassiveFilter) -> Result<i64> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let sql = format!("SELECT count(*) FROM passive p WHERE {w}");
    Ok(client
        .query_one(sql.as_str(), &b.refs())
        .map_err(explain_error)?
        .get(0))
}

/// The query plan (`EXPLAIN`) of the count query for the filter.
pub fn explain(client: &mut impl GenericClient, flt: &PassiveFilter) -> Result<String> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let sql = format!("EXPLAIN SELECT count(*) FROM passive p WHERE {w}");
    let rows = client
        .query(sql.as_str(), &b.refs())
        .map_err(explain_error)?;
    Ok(rows
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// A sortable column or `infos` path.
fn sort_expr(b: &mut SqlBuilder, field: &str) -> Result<String> {
    Ok(match field {
        "addr" | "sensor" | "recontype" | "source" | "port" | "value" | "targetval" | "count"
        | "firstseen" | "lastseen" | "schema_version" | "id" => format!("p.{field}"),
        "_id" => "p.id".into(),
        other => match other.strip_prefix("infos.") {
            Some(path) if !path.is_empty() => {
                let keys: Vec<String> = path.split('.').map(str::to_string).collect();
                format!("(p.infos #> {})", b.param(keys, "text[]"))
            }
            _ => bail!(
                "cannot sort on {other:?} (addr, sensor, recontype, source, port, value, \
                 targetval, count, firstseen, lastseen, schema_version or infos.KEY)"
            ),
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

fn limit_offset(b: &mut SqlBuilder, opts: &QueryOpts) -> String {
    let mut s = String::new();
    if opts.limit > 0 {
        s += &format!(" LIMIT {}", b.param(opts.limit as i64, "int8"));
    }
    if opts.skip > 0 {
        s += &format!(" OFFSET {}", b.param(opts.skip as i64, "int8"));
    }
    s
}

/// Calls `each` with every matching record, streaming; by default sorted
/// by addr, port, recontype, source (as `ivre ipinfo` prints them).
pub fn get(
    client: &mut Client,
    flt: &PassiveFilter,
    opts: &QueryOpts,
    mut each: impl FnMut(PassiveRecord) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let order = order_by(&mut b, &opts.sort)?;
    let lim = limit_offset(&mut b, opts);
    let sql = format!("SELECT {COLUMNS} FROM passive p WHERE {w} ORDER BY {order}{lim}");
    stream_rows(client, &sql, &b, |row| each(record(row)))
}

/// The `n` most recently first seen (`--tail`) or, with `by_lastseen`,
/// last seen (`--tailnew`) records, oldest first.
pub fn tail(
    client: &mut Client,
    flt: &PassiveFilter,
    n: u64,
    by_lastseen: bool,
    mut each: impl FnMut(PassiveRecord) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let col = if by_lastseen { "lastseen" } else { "firstseen" };
    let n = b.param(n as i64, "int8");
    let sql = format!(
        "SELECT {COLUMNS} FROM (SELECT * FROM passive p WHERE {w} \
         ORDER BY p.{col} DESC, p.id DESC LIMIT {n}) p ORDER BY p.{col}, p.id"
    );
    stream_rows(client, &sql, &b, |row| each(record(row)))
}

/// Follows the store (`--tailf`: by last seen; `--tailfnew`, i.e. not
/// `by_lastseen`: by first seen): the 10 latest records, then, every
/// `interval`, the records seen after the latest time already shown.
/// Returns only when `each` fails (e.g. a closed pipe).
pub fn follow(
    client: &mut Client,
    flt: &PassiveFilter,
    by_lastseen: bool,
    interval: std::time::Duration,
    mut each: impl FnMut(PassiveRecord) -> Result<()>,
) -> Result<()> {
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
pub fn addresses(
    client: &mut Client,
    flt: &PassiveFilter,
    mut each: impl FnMut(String) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let sql = format!(
        "SELECT host(a) FROM (SELECT DISTINCT p.addr AS a FROM passive p \
         WHERE p.addr IS NOT NULL AND ({w})) x ORDER BY a"
    );
    stream_rows(client, &sql, &b, |row| each(row.get(0)))
}

/// Distinct values of a field (see [`projection`] for the fields), sorted.
pub fn distinct(
    client: &mut Client,
    flt: &PassiveFilter,
    field: &str,
    mut each: impl FnMut(Value) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    // Plain sources here; `--top source` counts (recontype, source) pairs.
    let proj = match field {
        "source" => column("source"),
        _ => projection(&mut b, field)?,
    };
    let sql = format!(
        "SELECT DISTINCT {value} AS v FROM passive p{from} WHERE ({w}){cond} ORDER BY 1",
        value = proj.value,
        from = proj.from,
        cond = proj.cond,
    );
    stream_rows(client, &sql, &b, |row| {
        each(row.get::<_, Option<Value>>(0).unwrap_or(Value::Null))
    })
}

/// What `topvalues` / `distinct` group on: extra FROM items, conditions
/// (`AND ...`) and the value (jsonb).
#[derive(Debug, Default)]
pub struct Projection {
    pub from: String,
    pub cond: String,
    pub value: String,
}

fn proj(from: &str, cond: String, value: &str) -> Projection {
    Projection {
        from: from.into(),
        cond,
        value: value.into(),
    }
}

fn column(col: &str) -> Projection {
    proj(
        "",
        format!(" AND p.{col} IS NOT NULL"),
        &format!("to_jsonb(p.{col})"),
    )
}

const HASSH_TYPES: &str = "p.recontype IN ('SSH_CLIENT_HASSH', 'SSH_SERVER_HASSH')";
const SSHKEY: &str = " AND p.recontype = 'SSH_SERVER_HOSTKEY' AND p.source = 'SSHv2'";

/// A value at a path of `infos` (lists unwound), as a projection.
fn infos_path(b: &mut SqlBuilder, path: &str, cond: &str) -> Result<Projection> {
    let jp = format!("{}::jsonpath", b.param(jsonpath(path)?, "text"));
    Ok(proj(
        &format!(" CROSS JOIN jsonb_path_query(p.infos, {jp}) j(v)"),
        format!("{cond} AND j.v <> 'null'::jsonb"),
        "j.v",
    ))
}

/// The projection of a `--top` / `--distinct` field (IVRE's `topvalues`
/// vocabulary, spec 3.3): `addr`, `net[:MASK]`, `domains[:N|:SUFFIX[:N]]`,
/// `sensor`, `recontype`, `source` (as `(recontype, source)` pairs, as
/// IVRE's reference backend counts them), `port`, `value`, `targetval`, `count`,
/// `schema_version`, `infos.KEY[.SUB]`, `useragent[:REGEX]`,
/// `hassh[-client|-server][.md5|.sha1|.sha256|.raw]`, `sshkey.bits`,
/// `sshkey.keytype`, `sshkey.fingerprint`, `sshkey.key`, `sshkey.KEY`.
pub fn projection(b: &mut SqlBuilder, field: &str) -> Result<Projection> {
    let (head, arg) = match field.split_once(':') {
        Some((h, a)) => (h, Some(a)),
        None => (field, None),
    };
    Ok(match head {
        "addr" => proj(
            "",
            " AND p.addr IS NOT NULL".into(),
            "to_jsonb(host(p.addr))",
        ),
        "net" => {
            let mask: i32 = match arg {
                Some(m) => m
                    .parse()
                    .ok()
                    .filter(|m| (0..=32).contains(m))
                    .ok_or_else(|| anyhow!("invalid mask in {field:?} (0 to 32)"))?,
                None => 24,
            };
            let m = b.param(mask, "int4");
            proj(
                "",
                " AND family(p.addr) = 4".into(),
                &format!("to_jsonb(network(set_masklen(p.addr, {m}))::text)"),
            )
        }
        "domains" => {
            let mut cond = " AND p.recontype = 'DNS_ANSWER'".to_string();
            let (suffix, labels) = match arg {
                None => (None, None),
                Some(a) => match a.split_once(':') {
                    Some((s, n)) => (Some(s), Some(n)),
                    None if a.bytes().all(|c| c.is_ascii_digit()) => (None, Some(a)),
                    None => (Some(a), None),
                },
            };
            if let Some(s) = suffix.filter(|s| !s.is_empty()) {
                let s = s.trim_start_matches('.').to_lowercase();
                let p = b.param(format!(".{s}"), "text");
                cond += &format!(" AND right(d.v, length({p})) = {p}");
            }
            if let Some(n) = labels {
                let n: i32 = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow!("invalid number of labels in {field:?}"))?;
                let n = b.param(n, "int4");
                cond += &format!(" AND cardinality(string_to_array(d.v, '.')) = {n}");
            }
            proj(
                " CROSS JOIN jsonb_array_elements_text(CASE WHEN jsonb_typeof(p.infos -> 'domain') \
                 = 'array' THEN p.infos -> 'domain' END) d(v)",
                cond,
                "to_jsonb(d.v)",
            )
        }
        "source" if arg.is_none() => proj(
            "",
            " AND p.source IS NOT NULL".into(),
            "jsonb_build_array(p.recontype, p.source)",
        ),
        "sensor" | "recontype" | "port" | "value" | "targetval" | "count" | "schema_version"
            if arg.is_none() =>
        {
            column(head)
        }
        "useragent" => {
            let mut cond =
                " AND p.recontype = 'HTTP_CLIENT_HEADER' AND p.source = 'USER-AGENT'".to_string();
            if let Some(a) = arg {
                cond += &format!(" AND {}", b.text_match("p.value", &str2regexp(a)?));
            }
            proj("", cond, "to_jsonb(p.value)")
        }
        _ if head.starts_with("hassh") => {
            let (kind, sub) = match head.split_once('.') {
                Some((k, s)) => (k, s),
                None => (head, "md5"),
            };
            let types = match kind {
                "hassh" => HASSH_TYPES,
                "hassh-client" => "p.recontype = 'SSH_CLIENT_HASSH'",
                "hassh-server" => "p.recontype = 'SSH_SERVER_HASSH'",
                _ => bail!("unknown field {field:?}"),
            };
            match sub {
                "md5" => proj("", format!(" AND {types}"), "to_jsonb(p.value)"),
                "sha1" | "sha256" | "raw" => infos_path(b, sub, &format!(" AND {types}"))?,
                _ => bail!("unknown field {field:?} (hassh.md5, .sha1, .sha256 or .raw)"),
            }
        }
        "sshkey.bits" => proj(
            "",
            format!("{SSHKEY} AND p.infos ? 'bits'"),
            "jsonb_build_array(CASE p.infos ->> 'algo' WHEN 'ssh-rsa' THEN 'RSA' \
             WHEN 'ssh-dss' THEN 'DSA' WHEN 'ssh-ed25519' THEN 'ED25519' \
             ELSE upper(split_part(p.infos ->> 'algo', '-', 1)) END, p.infos -> 'bits')",
        ),
        "sshkey.keytype" => infos_path(b, "algo", SSHKEY)?,
        "sshkey.fingerprint" => infos_path(b, "md5", SSHKEY)?,
        "sshkey.key" => proj("", SSHKEY.into(), "to_jsonb(p.value)"),
        _ => {
            if let Some(key) = head.strip_prefix("sshkey.") {
                infos_path(b, key, SSHKEY)?
            } else if let Some(path) = head.strip_prefix("infos.") {
                infos_path(b, path, "")?
            } else {
                bail!(
                    "unknown field {field:?} (addr, net[:MASK], domains[:N|:SUFFIX[:N]], sensor, \
                     recontype, source, port, value, targetval, count, infos.KEY, \
                     useragent[:REGEX], hassh[-client|-server][.md5|.sha1|.sha256|.raw], \
                     sshkey.bits|keytype|fingerprint|key|KEY)"
                )
            }
        }
    })
}

/// The most (or, with `least`, the least) common values of a field among
/// the matching records (IVRE's `topvalues`), streamed. `distinct`: count
/// records; otherwise sum their `count` (observations). `limit` 0: all.
pub fn for_each_topvalue(
    client: &mut Client,
    flt: &PassiveFilter,
    field: &str,
    limit: u64,
    least: bool,
    distinct: bool,
    mut each: impl FnMut(TopValue) -> Result<()>,
) -> Result<()> {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let proj = projection(&mut b, field)?;
    let n = if distinct {
        "count(*)"
    } else {
        "sum(p.count)::int8"
    };
    let mut sql = format!(
        "SELECT {value} AS v, {n} AS n FROM passive p{from} WHERE ({w}){cond} \
         GROUP BY 1 ORDER BY 2 {dir}, 1",
        value = proj.value,
        from = proj.from,
        cond = proj.cond,
        dir = if least { "ASC" } else { "DESC" },
    );
    if limit > 0 {
        sql += &format!(" LIMIT {}", b.param(limit as i64, "int8"));
    }
    stream_rows(client, &sql, &b, |r| {
        each(TopValue {
            value: r.get::<_, Option<Value>>(0).unwrap_or(Value::Null),
            count: r.get(1),
        })
    })
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
        Ok(())
    })?;
    Ok(out)
}

/// Deletes the matching records in one transaction; returns how many.
pub fn delete(client: &mut Client, flt: &PassiveFilter) -> Result<u64> {
    let mut tx = client.transaction()?;
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let sql = format!("DELETE FROM passive p WHERE {w}");
    let n = tx.execute(sql.as_str(), &b.refs()).map_err(explain_error)?;
    tx.commit()?;
    Ok(n)
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
    let rows = tx.query(sql.as_str(), &b.refs()).map_err(explain_error)?;
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
        tx.execute("DELETE FROM passive WHERE id = $1", &[&id])?;
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
        Ok(())
    })?;
    loader.commit()?;
    Ok(n)
}

/// Removes every passive record (`--init`).
pub fn purge(client: &mut Client) -> Result<()> {
    client.batch_execute("TRUNCATE passive RESTART IDENTITY")?;
    Ok(())
}

/// Whether a filter is "match everything" (ipinfo's std mode without a filter).
pub fn is_empty(flt: &PassiveFilter) -> bool {
    matches!(flt, Filter::True)
}
