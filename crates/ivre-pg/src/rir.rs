//! The rir purpose (table `rir`, migration 0017): RIR whois objects loaded
//! from RPSL dumps, the narrowest range holding an address
//! ([`rir_lookup`]), full-text and country searches ([`rir_search`],
//! [`rir_count`], [`rir_distinct`]). The web API's `/rir` routes and the
//! MCP tools are meant to call these too.
//!
//! A dump is imported in one transaction together with its `rir_file` row
//! ([`insert_file`]): a killed import leaves nothing, a finished one is
//! recorded, and a recorded content is skipped.

use crate::copy::CopyBuffer;
use crate::{Error, Result};
use ivre_model::rir::{RirKind, RirObject};
use postgres::types::ToSql;
use postgres::Client;
use serde_json::{Map, Value};
use std::net::IpAddr;

/// First key of the advisory lock taken by an import ("RIR ").
const LOCK_CLASS: i32 = 0x5249_5220;
/// Bytes of COPY data sent at once.
const FLUSH_BYTES: usize = 8 << 20;

/// What became of a file given to [`insert_file`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored: this many objects.
    Objects(u64),
    /// Its content was imported before: nothing done.
    AlreadyImported,
}

/// Imports the objects of one dump, known by `sha256` (of its decompressed
/// content), in one transaction. An `Err` from `objects` (a fatal read
/// error) aborts the import: nothing of the file is kept, and the error is
/// returned as [`Error::InvalidRecord`].
pub fn insert_file(
    client: &mut Client,
    name: &str,
    sha256: &str,
    objects: impl Iterator<Item = std::result::Result<RirObject, String>>,
) -> Result<Inserted> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&LOCK_CLASS, &sha256],
    )?;
    if tx
        .query_opt("SELECT 1 FROM rir_file WHERE sha256 = $1", &[&sha256])?
        .is_some()
    {
        return Ok(Inserted::AlreadyImported);
    }
    let file_id: i64 = tx
        .query_one(
            "INSERT INTO rir_file (sha256, name, objects) VALUES ($1, $2, 0) RETURNING id",
            &[&sha256, &name],
        )?
        .get(0);
    let base = std::path::Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_string());
    let mut copy = CopyBuffer::new(
        "rir",
        [
            "kind",
            "start",
            "stop",
            "size",
            "net",
            "aut_num",
            "netname",
            "descr",
            "country",
            "as_name",
            "attrs",
            "file_id",
            "source_file",
            "source_hash",
        ],
    );
    let mut n = 0u64;
    for obj in objects {
        let obj = obj.map_err(Error::InvalidRecord)?;
        let (start, stop, size) = match &obj.range {
            Some(r) => (
                Some(r.first()),
                Some(r.last()),
                Some((r.stop - r.start).to_string()),
            ),
            None => (None, None, None),
        };
        // size = stop - start + 1, which overflows u128 for ::/0 only.
        let size = size.map(|s| plus_one(&s));
        let net = obj.range.as_ref().map(|r| {
            format!(
                "[{},{}]",
                addr_key(r.family, r.start),
                addr_key(r.family, r.stop)
            )
        });
        copy.text(obj.kind.as_str())
            .opt_ip(start.as_ref())
            .opt_ip(stop.as_ref())
            .opt_text(size.as_deref())
            .opt_text(net.as_deref())
            .opt_int(obj.aut_num.map(i64::from))
            .opt_text(obj.netname().as_deref())
            .opt_text(obj.descr().as_deref())
            .opt_text(obj.country().as_deref())
            .opt_text(obj.as_name().as_deref())
            .json(&obj.attrs)
            .int(file_id)
            .text(&base)
            .text(sha256);
        copy.end_row();
        n += 1;
        if copy.bytes() >= FLUSH_BYTES {
            copy.flush(&mut tx)?;
        }
    }
    copy.flush(&mut tx)?;
    tx.execute(
        "UPDATE rir_file SET objects = $2, imported_at = now() WHERE id = $1",
        &[&file_id, &(n as i64)],
    )?;
    tx.commit().map_err(Error::at_commit)?;
    // Fresh statistics: right after a bulk load, the planner would not
    // know the table grew and scan it instead of using the range index
    // (1000 lookups: 15 s instead of well under 1 s on 100000 objects).
    client.batch_execute("ANALYZE rir")?;
    Ok(Inserted::Objects(n))
}

