//! The handlers: generic record routes over a [`Purpose`] (listing, count,
//! top values, distinct values), the scan actions (`onlyips`, `ipsports`,
//! `countopenports`, `timeline`, `coordinates`), passive DNS in the Common
//! Output Format, `/ipdata`, `/config`, and the 501 of the purposes not
//! built yet. No SQL here: every query goes through `ivre_pg`.

use crate::access::Access;
use crate::error::ApiError;
use crate::params::{Format, Params};
use crate::purpose::{HostPurposeLeaf, Hosts, Purpose};
use crate::render::{addr_number, epoch};
use crate::stream::{blocking, streamed, Halt, Sink};
use crate::App;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ivre_pg::flow::web::FlowRequest;
use ivre_pg::query::QueryOpts;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

type Pairs = UrlQuery<Vec<(String, String)>>;

/// IVRE's default count of `/top` values.
const DEFAULT_TOP: u64 = 15;

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

fn listing_headers(fmt: Format) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (header::CONTENT_TYPE, hv(fmt.content_type())),
        (
            header::CONTENT_DISPOSITION,
            hv(&format!(
                "attachment; filename=\"IVRE-results.{}\"",
                fmt.extension()
            )),
        ),
    ]
}

/// Writes items in one of the listing formats.
struct Framer {
    fmt: Format,
    items: u64,
}

impl Framer {
    fn new(fmt: Format) -> Framer {
        Framer { fmt, items: 0 }
    }

    fn item(&mut self, sink: &mut Sink, v: &Value) -> Result<(), Halt> {
        let text = serde_json::to_string(v).map_err(|e| ApiError::internal(e.to_string()))?;
        let sep: &[u8] = match (self.fmt, self.items) {
            (Format::Ndjson, _) => b"",
            (Format::Json, 0) => b"[\n",
            (Format::Txt, 0) => b"",
            _ => b",\n",
        };
        sink.write(sep)?;
        sink.write(text.as_bytes())?;
        if self.fmt == Format::Ndjson {
            sink.write(b"\n")?;
        }
        self.items += 1;
        Ok(())
    }

    fn end(&mut self, sink: &mut Sink) -> Result<(), Halt> {
        match (self.fmt, self.items) {
            (Format::Json, 0) => sink.write(b"[]\n"),
            (Format::Json, _) => sink.write(b"\n]\n"),
            (Format::Txt, n) if n > 0 => sink.write(b"\n"),
            _ => Ok(()),
        }
    }
}

/// IVRE's limit: `WEB_LIMIT` by default, `limit:0` for all, both capped by
/// the server's maximum (0: none).
pub(crate) fn resolve_limit(app: &App, asked: Option<u64>) -> u64 {
    let l = asked.unwrap_or(app.config.default_limit);
    match app.config.max_results {
        0 => l,
        max if l == 0 || l > max => max,
        _ => l,
    }
}

/// `GET /PURPOSE`: the records (json array, ndjson or txt), streamed.
pub async fn records<P: Purpose>(
    State(app): State<Arc<App>>,
    access: Access,
    UrlQuery(pairs): Pairs,
) -> Result<Response, ApiError> {
    let params = Params(pairs);
    let q = params.query()?;
    let flt = P::scoped(&q, &access)?;
    let fmt = params.format();
    let render = params.render(q.fields.clone());
    let opts = QueryOpts {
        sort: q.sort.clone(),
        skip: q.skip.unwrap_or(0),
        limit: resolve_limit(&app, q.limit),
    };
    Ok(streamed(&app.pool, listing_headers(fmt), move |c, sink| {
        let mut framer = Framer::new(fmt);
        P::records(c, &flt, &opts, &render, &mut |v| framer.item(sink, &v))?;
        framer.end(sink)
    })
    .await)
}

/// `GET /PURPOSE/count`: a bare count and a newline.
pub async fn count<P: Purpose>(
    State(app): State<Arc<App>>,
    access: Access,
    UrlQuery(pairs): Pairs,
) -> Result<Response, ApiError> {
    let params = Params(pairs);
    let flt = P::scoped(&params.query()?, &access)?;
    let n = blocking(&app.pool, move |c| Ok(P::count(c, &flt)?)).await?;
    let mut headers = listing_headers(Format::Json);
    headers.truncate(1);
    let mut resp = format!("{n}\n").into_response();
    for (k, v) in headers {
        resp.headers_mut().insert(k, v);
    }
    Ok(resp)
}

