//! `GET /passivedns/QUERY`: passive DNS answers in the Common Output
//! Format (draft-dulaunoy-dnsop-passive-dns-cof), one JSON object per line,
//! `time_first` / `time_last` as integer epoch seconds. The query is read
//! as `ivre-iphost` reads it (an address, an integer, a network, a
//! `/regex/` or a name; `subdomains`, `reverse`, `type`, `sensor`).
//!
//! Unlike IVRE, the caller's base filter applies, and a long answer is
//! paged instead of cut: at most `limit` lines (default 1000), and when
//! more remain, the `X-IVRE-Next-Cursor` header (and a `Link: rel="next"`)
//! gives the `cursor=` of the next page.

use crate::access::Access;
use crate::error::ApiError;
use crate::params::Params;
use crate::purpose::{Passive, Purpose};
use crate::stream::blocking;
use crate::App;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use ivre_model::filter::passive::{self as p, PassiveFilter};
use ivre_model::filter::value::{Match, Regex};
use ivre_model::passive::dns::{split_source, DnsAnswer, DnsQuery, DnsSubject, NamePattern};
use ivre_pg::query::QueryOpts;
use std::sync::Arc;

/// Lines of a page, by default and at most.
const DEFAULT_PAGE: u64 = 1000;
const MAX_PAGE: u64 = 10_000;

/// The passive filter of a passive DNS query.
pub fn dns_filter(q: &DnsQuery) -> PassiveFilter {
    let dns_type = q.rrtype.as_deref();
    let mut f = match &q.subject {
        DnsSubject::Addr(a) => p::dns(None, false, dns_type, false, false).and(p::host(*a)),
        DnsSubject::Net(n) => p::dns(None, false, dns_type, false, false).and(p::addr_cond(
            ivre_model::filter::addr::AddrCond::Net(n.network(), n.prefix()),
        )),
        DnsSubject::Name(pattern) => {
            let m = match pattern {
                NamePattern::Exact(name) => Match::Exact(name.clone()),
                NamePattern::Regex {
                    pattern,
                    case_insensitive,
                } => Match::Regex(Regex {
                    pattern: pattern.clone(),
                    flags: if *case_insensitive { "i" } else { "" }.into(),
                }),
            };
            p::dns(Some(m), q.reverse, dns_type, q.subdomains, false)
        }
    };
    if let Some(s) = &q.sensor {
        f = f.and(p::sensor(Match::Exact(s.clone())));
    }
    f
}

/// A passive record of a DNS answer, as a COF line.
fn cof_line(rec: &ivre_model::passive::PassiveRecord) -> String {
    let (rrtype, server) = split_source(rec.source.as_deref().unwrap_or_default());
    let answer = DnsAnswer {
        rrname: rec.value.clone(),
        rrtype: rrtype.to_string(),
        rdata: rec
            .addr
            .map(|a| a.to_string())
            .or_else(|| rec.targetval.clone())
            .unwrap_or_default(),
        server: server.map(str::to_string),
        sensor: rec.sensor.clone(),
        count: i64::try_from(rec.count).unwrap_or(i64::MAX),
        firstseen: rec.firstseen,
        lastseen: rec.lastseen,
    };
    let mut line = answer.to_cof().to_string();
    line.push('\n');
    line
}

pub async fn passivedns(
    State(app): State<Arc<App>>,
    access: Access,
    Path(query): Path<String>,
    UrlQuery(pairs): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let params = Params(pairs);
    let subject = DnsSubject::parse(&query)
        .map_err(|e| ApiError::bad_request(format!("invalid passive DNS query: {e}")))?;
    let rrtype = params.get("type").filter(|t| !t.is_empty());
    if let Some(t) = rrtype {
        if !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::bad_request(format!("invalid DNS type {t:?}")));
        }
    }
    let dq = DnsQuery {
        subject,
        subdomains: params.flag("subdomains"),
        reverse: params.flag("reverse"),
        rrtype: rrtype.map(str::to_string),
        sensor: params
            .get("sensor")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    };
    let page = match params.get("limit") {
        None | Some("") => DEFAULT_PAGE,
        Some(l) => l
            .parse::<u64>()
            .ok()
            .filter(|l| (1..=MAX_PAGE).contains(l))
            .ok_or_else(|| ApiError::bad_request(format!("limit must be 1 to {MAX_PAGE}")))?,
    };
    let skip = match params.get("cursor") {
        None | Some("") => 0,
        Some(c) => c
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request(format!("invalid cursor {c:?}")))?,
    };
    let flt: PassiveFilter = Passive::base(&access)?.and(dns_filter(&dq));
    // One more than the page says whether a next page exists; the order
    // (record id) keeps pages stable while records are only added.
    let opts = QueryOpts {
        sort: vec![("id".into(), false)],
        skip,
        limit: page + 1,
    };
    let (body, more) = blocking(&app.pool, move |c| {
        let mut body = String::new();
        let mut n = 0;
        ivre_pg::passive::query::get(c, &flt, &opts, |rec| {
            n += 1;
            if n <= page {
                body.push_str(&cof_line(&rec));
            }
            Ok::<_, ivre_pg::Error>(())
        })?;
        Ok((body, n > page))
    })
    .await?;
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    if more {
        let next = skip + page;
        if let Ok(v) = HeaderValue::from_str(&next.to_string()) {
            h.insert("x-ivre-next-cursor", v);
        }
        let mut link_params: Vec<(String, String)> = params
            .0
            .iter()
            .filter(|(k, _)| k != "cursor")
            .cloned()
            .collect();
        link_params.push(("cursor".into(), next.to_string()));
        let qs: Vec<String> = link_params
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("<?{}>; rel=\"next\"", qs.join("&"))) {
            h.insert(header::LINK, v);
        }
    }
    Ok(resp)
}

/// Percent-encoding of a query-string component.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