/// The key of an address in `rir.net` (decimal): IPv4 addresses are
/// their integer, IPv6 ones their integer plus 2^129, so that the ranges of
/// the two families never overlap.
pub fn addr_key(family: ivre_model::ipcalc::Family, n: u128) -> String {
    match family {
        ivre_model::ipcalc::Family::V4 => n.to_string(),
        // 2^129 + n = 2 * 2^128 + n: add 2^128 twice, in decimal.
        ivre_model::ipcalc::Family::V6 => {
            add_decimal("680564733841876926926749214863536422912", &n.to_string())
        }
    }
}

/// The key of `addr` (see [`addr_key`]).
fn key_of(addr: IpAddr) -> String {
    addr_key(
        ivre_model::ipcalc::Family::of(addr),
        ivre_model::ipcalc::addr_to_int(addr),
    )
}

/// The sum of two decimal integers, in decimal.
fn add_decimal(a: &str, b: &str) -> String {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0u8;
    for i in 0..a.len().max(b.len()) {
        let da = if i < a.len() {
            a[a.len() - 1 - i] - b'0'
        } else {
            0
        };
        let db = if i < b.len() {
            b[b.len() - 1 - i] - b'0'
        } else {
            0
        };
        let d = da + db + carry;
        out.push(b'0' + d % 10);
        carry = d / 10;
    }
    if carry > 0 {
        out.push(b'0' + carry);
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `s` (a decimal integer) plus one, in decimal.
fn plus_one(s: &str) -> String {
    let mut digits: Vec<u8> = s.bytes().collect();
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return String::from_utf8(digits).unwrap_or_default();
        }
    }
    digits.insert(0, b'1');
    String::from_utf8(digits).unwrap_or_default()
}

/// Removes every RIR object and import record (`--init`); returns how
/// many objects there were.
pub fn purge(client: &mut Client) -> Result<u64> {
    let mut tx = client.transaction()?;
    tx.batch_execute("LOCK TABLE rir, rir_file IN ACCESS EXCLUSIVE MODE")?;
    let n: i64 = tx.query_one("SELECT count(*) FROM rir", &[])?.get(0);
    tx.batch_execute("TRUNCATE rir, rir_file RESTART IDENTITY")?;
    tx.commit()?;
    Ok(n as u64)
}

/// One stored object, as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct RirRecord {
    pub kind: String,
    pub start: Option<IpAddr>,
    pub stop: Option<IpAddr>,
    /// Decimal (up to 2^128).
    pub size: Option<String>,
    pub aut_num: Option<i64>,
    pub netname: Option<String>,
    pub country: Option<String>,
    /// Every attribute in order, as written.
    pub attrs: Vec<(String, String)>,
    pub source_file: String,
    pub source_hash: String,
}

impl RirRecord {
    /// The range, when it is one.
    pub fn range(&self) -> Option<ivre_model::ipcalc::Range> {
        let (a, b) = (self.start?, self.stop?);
        ivre_model::ipcalc::Range::parse(&a.to_string(), &b.to_string()).ok()
    }

    /// The attributes grouped by key, in order of first appearance, the
    /// values of a repeated key joined with newlines.
    pub fn grouped(&self) -> Vec<(&str, String)> {
        let mut out: Vec<(&str, String)> = Vec::new();
        for (k, v) in &self.attrs {
            match out.iter_mut().find(|(key, _)| key == k) {
                Some((_, acc)) => {
                    acc.push('\n');
                    acc.push_str(v);
                }
                None => out.push((k, v.clone())),
            }
        }
        out
    }