/// `FIELD[:N]`, `-FIELD` / `!FIELD` for the least common values; `:N` is
/// the count only when it is an integer.
fn top_spec(spec: &str) -> (String, u64, bool) {
    // The least-common prefixes (`~`, `!`, `-`) are the command line's.
    let (rest, least) = ivre_cli::args::parse_top(spec);
    if let Some((field, n)) = rest.rsplit_once(':') {
        if let Ok(n) = n.parse::<u64>() {
            return (field.to_string(), n, least);
        }
    }
    (rest, DEFAULT_TOP, least)
}

/// `GET /PURPOSE/top/FIELD[:N]`: `[{"label": value, "value": count}, ...]`.
pub async fn top<P: Purpose>(
    State(app): State<Arc<App>>,
    access: Access,
    Path(spec): Path<String>,
    UrlQuery(pairs): Pairs,
) -> Result<Response, ApiError> {
    let params = Params(pairs);
    let flt = P::scoped(&params.query()?, &access)?;
    let (field, n, least) = top_spec(&spec);
    if field.is_empty() {
        return Err(ApiError::bad_request("top needs a field: /top/FIELD[:N]"));
    }
    let values = blocking(&app.pool, move |c| Ok(P::top(c, &flt, &field, n, least)?)).await?;
    let out: Vec<Value> = values
        .into_iter()
        .map(|t| json!({"label": t.value, "value": t.count}))
        .collect();
    Ok(axum::Json(out).into_response())
}

/// `GET /PURPOSE/distinct/FIELD`: the distinct values, with `skip:` and
/// `limit:` of `q=` (default limit as listings; `limit:0`: all).
pub async fn distinct<P: Purpose>(
    State(app): State<Arc<App>>,
    access: Access,
    Path(field): Path<String>,
    UrlQuery(pairs): Pairs,
) -> Result<Response, ApiError> {
    let params = Params(pairs);
    let q = params.query()?;
    let flt = P::scoped(&q, &access)?;
    let fmt = match params.format() {
        Format::Ndjson => Format::Ndjson,
        _ => Format::Json,
    };
    let skip = q.skip.unwrap_or(0);
    let limit = resolve_limit(&app, q.limit);
    Ok(streamed(&app.pool, listing_headers(fmt), move |c, sink| {
        let mut framer = Framer::new(fmt);
        let mut seen = 0u64;
        let r = P::distinct(c, &flt, &field, &mut |v| {
            seen += 1;
            if seen <= skip {
                return Ok(());
            }
            framer.item(sink, &v)?;
            if limit > 0 && framer.items >= limit {
                return Err(Halt::Enough);
            }
            Ok(())
        });
        match r {
            Ok(()) | Err(Halt::Enough) => framer.end(sink),
            Err(e) => Err(e),
        }
    })
    .await)
}

/// The actions of `/scans/ACTION` and `/view/ACTION` (every matching host,
/// no paging; `WEB_MAXRESULTS` caps them).
#[derive(Debug, Clone, Copy)]
enum Action {
    OnlyIps,
    IpsPorts,
    CountOpenPorts,
    Timeline,
    Coordinates,
}

fn addr_of(doc: &Value, numbers: bool) -> Value {
    let a = doc.get("addr").and_then(Value::as_str).unwrap_or_default();
    if numbers {
        addr_number(a)
    } else {
        Value::from(a)
    }
}

/// Where a host is, as GeoJSON `[longitude, latitude]`: IVRE's `infos.loc`
/// (already GeoJSON), or the `infos.coordinates` (`[latitude, longitude]`)
/// the view's enrichment writes.
fn location(doc: &Value) -> Option<Value> {
    if let Some(c) = doc.pointer("/infos/loc/coordinates") {
        return Some(c.clone());
    }
    match doc.pointer("/infos/coordinates")?.as_array()?.as_slice() {
        [lat, lon] if lat.is_number() && lon.is_number() => Some(json!([lon, lat])),
        _ => None,
    }
}

fn open_count(doc: &Value) -> Value {
    doc.pointer("/openports/count")
        .cloned()
        .unwrap_or(Value::from(0))
}

