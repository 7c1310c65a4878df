//! Passive DNS queries over the `DNS_ANSWER` rows of `passive` (spec 3.4,
//! 3.5): the answers themselves ([`for_each_answer`], what
//! `/cgi/passivedns` and `ivre-iphost --cof` print) and their aggregation by
//! `(name, target)` pair ([`for_each_pair`], IVRE's `iter_dns`, what
//! `ivre-iphost` prints), both streamed from the server.
//!
//! Every piece of user text (name, regex, network, sensor, record type)
//! travels as a query parameter; the SQL text is assembled only from the
//! fixed fragments below. The filters are written to use the indexes of
//! `sql/0003_passive.sql`: `addr` (GiST, `=` and `<<=`), `left(value, 256)`
//! and `left(targetval, 256)` (exact names), and the GIN indexes on
//! `infos->'domain'` / `infos->'domaintarget'` (subdomains, `?`).
//!
//! The aggregation runs in SQL (`GROUP BY value, target`), so memory does
//! not grow with the number of matching records. Both take a callback whose
//! error type is the caller's (see [`crate::query`]).

use crate::query::for_each_row_with;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use ivre_model::passive::dns::{
    split_source, DnsAnswer, DnsPair, DnsQuery, DnsSubject, NamePattern,
};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Row};

/// A WHERE clause and its parameters.
struct Filter {
    clauses: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync>>,
}

impl Filter {
    /// Adds a parameter and returns its placeholder (`$n`).
    fn param(&mut self, v: impl ToSql + Sync + 'static) -> String {
        self.params.push(Box::new(v));
        format!("${}", self.params.len())
    }

    fn sql(&self) -> String {
        self.clauses.join(" AND ")
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// PostgreSQL text cannot hold NUL: refuse it up front with a clear message
/// rather than let the server fail on the parameter.
fn checked<'a>(what: &str, s: &'a str) -> Result<&'a str> {
    if s.contains('\0') {
        return Err(Error::BadFilter(format!("invalid {what}: NUL character")));
    }
    Ok(s)
}

fn filter(q: &DnsQuery) -> Result<Filter> {
    let mut f = Filter {
        clauses: vec!["recontype = 'DNS_ANSWER'".into()],
        params: Vec::new(),
    };
    match &q.subject {
        DnsSubject::Addr(ip) => {
            let p = f.param(*ip);
            f.clauses.push(format!("addr = {p}"));
        }
        DnsSubject::Net(net) => {
            let p = f.param(net.to_string());
            f.clauses.push(format!("addr <<= {p}::text::cidr"));
        }
        DnsSubject::Name(pattern) => {
            let (column, domains) = if q.reverse {
                ("targetval", "domaintarget")
            } else {
                ("value", "domain")
            };
            match pattern {
                NamePattern::Exact(name) => {
                    let p = f.param(checked("name", name)?.to_owned());
                    f.clauses.push(if q.subdomains {
                        format!("infos->'{domains}' ? {p}")
                    } else {
                        format!("left({column}, 256) = left({p}, 256) AND {column} = {p}")
                    });
                }
                NamePattern::Regex {
                    pattern,
                    case_insensitive,
                } => {
                    let op = if *case_insensitive { "~*" } else { "~" };
                    let p = f.param(checked("regular expression", pattern)?.to_owned());
                    f.clauses.push(if q.subdomains {
                        format!(
                            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(infos->'{domains}') AS d(name) WHERE d.name {op} {p})"
                        )
                    } else {
                        format!("{column} {op} {p}")
                    });
                }
            }
        }
    }
    if let Some(t) = &q.rrtype {
        let p = f.param(format!(
            "{}-",
            checked("record type", t)?.to_ascii_uppercase()
        ));
        f.clauses.push(format!("starts_with(source, {p})"));
    }
    if let Some(s) = &q.sensor {
        let p = f.param(checked("sensor", s)?.to_owned());
        f.clauses.push(format!("sensor = {p}"));
    }
    Ok(f)
}

