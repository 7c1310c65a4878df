//! `GET /dns` (spec §6.4): the `(name, address)` pairs known from the
//! host names of the scan records and from the passive DNS answers,
//! merged: `count` summed, `types` (host name types, DNS record types) and
//! `sources` (scan sources, sensors) as sorted unions, `firstseen` the
//! earliest and `lastseen` the latest. Newest first (then most seen);
//! `skip:` / `limit:` of `q=` apply after the merge (default `WEB_LIMIT`).
//! `format` json or ndjson; `datesasstrings`.
//!
//! `q=` is read for each purpose, with the caller's base filter of that
//! purpose. A keyword only one purpose has (`sensor:` is passive-only,
//! `service:` scan-only) leaves the other purpose out of the answer
//! (IVRE ignores it there, which answers more than was asked). The merge is
//! in memory, as IVRE's: more than [`MAX_PAIRS`] pairs is a 400 asking for
//! a narrower filter.

use crate::access::Access;
use crate::error::ApiError;
use crate::params::{Format, Params};
use crate::render::epoch;
use crate::stream::{blocking, Halt};
use crate::App;
use axum::extract::{Query as UrlQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ivre_model::filter::passive as p;
use ivre_model::filter::query::QueryError;
use ivre_pg::query::QueryOpts;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Distinct pairs a request may merge.
pub const MAX_PAIRS: usize = 1_000_000;

#[derive(Default)]
struct Pair {
    count: u64,
    first: Option<i64>,
    last: Option<i64>,
    types: BTreeSet<String>,
    sources: BTreeSet<String>,
}

impl Pair {
    fn seen(&mut self, count: u64, first: Option<i64>, last: Option<i64>) {
        self.count += count;
        self.first = match (self.first, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

type Pairs = HashMap<(String, String), Pair>;

fn entry<'a>(pairs: &'a mut Pairs, name: &str, addr: &str) -> Result<&'a mut Pair, Halt> {
    let key = (name.to_string(), addr.to_string());
    if !pairs.contains_key(&key) && pairs.len() >= MAX_PAIRS {
        return Err(Halt::Error(ApiError::bad_request(format!(
            "more than {MAX_PAIRS} (name, address) pairs: narrow the filter"
        ))));
    }
    Ok(pairs.entry(key).or_default())
}

/// The filter of a purpose, None when `q=` has a keyword it lacks.
fn side<L>(f: Result<L, QueryError>) -> Result<Option<L>, ApiError> {
    match f {
        Ok(f) => Ok(Some(f)),
        Err(QueryError::Unsupported { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn date_text(t: i64) -> Value {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| Value::from(d.format("%Y-%m-%d %H:%M:%S").to_string()))
        .unwrap_or(Value::Null)
}

pub async fn dns(
    State(app): State<Arc<App>>,
    access: Access,
    UrlQuery(pairs): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let params = Params(pairs);
    let q = params.query()?;
    let scan = side(q.scan_filter())?;
    let passive = side(q.passive_filter())?;
    if scan.is_none() && passive.is_none() {
        // Neither purpose: the scan side's error names the token.
        q.scan_filter()?;
    }
    let scan = match scan {
        Some(f) => Some(access.scan_base()?.and(f)),
        None => None,
    };
    let passive = match passive {
        Some(f) => Some(
            access
                .passive_base()?
                .and(p::dns(None, false, None, false, false))
                .and(f),
        ),
        None => None,
    };
    let fmt = match params.format() {
        Format::Ndjson => Format::Ndjson,
        _ => Format::Json,
    };
    let strings = params.flag("datesasstrings");
    let skip = usize::try_from(q.skip.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = crate::routes::resolve_limit(&app, q.limit);
    let mut merged = blocking(&app.pool, move |c| {
        let mut pairs = Pairs::new();
        let all = QueryOpts::default();
        let r = (|| -> Result<(), Halt> {
            if let Some(f) = &scan {
                ivre_pg::scan::query::get(c, f, &all, |doc: Value| -> Result<(), Halt> {
                    let addr = doc.get("addr").and_then(Value::as_str).unwrap_or_default();
                    let time = |k: &str| doc.get(k).and_then(Value::as_str).and_then(epoch);
                    let (first, last) = (time("starttime"), time("endtime"));
                    let sources: Vec<String> = match doc.get("source") {
                        Some(Value::String(s)) => vec![s.clone()],
                        Some(Value::Array(a)) => a
                            .iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect(),
                        _ => Vec::new(),
                    };
                    for h in doc
                        .get("hostnames")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let Some(name) = h.get("name").and_then(Value::as_str) else {
                            continue;
                        };
                        let e = entry(&mut pairs, name, addr)?;
                        e.seen(1, first, last);
                        if let Some(t) = h.get("type").and_then(Value::as_str) {
                            e.types.insert(t.to_string());
                        }
                        e.sources.extend(sources.iter().cloned());
                    }
                    Ok(())
                })?;
            }
            if let Some(f) = &passive {
                ivre_pg::passive::query::get(c, f, &all, |rec| -> Result<(), Halt> {
                    let Some(addr) = rec.addr else { return Ok(()) };
                    let e = entry(&mut pairs, &rec.value, &addr.to_string())?;
                    e.seen(
                        rec.count,
                        Some(rec.firstseen.timestamp()),
                        Some(rec.lastseen.timestamp()),
                    );
                    if let Some(t) = rec.source.as_deref().and_then(|s| s.split('-').next()) {
                        e.types.insert(t.to_string());
                    }
                    if let Some(s) = &rec.sensor {
                        e.sources.insert(s.clone());
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })();
        match r {
            Ok(()) | Err(Halt::Enough) | Err(Halt::ClientGone) => Ok(pairs),
            Err(Halt::Error(e)) => Err(e),
        }
    })
    .await?
    .into_iter()
    .collect::<Vec<_>>();
    merged.sort_by(|(ka, a), (kb, b)| {
        b.last
            .cmp(&a.last)
            .then(b.count.cmp(&a.count))
            .then(ka.cmp(kb))
    });
    let take = if limit == 0 {
        usize::MAX
    } else {
        usize::try_from(limit).unwrap_or(usize::MAX)
    };
    let items: Vec<Value> = merged
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|((name, addr), e)| {
            let t = |v: Option<i64>| match v {
                Some(t) if strings => date_text(t),
                Some(t) => Value::from(t),
                None => Value::Null,
            };
            json!({
                "name": name, "addr": addr, "count": e.count,
                "firstseen": t(e.first), "lastseen": t(e.last),
                "types": e.types, "sources": e.sources,
            })
        })
        .collect();
    let body = match fmt {
        Format::Ndjson => items.iter().map(|v| format!("{v}\n")).collect::<String>(),
        _ => format!("{}\n", Value::from(items)),
    };
    Ok((
        [
            (header::CONTENT_TYPE, fmt.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"IVRE-dns.{}\"", fmt.extension()),
            ),
        ],
        body,
    )
        .into_response())
}