async fn host_action<L: HostPurposeLeaf>(
    app: Arc<App>,
    access: Access,
    pairs: Vec<(String, String)>,
    action: Action,
) -> Result<Response, ApiError> {
    let params = Params(pairs);
    let q = params.query()?;
    let flt = Hosts::<L>::scoped(&q, &access)?;
    let fmt = params.format();
    let numbers = params.flag("ipsasnumbers");
    let modulo = match params.get("modulo") {
        None | Some("") => None,
        Some(m) => Some(
            m.parse::<i64>()
                .ok()
                .filter(|m| *m > 0)
                .ok_or_else(|| ApiError::bad_request("modulo must be a positive integer"))?,
        ),
    };
    let opts = QueryOpts {
        limit: app.config.max_results,
        ..Default::default()
    };
    let headers = if matches!(action, Action::Coordinates) {
        vec![(header::CONTENT_TYPE, hv("application/json"))]
    } else {
        listing_headers(fmt)
    };
    Ok(streamed(&app.pool, headers, move |c, sink| {
        let mut framer = Framer::new(fmt);
        // Coordinates: (lon, lat) as text -> (point, count); bounded by
        // the number of distinct locations.
        let mut points: BTreeMap<String, (Value, u64)> = BTreeMap::new();
        ivre_pg::scan::query::get(c, &flt, &opts, |doc: Value| {
            let item = match action {
                Action::OnlyIps => addr_of(&doc, numbers),
                Action::CountOpenPorts => json!([addr_of(&doc, numbers), open_count(&doc)]),
                Action::IpsPorts => {
                    let ports: Vec<Value> = doc
                        .get("ports")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|p| {
                            let state = p.get("state_state")?;
                            Some(json!([p.get("port")?, state]))
                        })
                        .collect();
                    json!([addr_of(&doc, numbers), ports])
                }
                Action::Timeline => {
                    let Some(mut t) = doc.get("starttime").and_then(Value::as_str).and_then(epoch)
                    else {
                        return Ok(());
                    };
                    if let Some(m) = modulo {
                        t = t.rem_euclid(m);
                    }
                    json!([t, addr_of(&doc, numbers), open_count(&doc)])
                }
                Action::Coordinates => {
                    if let Some(coords) = location(&doc) {
                        let e = points
                            .entry(coords.to_string())
                            .or_insert_with(|| (coords, 0));
                        e.1 += 1;
                    }
                    return Ok(());
                }
            };
            framer.item(sink, &item)
        })?;
        if let Action::Coordinates = action {
            let geometries: Vec<Value> = points
                .into_values()
                .map(|(coords, n)| {
                    json!({"type": "Point", "coordinates": coords, "properties": {"count": n}})
                })
                .collect();
            let doc = json!({"type": "GeometryCollection", "geometries": geometries});
            return sink.write(doc.to_string().as_bytes());
        }
        framer.end(sink)
    })
    .await)
}

macro_rules! action_handler {
    ($name:ident, $action:expr) => {
        pub async fn $name<L: HostPurposeLeaf>(
            State(app): State<Arc<App>>,
            access: Access,
            UrlQuery(pairs): Pairs,
        ) -> Result<Response, ApiError> {
            host_action::<L>(app, access, pairs, $action).await
        }
    };
}

action_handler!(onlyips, Action::OnlyIps);
action_handler!(ipsports, Action::IpsPorts);
action_handler!(countopenports, Action::CountOpenPorts);
action_handler!(timeline, Action::Timeline);
action_handler!(coordinates, Action::Coordinates);

