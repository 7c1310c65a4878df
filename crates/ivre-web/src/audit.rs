//! `GET /audit/`, `/audit/count`, `/audit/ID` (spec §6.9): the audit log
//! (`web_audit`), for API keys with the admin permission only (the log
//! names keys and client addresses; a key without it gets 403, no key
//! 401, whatever `--auth` says). Filters: `event_type` (upload, delete,
//! key_add, key_revoke, refused; anything else is a 400), `key_name`,
//! `since` (inclusive) and `until` (exclusive), each a duration before now
//! (`30d`, `2h`, `90m`, `10s`, `1y`), a Unix timestamp or an ISO 8601 date
//! (UTC); `limit` (default `WEB_LIMIT`, capped by `WEB_MAXRESULTS`; 0:
//! all) and `skip`. Newest first.

use crate::access::Access;
use crate::error::ApiError;
use crate::params::Params;
use crate::stream::blocking;
use crate::App;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use ivre_model::filter::time::{parse_duration, parse_time};
use ivre_pg::web::{AuditQuery, AUDIT_EVENTS};
use std::sync::Arc;

type Pairs = UrlQuery<Vec<(String, String)>>;

fn admin_only(access: &Access) -> Result<(), ApiError> {
    match access.key_id {
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the audit log needs an API key with the admin permission",
        )),
        Some(_) if !access.may("admin") => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this API key lacks the admin permission (the audit log)",
        )),
        Some(_) => Ok(()),
    }
}

/// `30d` (before now), `1700000000`, `2026-05-25T10:00:00`.
fn when(name: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    let v = v.trim();
    let bad = |e: String| ApiError::bad_request(format!("{name}: {e}"));
    let is_duration = v.len() > 1
        && v.ends_with(['s', 'm', 'h', 'd', 'y'])
        && v[..v.len() - 1].parse::<f64>().is_ok();
    if is_duration {
        let secs = parse_duration(v).map_err(|e| bad(e.0))?;
        let d = chrono::Duration::try_milliseconds((secs * 1000.0) as i64)
            .ok_or_else(|| bad(format!("duration out of range: {v:?}")))?;
        return Utc::now()
            .checked_sub_signed(d)
            .ok_or_else(|| bad(format!("duration out of range: {v:?}")));
    }
    let iso = v.trim_end_matches('Z');
    parse_time(iso).map_err(|e| bad(e.0))
}

fn query(params: &Params) -> Result<AuditQuery, ApiError> {
    let event = params.get("event_type").filter(|e| !e.is_empty());
    if let Some(e) = event {
        if !AUDIT_EVENTS.contains(&e) {
            return Err(ApiError::bad_request(format!(
                "event_type: unknown {e:?} ({})",
                AUDIT_EVENTS.join(", ")
            )));
        }
    }
    let time = |name: &str| {
        params
            .get(name)
            .filter(|v| !v.is_empty())
            .map(|v| when(name, v))
            .transpose()
    };
    Ok(AuditQuery {
        event: event.map(str::to_string),
        key_name: params
            .get("key_name")
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        since: time("since")?,
        until: time("until")?,
    })
}

fn number(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    match params.get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map(|n| Some(n.max(0)))
            .map_err(|_| ApiError::bad_request(format!("{name}: not an integer: {v:?}"))),
    }
}

/// `GET /audit/`: the events, newest first (a JSON array).
pub async fn list(
    State(app): State<Arc<App>>,
    access: Access,
    UrlQuery(pairs): Pairs,
) -> Result<Response, ApiError> {
    admin_only(&access)?;
    let params = Params(pairs);
    let q = query(&params)?;
    let skip = number(&params, "skip")?.unwrap_or(0);
    let asked = number(&params, "limit")?.map(|n| n as u64);
    let limit = crate::routes::resolve_limit(&app, asked);
    let limit = (limit > 0).then(|| i64::try_from(limit).unwrap_or(i64::MAX));
    let events = blocking(&app.pool, move |c| {
        Ok(ivre_pg::web::audit_events(c, &q, limit, skip)?)
    })
    .await?;
    Ok(axum::Json(events).into_response())
}

/// `GET /audit/count`: a bare count and a newline.
pub async fn count(
    State(app): State<Arc<App>>,
    access: Access,
    UrlQuery(pairs): Pairs,
) -> Result<Response, ApiError> {
    admin_only(&access)?;
    let q = query(&Params(pairs))?;
    let n = blocking(&app.pool, move |c| Ok(ivre_pg::web::audit_count(c, &q)?)).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        format!("{n}\n"),
    )
        .into_response())
}

/// `GET /audit/ID`: one event, or 404.
pub async fn event(
    State(app): State<Arc<App>>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin_only(&access)?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "no such audit event");
    let id: i64 = id.trim().parse().map_err(|_| not_found())?;
    let ev = blocking(&app.pool, move |c| Ok(ivre_pg::web::audit_event(c, id)?)).await?;
    Ok(axum::Json(ev.ok_or_else(not_found)?).into_response())
}
