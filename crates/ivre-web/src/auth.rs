//! Authentication and access control. An API key (`ivre_` and 43 random
//! base64url characters, as IVRE's) is shown once at creation and stored as
//! an Argon2id hash, found again by its first 12 characters. A request
//! presents it as `Authorization: Bearer KEY` or IVRE's `X-API-Key: KEY`.
//! Its permissions (read, upload, admin) gate the routes, and its base
//! filter is ANDed to every query of every purpose ([`Access`]).
//!
//! Without a key: refused (401) when the server requires keys (the default
//! when it listens on a non-loopback address), else allowed to read
//! everything; a request that writes without a key must carry a `Referer`
//! of this server (IVRE's anti-CSRF rule for browsers; keys are exempt).
//! Refusals are written to the audit log. Verified keys are remembered
//! (by SHA-256, in memory) for `--key-cache` seconds (default 30), so that
//! Argon2 runs once per key and period, not once per request. A revocation
//! (`ivre-httpd keys revoke`, from any process) is announced with
//! PostgreSQL's `NOTIFY`: each server listens ([`listen_revocations`]) and
//! forgets the key when the revocation commits. Only while a server's
//! listening connection is down (it then forgets every key, and reconnects
//! every second) does the cache bound apply: a revoked key is accepted
//! for at most `--key-cache` seconds after its revocation.

use crate::access::Access;
use crate::error::ApiError;
use crate::stream::blocking;
use crate::App;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use ivre_model::filter::query::Query;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Characters of a key kept in clear to find its row.
pub const PREFIX_LEN: usize = 12;

/// The permissions a key can have.
pub const PERMISSIONS: [&str; 3] = ["read", "upload", "admin"];

/// A new random key.
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "ivre_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The Argon2id hash (PHC string) of a key.
pub fn hash_key(key: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(key.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the key: {e}"))
}

fn verify_key(key: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(key.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks that a base filter is a filter (no paging or projection) that
/// at least one purpose can apply.
pub fn check_base_filter(text: &str) -> anyhow::Result<()> {
    let q = Query::parse(text)?;
    if q.skip.is_some() || q.limit.is_some() || !q.sort.is_empty() || !q.fields.is_empty() {
        anyhow::bail!("a base filter cannot hold skip:, limit:, sortby: or fields:");
    }
    if q.scan_filter().is_err() && crate::viewq::view_filter(&q).is_err() {
        q.passive_filter()?;
    }
    Ok(())
}

/// Verified keys, by SHA-256 of the key.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<[u8; 32], (Access, Instant)>>,
    /// Bumped by every revocation heard: a check that read the keys
    /// before a revocation does not remember its (stale) answer.
    generation: AtomicU64,
}

impl KeyCache {
    /// Forgets a key (by id; None: every key).
    pub fn forget(&self, key_id: Option<i64>) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.lock() {
            match key_id {
                Some(id) => entries.retain(|_, (a, _)| a.key_id != Some(id)),
                None => entries.clear(),
            }
        }
    }

    /// The access of a presented key, or None when it is not a valid key.
    async fn check(&self, app: &App, key: &str) -> Result<Option<Access>, ApiError> {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let ttl = app.config.key_cache;
        if let Ok(entries) = self.entries.lock() {
            if let Some((access, at)) = entries.get(&digest) {
                if at.elapsed() < ttl {
                    return Ok(Some(access.clone()));
                }
            }
        }
        let Some(prefix) = key.get(..PREFIX_LEN).map(str::to_string) else {
            return Ok(None);
        };
        let key = key.to_string();
        let generation = self.generation.load(Ordering::SeqCst);
        let found = blocking(&app.pool, move |c| {
            let candidates = ivre_pg::web::valid_keys_by_prefix(c, &prefix)?;
            Ok(candidates
                .into_iter()
                .find(|k| verify_key(&key, &k.key_hash)))
        })
        .await?;
        let Some(k) = found else { return Ok(None) };
        let access = Access {
            key_id: Some(k.id),
            key_name: Some(k.name),
            owner: Some(k.owner),
            permissions: k.permissions,
            base: k.base_filter,
        };
        if !ttl.is_zero() && self.generation.load(Ordering::SeqCst) == generation {
            if let Ok(mut entries) = self.entries.lock() {
                entries.retain(|_, (_, at)| at.elapsed() < ttl);
                entries.insert(digest, (access.clone(), Instant::now()));
            }
        }
        Ok(Some(access))
    }
}

/// The key of a request: `Authorization: Bearer KEY` or `X-API-Key: KEY`.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_string());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let mut parts = auth.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(scheme), Some(key), None) if scheme.eq_ignore_ascii_case("bearer") => {
            Some(key.to_string())
        }
        _ => None,
    }
}

