//! The query layer every purpose shares: options of a record listing
//! ([`QueryOpts`]), counting and its plan ([`count`], [`explain`]),
//! streaming of rows ([`for_each_row`]), record paths as SQL/JSON paths
//! ([`jsonpath`], [`json_path`]) and top values ([`projection`]). Each
//! purpose (`scan`, `passive`, ...) compiles its filters and field names
//! and leaves the rest here.
//!
//! Functions that stream call back for each row: the callback's error type
//! `E` is the caller's (a closed pipe stays an I/O error), and errors of
//! the query become `E` through `From<Error>`.

pub mod projection;

pub use projection::TopValue;

use crate::sql::SqlBuilder;
use crate::{Error, Result};
use fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, Row};

/// Sort, skip and limit of a record listing.
#[derive(Debug, Clone, Default)]
pub struct QueryOpts {
    /// Field names of the purpose, with `true` for descending.
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

    /// ` LIMIT $n OFFSET $m` (each when set), parameters added to `b`.
    pub fn limit_offset(&self, b: &mut SqlBuilder) -> String {
        let mut s = String::new();
        if self.limit > 0 {
            s += &format!(" LIMIT {}", b.param(self.limit as i64, "int8"));
        }
        if self.skip > 0 {
            s += &format!(" OFFSET {}", b.param(self.skip as i64, "int8"));
        }
        s
    }
}

/// Number of rows of `from` (a table and its alias) meeting `cond`, a
/// compiled filter whose parameters are in `b`.
pub fn count(
    client: &mut impl GenericClient,
    from: &str,
    cond: &str,
    b: &SqlBuilder,
) -> Result<i64> {
    let sql = format!("SELECT count(*) FROM {from} WHERE {cond}");
    Ok(client
        .query_one(sql.as_str(), &b.refs())
        .map_err(Error::from_query)?
        .get(0))
}

/// The query plan (`EXPLAIN`) of [`count`].
pub fn explain(
    client: &mut impl GenericClient,
    from: &str,
    cond: &str,
    b: &SqlBuilder,
) -> Result<String> {
    let sql = format!("EXPLAIN SELECT count(*) FROM {from} WHERE {cond}");
    let rows = client
        .query(sql.as_str(), &b.refs())
        .map_err(Error::from_query)?;
    Ok(rows
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Runs `sql` and calls `each` with every row as the server sends it (a
/// portal: a result of a million rows is never held); returns the number
/// of rows. Errors of the query are classified by [`Error::from_query`].
pub fn for_each_row<E: From<Error>>(
    client: &mut Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    each: impl FnMut(&Row) -> Result<(), E>,
) -> Result<u64, E> {
    for_each_row_with(client, sql, params, Error::from_query, each)
}

/// [`for_each_row`] with errors of the query mapped by `error` (to name
/// the user's input in the message).
pub fn for_each_row_with<E: From<Error>>(
    client: &mut Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    error: impl Fn(postgres::Error) -> Error,
    mut each: impl FnMut(&Row) -> Result<(), E>,
) -> Result<u64, E> {
    let mut rows = client
        .query_raw(sql, params.iter().copied())
        .map_err(&error)?;
    let mut n = 0;
    while let Some(row) = rows.next().map_err(&error)? {
        each(&row)?;
        n += 1;
    }
    Ok(n)
}

/// A lax SQL/JSON path for a dotted record path; the final list is unwound.
pub fn jsonpath(field: &str) -> Result<String> {
    if field.is_empty() {
        return Err(Error::BadFilter("empty field name".into()));
    }
    let mut p = String::from("lax $");
    for key in field.split('.') {
        if key.is_empty() {
            return Err(Error::BadFilter(format!("invalid field {field:?}")));
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

/// The jsonb at a dotted `path` under `base` (`(base #> $n)`, the keys a
/// parameter); `base` itself for an empty path.
pub fn json_path(b: &mut SqlBuilder, base: &str, path: &str) -> String {
    if path.is_empty() {
        return base.to_string();
    }
    let keys: Vec<String> = path.split('.').map(str::to_string).collect();
    format!("({base} #> {})", b.param(keys, "text[]"))
}