    /// The record as the API gives it: `start`, `stop`, `size` (a number,
    /// or a decimal string above 2^53) for ranges, `aut-num` (a number)
    /// for AS objects, then every attribute (values of a repeated key
    /// joined with newlines), `source_file` and `source_hash`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let (Some(a), Some(b)) = (self.start, self.stop) {
            m.insert("start".into(), Value::String(a.to_string()));
            m.insert("stop".into(), Value::String(b.to_string()));
        }
        if let Some(size) = &self.size {
            let v = match size.parse::<u64>() {
                Ok(n) if n <= 1 << 53 => Value::from(n),
                _ => Value::String(size.clone()),
            };
            m.insert("size".into(), v);
        }
        for (k, v) in self.grouped() {
            if k == "aut-num" {
                continue;
            }
            m.insert(k.to_string(), Value::String(v));
        }
        if let Some(n) = self.aut_num {
            m.insert("aut-num".into(), Value::from(n));
        }
        m.insert(
            "source_file".into(),
            Value::String(self.source_file.clone()),
        );
        m.insert(
            "source_hash".into(),
            Value::String(self.source_hash.clone()),
        );
        Value::Object(m)
    }
}

const COLUMNS: &str = "kind, start, stop, size::text, aut_num, netname, country, attrs, \
                       source_file, source_hash";

/// Narrowest first, as the API's default sort: size ascending, start
/// descending, stop ascending; aut-num records last.
/// (Qualified: `size` alone would name the selected `size::text`.)
const ORDER: &str = "(rir.kind = 'aut-num'), rir.size, rir.start DESC, rir.stop, rir.aut_num";

fn record(row: &postgres::Row) -> Result<RirRecord> {
    let attrs: Value = row.get(7);
    let attrs: Vec<(String, String)> = serde_json::from_value(attrs)
        .map_err(|e| Error::InvalidRecord(format!("rir.attrs is not [[key, value]...]: {e}")))?;
    Ok(RirRecord {
        kind: row.get(0),
        start: row.get(1),
        stop: row.get(2),
        size: row.get(3),
        aut_num: row.get(4),
        netname: row.get(5),
        country: row.get(6),
        attrs,
        source_file: row.get(8),
        source_hash: row.get(9),
    })
}

/// The narrowest inetnum / inet6num holding `addr`, if any.
pub fn rir_lookup(client: &mut Client, addr: IpAddr) -> Result<Option<RirRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM rir WHERE net @> $1::text::numeric ORDER BY {ORDER} LIMIT 1"
    );
    client
        .query_opt(sql.as_str(), &[&key_of(addr)])?
        .map(|r| record(&r))
        .transpose()
}

/// Which records a search selects; empty selects everything.
#[derive(Debug, Clone, Default)]
pub struct RirQuery {
    /// Full text: every word must appear (netname, descr, as-name,
    /// country, any attribute value), case-insensitive.
    pub search: Option<String>,
    /// Country codes (any of them), case-insensitive.
    pub countries: Vec<String>,
    /// Base name of the dump.
    pub source_file: Option<String>,
    /// Only objects of this class.
    pub kind: Option<RirKind>,
    /// Only ranges holding this address.
    pub addr: Option<IpAddr>,
}

impl RirQuery {
    fn where_clause(&self) -> (String, Vec<Box<dyn ToSql + Sync>>) {
        let mut conds: Vec<String> = Vec::new();
        let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::new();
        let param = |v: Box<dyn ToSql + Sync>, params: &mut Vec<_>| {
            params.push(v);
            format!("${}", params.len())
        };
        if let Some(s) = &self.search {
            let p = param(Box::new(s.clone()), &mut params);
            conds.push(format!("search @@ plainto_tsquery('simple', {p})"));
        }
        if !self.countries.is_empty() {
            let cc: Vec<String> = self
                .countries
                .iter()
                .map(|c| c.trim().to_ascii_uppercase())
                .collect();
            let p = param(Box::new(cc), &mut params);
            conds.push(format!("country = ANY({p})"));
        }
        if let Some(f) = &self.source_file {
            let p = param(Box::new(f.clone()), &mut params);
            conds.push(format!("source_file = {p}"));
        }
        if let Some(k) = self.kind {
            let p = param(Box::new(k.as_str().to_string()), &mut params);
            conds.push(format!("kind = {p}"));
        }
        if let Some(a) = self.addr {
            let p = param(Box::new(key_of(a)), &mut params);
            conds.push(format!("net @> {p}::text::numeric"));
        }
        let w = if conds.is_empty() {
            "true".to_string()
        } else {
            conds.join(" AND ")
        };
        (w, params)
    }
}

fn refs(params: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p.as_ref()).collect()
}