/// IVRE's Referer rule: the request comes from a page of this server.
fn referer_ok(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
    match (host, referer) {
        (Some(host), Some(r)) => ["http", "https"]
            .iter()
            .any(|scheme| r.starts_with(&format!("{scheme}://{host}/"))),
        _ => false,
    }
}

/// What the audit log keeps of a request.
struct Origin {
    remote_addr: Option<String>,
    method: String,
    path: String,
}

/// The middleware of every API route: who is asking, may they, and with
/// which base filter ([`Access`], in the request's extensions).
pub async fn authenticate(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let origin = Origin {
        remote_addr: req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        method: req.method().to_string(),
        // The full path: inside the prefix, the URI is stripped of it.
        path: req
            .extensions()
            .get::<OriginalUri>()
            .map_or(req.uri().path(), |u| u.path())
            .to_string(),
    };
    let write = !matches!(*req.method(), Method::GET | Method::HEAD);
    let is_config = origin.path.ends_with("/config");
    let key = presented_key(req.headers());
    let referer_ok = referer_ok(req.headers());
    let access = match key {
        Some(key) => match app.keys.check(&app, &key).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                return refuse(
                    &app,
                    origin,
                    None,
                    StatusCode::UNAUTHORIZED,
                    "invalid or revoked API key",
                )
                .await
            }
            Err(e) => return e.into_response(),
        },
        None if is_config && !write => Access::default(),
        None if app.config.auth_required => return refuse(
            &app,
            origin,
            None,
            StatusCode::UNAUTHORIZED,
            "authentication required: an API key (Authorization: Bearer KEY, or X-API-Key: KEY)",
        )
        .await,
        None if write && !referer_ok => {
            return ApiError::bad_request("Invalid Referer header. Check your configuration.")
                .into_response()
        }
        None => Access {
            permissions: if app.config.upload_ok {
                vec!["read".into(), "upload".into()]
            } else {
                vec!["read".into()]
            },
            ..Access::default()
        },
    };
    let needed = if write { "upload" } else { "read" };
    // The key routes check the identity themselves (any valid key
    // manages its owner's keys).
    let public = (is_config && !write) || req.uri().path().starts_with("/auth/");
    if !public && !access.may(needed) {
        let msg = format!("this API key lacks the {needed} permission");
        return refuse(&app, origin, Some(&access), StatusCode::FORBIDDEN, &msg).await;
    }
    req.extensions_mut().insert(access);
    next.run(req).await
}

/// Answers a refusal and writes it to the audit log.
async fn refuse(
    app: &Arc<App>,
    origin: Origin,
    access: Option<&Access>,
    status: StatusCode,
    reason: &str,
) -> Response {
    let event = ivre_pg::web::AuditEvent {
        event: "refused",
        key_id: access.and_then(|a| a.key_id),
        key_name: access.and_then(|a| a.key_name.clone()),
        remote_addr: origin.remote_addr,
        method: Some(origin.method),
        path: Some(origin.path),
        status: Some(i32::from(status.as_u16())),
        details: Some(serde_json::json!({ "reason": reason })),
    };
    if let Err(e) = blocking(&app.writer, move |c| Ok(ivre_pg::web::audit(c, &event)?)).await {
        log::error!("cannot write a refusal to the audit log: {}", e.message);
    }
    ApiError::new(status, reason).into_response()
}

/// Default period a verified key is remembered.
pub const KEY_CACHE: Duration = Duration::from_secs(30);

/// Listens for key revocations on a connection of its own, for as long as
/// the process runs (a thread): each one heard is forgotten at once;
/// when the connection fails, every key is forgotten, and it reconnects.
pub fn listen_revocations(app: Arc<App>, target: ivre_pg::DbTarget) {
    let spawned = std::thread::Builder::new()
        .name("key-revocations".into())
        .spawn(move || loop {
            match ivre_pg::connect_without_migrating(&target) {
                Ok(mut c) => {
                    // Revocations before this connection are in the table.
                    app.keys.forget(None);
                    let r = ivre_pg::web::listen_revocations(&mut c, |id| {
                        log::info!("API key {id} revoked: forgotten");
                        app.keys.forget(Some(id));
                    });
                    app.keys.forget(None);
                    if let Err(e) = r {
                        log::warn!("key revocations: {e}; listening again");
                    }
                }
                Err(e) => log::warn!(
                    "key revocations: {e}: a revoked key may be accepted for up to --key-cache seconds"
                ),
            }
            std::thread::sleep(Duration::from_secs(1));
        });
    if let Err(e) = spawned {
        log::warn!("cannot listen for key revocations ({e}): a revoked key may be accepted for up to --key-cache seconds");
    }
}