/// Turns a server-side regex error into a message about the user's
/// pattern; other errors as [`Error::from_query`] classifies them.
fn query_error(e: postgres::Error, q: &DnsQuery) -> Error {
    if let (Some(db), DnsSubject::Name(NamePattern::Regex { pattern, .. })) =
        (e.as_db_error(), &q.subject)
    {
        if db.code() == &SqlState::INVALID_REGULAR_EXPRESSION {
            return Error::BadFilter(format!(
                "invalid regular expression /{pattern}/: {}",
                crate::error::regex_reason(db)
            ));
        }
    }
    Error::from_query(e)
}

/// The answer of a row: its address, else its target name.
const TARGET: &str = "coalesce(host(addr), targetval, '')";
/// The record type of a row (first field of `source`).
const RRTYPE: &str = "(split_part(source, '-', 1) COLLATE \"C\")";

/// Runs `sql` (whose WHERE clause is `f`) and calls `each` on every row as
/// it arrives.
fn stream<E: From<Error>>(
    client: &mut Client,
    q: &DnsQuery,
    sql: &str,
    f: &Filter,
    each: impl FnMut(&Row) -> Result<(), E>,
) -> Result<u64, E> {
    for_each_row_with(client, sql, &f.params(), |e| query_error(e, q), each)
}

/// Calls `each` with every DNS answer matching `q`, sorted by name, record
/// type and answer; returns how many there were.
pub fn for_each_answer<E: From<Error>>(
    client: &mut Client,
    q: &DnsQuery,
    mut each: impl FnMut(DnsAnswer) -> Result<(), E>,
) -> Result<u64, E> {
    let f = filter(q)?;
    let sql = format!(
        "SELECT value, source, host(addr), targetval, sensor, count, firstseen, lastseen
         FROM passive WHERE {}
         ORDER BY value COLLATE \"C\", source COLLATE \"C\", addr, targetval COLLATE \"C\", sensor COLLATE \"C\"",
        f.sql()
    );
    stream(client, q, &sql, &f, |row| {
        let source: Option<String> = row.get(1);
        let (rrtype, server) = split_source(source.as_deref().unwrap_or_default());
        let addr: Option<String> = row.get(2);
        let targetval: Option<String> = row.get(3);
        each(DnsAnswer {
            rrname: row.get(0),
            rrtype: rrtype.to_owned(),
            rdata: addr.or(targetval).unwrap_or_default(),
            server: server.map(str::to_owned),
            sensor: row.get(4),
            count: row.get(5),
            firstseen: row.get::<_, DateTime<Utc>>(6),
            lastseen: row.get::<_, DateTime<Utc>>(7),
        })
    })
}

/// Calls `each` with every `(name, target)` pair of the DNS answers matching
/// `q` (target = the address, else the target name), aggregated in SQL:
/// record types and sensors (sorted sets), first seen (min), last seen
/// (max), count (sum). Sorted by name then target; returns the number of
/// pairs.
pub fn for_each_pair<E: From<Error>>(
    client: &mut Client,
    q: &DnsQuery,
    mut each: impl FnMut(DnsPair) -> Result<(), E>,
) -> Result<u64, E> {
    let f = filter(q)?;
    // DISTINCT aggregates must order by their argument itself; the "C"
    // collation sorts bytewise, as IVRE's Python sorts the sets.
    let sql = format!(
        "SELECT value, {TARGET},
             coalesce(array_agg(DISTINCT {RRTYPE} ORDER BY {RRTYPE})
                 FILTER (WHERE source IS NOT NULL), '{{}}'),
             coalesce(array_agg(DISTINCT sensor COLLATE \"C\" ORDER BY sensor COLLATE \"C\")
                 FILTER (WHERE sensor IS NOT NULL), '{{}}'),
             min(firstseen), max(lastseen), sum(count)::bigint
         FROM passive WHERE {}
         GROUP BY value, {TARGET}
         ORDER BY value COLLATE \"C\", {TARGET} COLLATE \"C\"",
        f.sql()
    );
    stream(client, q, &sql, &f, |row| {
        each(DnsPair {
            name: row.get(0),
            target: row.get(1),
            types: row.get(2),
            sources: row.get(3),
            firstseen: row.get(4),
            lastseen: row.get(5),
            count: row.get(6),
        })
    })
}
