//! `POST /scans` and `POST /view`: uploads of scan results (multipart:
//! `source`, `categories`, one or more `result` files), imported by the
//! importer of `ivre-scan2db` (content-hash provenance: a file imported
//! before is not stored twice). `POST /view` then brings the view up to
//! date as `ivre-scan2db --update-view` does (an incremental
//! `ivre-db2view`, with the server's MaxMind files), so that the hosts are
//! in `/view` when it answers (IVRE: stored in both purposes). Needs the
//! upload permission and `--upload`; the body is limited in size
//! (`--max-upload`); every upload is audited. Both run on the writer pool.

use crate::access::Access;
use crate::error::ApiError;
use crate::stream::blocking;
use crate::App;
use axum::extract::{ConnectInfo, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ivre_model::scan::ReadOptions;
use serde_json::json;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

/// `POST /scans`.
pub async fn upload_scans(
    State(app): State<Arc<App>>,
    access: Access,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    form: Multipart,
) -> Result<Response, ApiError> {
    upload(app, access, peer, form, false).await
}

/// `POST /view`.
pub async fn upload_view(
    State(app): State<Arc<App>>,
    access: Access,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    form: Multipart,
) -> Result<Response, ApiError> {
    upload(app, access, peer, form, true).await
}

async fn upload(
    app: Arc<App>,
    access: Access,
    peer: SocketAddr,
    mut form: Multipart,
    view: bool,
) -> Result<Response, ApiError> {
    if !app.config.upload_ok {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "uploads are disabled on this server (ivre-httpd --upload)",
        ));
    }
    let mut source = None;
    let mut categories: Vec<String> = Vec::new();
    let mut files: Vec<(String, tempfile::NamedTempFile)> = Vec::new();
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(e.status(), format!("invalid upload: {}", e.body_text()))
    };
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "source" => source = Some(field.text().await.map_err(bad)?),
            "categories" => {
                let text = field.text().await.map_err(bad)?;
                categories.extend(
                    text.split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_string),
                );
            }
            "result" => {
                let name = field.file_name().unwrap_or("result").to_string();
                let mut tmp = tempfile::NamedTempFile::new()
                    .map_err(|e| ApiError::internal(format!("cannot store the upload: {e}")))?;
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    tmp.write_all(&chunk)
                        .map_err(|e| ApiError::internal(format!("cannot store the upload: {e}")))?;
                }
                files.push((name, tmp));
            }
            // IVRE's form also sends `referer` (for its HTML answer).
            _ => {}
        }
    }
    let source = source
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("source is mandatory"))?;
    if files.is_empty() {
        return Err(ApiError::bad_request("no result file in the upload"));
    }
    categories.sort();
    categories.dedup();
    let opts = ReadOptions {
        categories: categories.clone(),
        source: Some(source.clone()),
        ..ReadOptions::default()
    };
    let remote_addr = Some(peer.ip().to_string());
    let path = format!(
        "{}/{}",
        app.config.prefix,
        if view { "view" } else { "scans" }
    );
    let geoip_dir = app.geoip_dir.clone();
    let writer = app.writer.clone();
    let (results, stored, view_state) = blocking(&app.writer, move |c| {
        let mut results = Vec::new();
        let mut stored = 0u64;
        for (name, tmp) in &files {
            let path = tmp.path().to_string_lossy().into_owned();
            match ivre_cli::scan::import_file(c, &path, &opts, false) {
                Ok(hosts) => {
                    stored += 1;
                    results.push(json!({"name": name, "hosts": hosts}));
                }
                Err(e) => {
                    let msg = format!("{e:#}").replace(&path, name);
                    results.push(json!({"name": name, "error": msg}));
                }
            }
        }
        let view_state = if view && stored > 0 {
            Some(update_view(c, &writer, geoip_dir.as_deref())?)
        } else {
            None
        };
        let event = ivre_pg::web::AuditEvent {
            event: "upload",
            key_id: access.key_id,
            key_name: access.key_name.clone(),
            remote_addr,
            method: Some("POST".into()),
            path: Some(path),
            status: Some(200),
            details: Some(json!({
                "source": source,
                "categories": categories,
                "files": results,
                "view": view_state,
            })),
        };
        ivre_pg::web::audit(c, &event)?;
        Ok((results, stored, view_state))
    })
    .await?;
    let mut answer = json!({"count": stored, "files": results});
    if let Some(state) = view_state {
        answer["view"] = json!(state);
    }
    Ok(axum::Json(answer).into_response())
}

/// The incremental view build after an upload to `/view`: `built`, or
/// `pending` when another build holds the lock (the hosts stay pending
/// for the next `ivre-db2view`).
fn update_view(
    c: &mut postgres::Client,
    writer: &crate::pool::Pool,
    geoip_dir: Option<&std::path::Path>,
) -> Result<&'static str, ApiError> {
    use ivre_pg::view::build::{self, Build, BuildKind, Knowledge, Outcome};
    let enrich = ivre_cli::db2view::DataEnrich::new(geoip_dir)
        .map_err(|e| ApiError::internal(format!("{e:#}")))?;
    let know = Knowledge {
        enrich: Some(&enrich),
        probes: ivre_cli::probes::service_probes(),
    };
    Ok(
        // An incremental build turns into a full one on a database that
        // never had one; its jobs open their sessions like the writer pool's.
        match build::run(c, &Build::all(BuildKind::Incremental), know, &|| {
            writer.session()
        })? {
            Outcome::Busy => "pending",
            Outcome::UpToDate | Outcome::Built(_) => "built",
        },
    )
}

/// `POST /flows/cleanup` (spec §6.6): IVRE's flow clean-up heuristic is a
/// no-op on its SQL backends, and here too (the flow importers merge as
/// they load). Gated and audited like an upload; `{"status": "ok"}`.
pub async fn flows_cleanup(
    State(app): State<Arc<App>>,
    access: Access,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Response, ApiError> {
    if !app.config.upload_ok {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "uploads are disabled on this server (ivre-httpd --upload)",
        ));
    }
    let event = ivre_pg::web::AuditEvent {
        event: "upload",
        key_id: access.key_id,
        key_name: access.key_name.clone(),
        remote_addr: Some(peer.ip().to_string()),
        method: Some("POST".into()),
        path: Some(format!("{}/flows/cleanup", app.config.prefix)),
        status: Some(200),
        details: Some(json!({"action": "flows_cleanup"})),
    };
    blocking(&app.writer, move |c| Ok(ivre_pg::web::audit(c, &event)?)).await?;
    Ok(axum::Json(json!({"status": "ok"})).into_response())
}

/// `POST /flows` (IVRE's bulk ingestion of Zeek / flow records as JSON):
/// not served; the flow importers read those files.
pub async fn flows_post() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "POST /flows is not served: import flow files with ivre-zeek2db or ivre-flow2db",
    )
}