/// `GET /scans/diffcats`, `/view/diffcats` (`cat1`, `cat2`, optional
/// `onlydiff`): `[[addr, [[port, value, protocol], ...]], ...]` over the
/// addresses with records in both categories (and the `q=` filter, and the
/// caller's base filter); value -1: open in `cat1` only, 0: in both
/// (left out with `onlydiff`), 1: in `cat2` only. The protocol is a third
/// element (IVRE gives `[port, value]`: tcp/53 and udp/53 would be one).
/// `WEB_MAXRESULTS` caps the addresses.
pub async fn diffcats<L: HostPurposeLeaf>(
    State(app): State<Arc<App>>,
    access: Access,
    UrlQuery(pairs): Pairs,
) -> Result<Response, ApiError> {
    let params = Params(pairs);
    let q = params.query()?;
    let flt = Hosts::<L>::scoped(&q, &access)?;
    let fmt = params.format();
    let numbers = params.flag("ipsasnumbers");
    let cat = |name: &str| -> Result<String, ApiError> {
        let v = params.get(name).unwrap_or_default().to_string();
        ivre_pg::scan::diff::check_category(&v, name)?;
        Ok(v)
    };
    let (cat1, cat2) = (cat("cat1")?, cat("cat2")?);
    let include_both = !params.flag("onlydiff");
    let cap = app.config.max_results;
    Ok(streamed(&app.pool, listing_headers(fmt), move |c, sink| {
        let mut framer = Framer::new(fmt);
        let r = ivre_pg::scan::diff::diff_categories(
            c,
            &flt,
            &cat1,
            &cat2,
            include_both,
            |addr, ports| {
                let ports: Vec<Value> = ports
                    .iter()
                    .map(|p| json!([p.port, p.value, p.protocol]))
                    .collect();
                let a = if numbers {
                    addr_number(&addr)
                } else {
                    Value::from(addr)
                };
                framer.item(sink, &json!([a, ports]))?;
                if cap > 0 && framer.items >= cap {
                    return Err(Halt::Enough);
                }
                Ok(())
            },
        );
        match r {
            Ok(()) | Err(Halt::Enough) => framer.end(sink),
            Err(e) => Err(e),
        }
    })
    .await)
}

/// `GET /config`: the JavaScript the UIs load with a `<script>` tag.
pub async fn config(State(app): State<Arc<App>>) -> Response {
    let c = &app.config;
    let lines = [
        ("notesbase", json!("/dokuwiki/#IP#")),
        ("dflt_limit", json!(c.default_limit)),
        ("warn_dots_count", json!(20000)),
        ("uploadok", json!(c.upload_ok)),
        ("flow_time_precision", json!(3600)),
        ("version", json!(env!("CARGO_PKG_VERSION"))),
        ("auth_enabled", json!(c.auth_required)),
        ("sequential_loading", json!(false)),
        // IVRE's canonical order; rir and notes are not served.
        (
            "modules",
            json!(["view", "active", "passive", "dns", "flow"]),
        ),
    ];
    let body: String = lines
        .iter()
        .map(|(k, v)| format!("config.{k} = {v};\n"))
        .collect();
    ([(header::CONTENT_TYPE, "application/javascript")], body).into_response()
}

/// `GET /ipdata/ADDR`: AS, country, city and address tags (or `null`).
pub async fn ipdata(
    State(app): State<Arc<App>>,
    Path(addr): Path<String>,
) -> Result<Response, ApiError> {
    let ip = ivre_data::parse_addr(&addr)
        .ok_or_else(|| ApiError::bad_request(format!("invalid IP address {addr:?}")))?;
    let Some(db) = app.geoip.clone() else {
        return Err(ApiError::unavailable(
            "no MaxMind database on this server (--geoip-dir)",
        ));
    };
    let info = tokio::task::spawn_blocking(move || {
        db.lookup(ip).map(|i| {
            if i.is_empty() {
                Value::Null
            } else {
                serde_json::to_value(&i).unwrap_or(Value::Null)
            }
        })
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok(axum::Json(info).into_response())
}

/// `GET /flows?q=JSON` (spec §6.6): the flow graph `{nodes, edges}`, or
/// `{clients, servers, flows}` with `"count": true`. Unlike IVRE, access
/// control applies: a key whose base filter speaks of hosts cannot be
/// narrowed to flows, so it is refused rather than shown every flow.
pub async fn flows(
    State(app): State<Arc<App>>,
    access: Access,
    UrlQuery(pairs): Pairs,
) -> Result<Response, ApiError> {
    if access.base.is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this API key has a base filter, which cannot apply to flows",
        ));
    }
    let params = Params(pairs);
    match params.get("action").filter(|a| !a.is_empty()) {
        None => {}
        Some("details") => return flow_details(&app, params.get("q")).await,
        Some("daily") => return flow_daily(&app, &params).await,
        Some(a) => {
            return Err(ApiError::bad_request(format!(
                "unknown flows action {a:?} (details, daily)"
            )))
        }
    }
    let request: FlowRequest = match params.get("q") {
        None => FlowRequest::default(),
        Some(q) => serde_json::from_str(q)
            .map_err(|e| ApiError::bad_request(format!("q: not a flow request object: {e}")))?,
    };
    let answer = blocking(&app.pool, move |c| Ok(request.answer(c)?)).await?;
    Ok(axum::Json(answer).into_response())
}