/// The records `q` selects, narrowest first; `limit` at most (`None`: all),
/// each given to `each` as it arrives (no whole result in memory).
pub fn rir_search_each(
    client: &mut Client,
    q: &RirQuery,
    limit: Option<u64>,
    mut each: impl FnMut(RirRecord) -> Result<()>,
) -> Result<()> {
    use fallible_iterator::FallibleIterator;
    let (w, params) = q.where_clause();
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    let sql = format!("SELECT {COLUMNS} FROM rir WHERE {w} ORDER BY {ORDER}{limit}");
    let mut rows = client.query_raw(sql.as_str(), refs(&params))?;
    while let Some(row) = rows.next()? {
        each(record(&row)?)?;
    }
    Ok(())
}

/// The records `q` selects, narrowest first, `limit` at most (the web
/// API's `rir_search`).
pub fn rir_search(client: &mut Client, q: &RirQuery, limit: Option<u64>) -> Result<Vec<RirRecord>> {
    let mut out = Vec::new();
    rir_search_each(client, q, limit, |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// How many records `q` selects.
pub fn rir_count(client: &mut Client, q: &RirQuery) -> Result<u64> {
    let (w, params) = q.where_clause();
    let sql = format!("SELECT count(*) FROM rir WHERE {w}");
    let n: i64 = client.query_one(sql.as_str(), &refs(&params))?.get(0);
    Ok(n as u64)
}

/// Fields `--distinct` accepts: the typed columns, and attributes read
/// from the stored object.
pub const DISTINCT_FIELDS: &[&str] = &[
    "country",
    "netname",
    "descr",
    "as-name",
    "aut-num",
    "source_file",
    "kind",
    "status",
    "org",
    "mnt-by",
    "source",
    "admin-c",
    "tech-c",
];

/// The distinct values of `field` among the records `q` selects, with
/// their counts, most common first. An unknown field is a
/// [`Error::BadFilter`].
pub fn rir_distinct(
    client: &mut Client,
    q: &RirQuery,
    field: &str,
) -> Result<Vec<(Option<String>, u64)>> {
    let column = match field {
        "country" => Some("country"),
        "netname" => Some("netname"),
        "descr" => Some("descr"),
        "as-name" => Some("as_name"),
        "aut-num" => Some("aut_num::text"),
        "source_file" => Some("source_file"),
        "kind" => Some("kind"),
        f if DISTINCT_FIELDS.contains(&f) => None,
        f => {
            return Err(Error::BadFilter(format!(
                "unknown field {f:?} (fields: {})",
                DISTINCT_FIELDS.join(", ")
            )))
        }
    };
    let (w, mut params) = q.where_clause();
    let sql = match column {
        Some(c) => format!(
            "SELECT {c} AS v, count(*) FROM rir WHERE {w} GROUP BY v ORDER BY count(*) DESC, v"
        ),
        None => {
            params.push(Box::new(field.to_string()));
            let p = params.len();
            format!(
                "SELECT a->>1 AS v, count(*) FROM rir, jsonb_array_elements(attrs) a
                 WHERE {w} AND a->>0 = ${p} GROUP BY v ORDER BY count(*) DESC, v"
            )
        }
    };
    Ok(client
        .query(sql.as_str(), &refs(&params))?
        .iter()
        .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::plus_one;

    #[test]
    fn address_keys() {
        use super::{add_decimal, key_of};
        assert_eq!(add_decimal("999", "1"), "1000");
        assert_eq!(key_of("0.0.0.1".parse().unwrap()), "1");
        assert_eq!(key_of("255.255.255.255".parse().unwrap()), "4294967295");
        // 2^129, then 2^129 + 2^128 - 1.
        assert_eq!(
            key_of("::".parse().unwrap()),
            "680564733841876926926749214863536422912"
        );
        assert_eq!(
            key_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap()),
            "1020847100762815390390123822295304634367"
        );
    }

    #[test]
    fn sizes_are_counted_in_decimal() {
        assert_eq!(plus_one("0"), "1");
        assert_eq!(plus_one("255"), "256");
        assert_eq!(plus_one("999"), "1000");
        assert_eq!(
            plus_one(&u128::MAX.to_string()),
            "340282366920938463463374607431768211456"
        );
    }
}