/// `GET /flows?action=details&q={"type":"node"|"edge","id":...}`: a
/// host's (`{elt, in_flows, out_flows, clients, servers}`) or a flow's
/// (`{elt, meta}`) details; 404 when there is no such host or flow.
async fn flow_details(app: &Arc<App>, q: Option<&str>) -> Result<Response, ApiError> {
    #[derive(serde::Deserialize)]
    struct Details {
        #[serde(rename = "type")]
        kind: String,
        id: Value,
    }
    let d: Details = serde_json::from_str(q.unwrap_or_default()).map_err(|e| {
        ApiError::bad_request(format!(
            "q: expected {{\"type\": \"node\"|\"edge\", \"id\": ...}}: {e}"
        ))
    })?;
    let id_text = match &d.id {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(ApiError::bad_request("q: id is a string or a number")),
    };
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, format!("no such {}", d.kind));
    let answer = match d.kind.as_str() {
        "node" => {
            let addr: std::net::IpAddr = id_text.parse().map_err(|_| {
                ApiError::bad_request(format!("q: a node id is an address: {id_text:?}"))
            })?;
            blocking(&app.pool, move |c| {
                Ok(ivre_pg::flow::query::host_details(c, addr)?)
            })
            .await?
        }
        "edge" => {
            let id: i64 = id_text.parse().map_err(|_| not_found())?;
            blocking(&app.pool, move |c| {
                Ok(ivre_pg::flow::query::flow_details(c, id)?)
            })
            .await?
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "q: unknown type {other:?} (node, edge)"
            )))
        }
    };
    Ok(axum::Json(answer.ok_or_else(not_found)?).into_response())
}

/// `GET /flows?action=daily&q=REQUEST[&precision=SECONDS]`: for the flows
/// of the request (its `nodes`, `edges`, `after`, `before`), per time of
/// day (UTC) of their slots, the number of slots of each flow name
/// (`ivre-flowcli --flow-daily`): `[{"time_in_day": "HH:MM:SS",
/// "flows": [["tcp/443", n], ...]}, ...]`. The slot precision defaults to
/// IVRE's `FLOW_TIME_PRECISION` (3600).
async fn flow_daily(app: &Arc<App>, params: &Params) -> Result<Response, ApiError> {
    let request: FlowRequest = match params.get("q") {
        None => FlowRequest::default(),
        Some(q) => serde_json::from_str(q)
            .map_err(|e| ApiError::bad_request(format!("q: not a flow request object: {e}")))?,
    };
    let precision = match params.get("precision").filter(|p| !p.is_empty()) {
        None => 3600,
        Some(p) => p
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| ApiError::bad_request("precision must be a positive integer"))?,
    };
    let q = request.query()?;
    let days = blocking(&app.pool, move |c| {
        Ok(ivre_pg::flow::query::flow_daily(c, &q, precision)?)
    })
    .await?;
    let out: Vec<Value> = days
        .into_iter()
        .map(|d| {
            json!({
                "time_in_day": d.time_in_day.format("%H:%M:%S").to_string(),
                "flows": d.flows.iter().map(|(n, c)| json!([n, c])).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(axum::Json(out).into_response())
}

/// `/rir` and its actions: the RIR purpose has no tables here yet.
pub fn no_rir() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "the rir purpose is not available on this server yet: \
         no RIR (whois) data is stored (ivre-httpd serves scans, view, passive, flows)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_specs() {
        assert_eq!(top_spec("service"), ("service".into(), 15, false));
        assert_eq!(top_spec("port:open"), ("port:open".into(), 15, false));
        assert_eq!(top_spec("port:open:5"), ("port:open".into(), 5, false));
        assert_eq!(top_spec("-service:3"), ("service".into(), 3, true));
        assert_eq!(top_spec("~service"), ("service".into(), 15, true));
        assert_eq!(top_spec("!port:open:2"), ("port:open".into(), 2, true));
    }
}
