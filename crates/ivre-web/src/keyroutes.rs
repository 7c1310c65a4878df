//! API keys over the web (spec §6.10, IVRE's `/auth/api-keys` and
//! `/auth/admin/api-keys`), and `/auth/me`.
//!
//! The identity is the API key presented; its owner (IVRE's `user_email`)
//! groups keys. Any valid key lists, creates and revokes the keys of its
//! owner; a key it creates has at most its permissions and its base filter
//! (a filter asked for is ANDed to it: a key never makes a key that sees
//! more). An admin key lists and revokes every key (`/auth/admin/...`) and
//! creates keys for any owner with any permissions and base filter.
//! Without a key: 401. Key changes go through the writer pool and the
//! audit log; a revocation takes effect at once (this server forgets the
//! key, the others hear of it by `NOTIFY`).
//!
//! Shapes (deliberate differences from IVRE: keys are named by their row
//! id, given in `key_hash` as IVRE's clients expect an opaque identifier
//! there, since the hash itself (Argon2id) is no identifier; keys never
//! expire (`expires_at` null); `permissions`, `base_filter`, `revoked_at`
//! are added; use is not tracked (no `last_used`), so that reads never
//! write):
//! * `GET /auth/me`: `{"authenticated", "email" (the owner), "name",
//!   "is_admin", "permissions", "base_filter"}`;
//! * `GET /auth/api-keys`: `[{key_hash, key_prefix, user_email, name,
//!   created_at, expires_at, revoked_at, permissions, base_filter}]`;
//! * `POST /auth/api-keys` with `{"name", "permissions"?, "base_filter"?,
//!   "owner"? (admin)}`: `{"key", "name", "key_hash", ...}` (the only time
//!   the key is shown);
//! * `DELETE /auth/api-keys/ID` (owner-scoped) and
//!   `DELETE /auth/admin/api-keys/ID`: `{"status": "ok"}`, or 404.

use crate::access::Access;
use crate::error::ApiError;
use crate::stream::blocking;
use crate::App;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ivre_pg::web::{ApiKey, AuditEvent, KeyRef};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

/// The identity of a request (a key), or 401.
fn identity(access: &Access) -> Result<(i64, &str), ApiError> {
    match (access.key_id, access.owner.as_deref()) {
        (Some(id), Some(owner)) => Ok((id, owner)),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication required: an API key (Authorization: Bearer KEY, or X-API-Key: KEY)",
        )),
    }
}

fn admin(access: &Access) -> Result<(), ApiError> {
    identity(access)?;
    if access.may("admin") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this API key lacks the admin permission",
        ))
    }
}

fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn key_json(k: &ApiKey) -> Value {
    json!({
        "key_hash": k.id.to_string(),
        "key_prefix": k.key_prefix,
        "user_email": k.owner,
        "name": k.name,
        "created_at": iso(k.created_at),
        "expires_at": Value::Null,
        "revoked_at": k.revoked_at.map(iso),
        "permissions": k.permissions,
        "base_filter": k.base_filter,
    })
}

/// What the audit log keeps of who asked (the key, the client's address,
/// the method and full path).
pub struct Asker(AuditEvent);

impl axum::extract::FromRequestParts<Arc<App>> for Asker {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _app: &Arc<App>,
    ) -> Result<Asker, ApiError> {
        let access = parts.extensions.get::<Access>();
        Ok(Asker(AuditEvent {
            event: "key_add",
            key_id: None,
            key_name: access.and_then(|a| a.key_name.clone()),
            remote_addr: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
            method: Some(parts.method.to_string()),
            path: Some(
                parts
                    .extensions
                    .get::<OriginalUri>()
                    .map_or(parts.uri.path(), |u| u.path())
                    .to_string(),
            ),
            status: Some(200),
            details: None,
        }))
    }
}

/// `GET /auth/me`: who the key is.
pub async fn me(access: Access) -> Response {
    match (access.key_id, &access.owner) {
        (Some(_), Some(owner)) => Json(json!({
            "authenticated": true,
            "email": owner,
            "display_name": access.key_name,
            "name": access.key_name,
            "is_admin": access.may("admin"),
            "permissions": access.permissions,
            "base_filter": access.base,
            "groups": [],
        }))
        .into_response(),
        _ => Json(json!({ "authenticated": false })).into_response(),
    }
}

/// `GET /auth/api-keys`: the keys of the caller's owner.
pub async fn list_own(State(app): State<Arc<App>>, access: Access) -> Result<Response, ApiError> {
    let owner = identity(&access)?.1.to_string();
    let keys = blocking(&app.pool, move |c| {
        Ok(ivre_pg::web::keys_of(c, Some(&owner))?)
    })
    .await?;
    Ok(Json(keys.iter().map(key_json).collect::<Vec<_>>()).into_response())
}

/// `GET /auth/admin/api-keys`: every key.
pub async fn list_all(State(app): State<Arc<App>>, access: Access) -> Result<Response, ApiError> {
    admin(&access)?;
    let keys = blocking(&app.pool, move |c| Ok(ivre_pg::web::keys_of(c, None)?)).await?;
    Ok(Json(keys.iter().map(key_json).collect::<Vec<_>>()).into_response())
}

/// The body of `POST /auth/api-keys`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    #[serde(default)]
    base_filter: Option<String>,
    #[serde(default)]
    owner: Option<String>,
}

/// `POST /auth/api-keys`: a new key, shown once.
pub async fn create(
    State(app): State<Arc<App>>,
    access: Access,
    Asker(by): Asker,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, own) = identity(&access)?;
    let own = own.to_string();
    let json_body = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("application/json"));
    if !json_body {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON: {\"name\": ...}",
        ));
    }
    let req: Create = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))?;
    let name = req.name.trim().to_string();
    let is_admin = access.may("admin");
    let permissions = req.permissions.unwrap_or_else(|| vec!["read".to_string()]);
    let owner = match req.owner.map(|o| o.trim().to_string()) {
        Some(o) if o != own && !is_admin => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "only an admin key creates keys for another owner",
            ))
        }
        Some(o) if o.is_empty() => return Err(ApiError::bad_request("owner: empty")),
        Some(o) => o,
        None => own,
    };
    let asked = req
        .base_filter
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty());
    crate::keys::check_new(&name, &permissions, asked.as_deref())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let base_filter = if is_admin {
        asked
    } else {
        if let Some(p) = permissions.iter().find(|p| !access.may(p)) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("this API key lacks the {p} permission it would give"),
            ));
        }
        // q= tokens are ANDed: the new key sees at most what this one sees.
        match (access.base.clone(), asked) {
            (None, a) => a,
            (Some(b), None) => Some(b),
            (Some(b), Some(a)) => Some(format!("{b} {a}")),
        }
    };
    crate::keys::check_new(&name, &permissions, base_filter.as_deref())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let app2 = app.clone();
    let (name2, owner2, perms2, base2) = (
        name.clone(),
        owner.clone(),
        permissions.clone(),
        base_filter.clone(),
    );
    let (key, id) = blocking(&app2.writer, move |c| {
        crate::keys::create(c, &name2, &owner2, &perms2, base2.as_deref(), &by).map_err(|e| {
            match e.downcast::<ivre_pg::Error>() {
                Ok(e) => ApiError::from(e),
                Err(e) => ApiError::internal(e.to_string()),
            }
        })
    })
    .await?;
    Ok(Json(json!({
        "key": key,
        "name": name,
        "key_hash": id.to_string(),
        "key_prefix": &key[..crate::auth::PREFIX_LEN],
        "user_email": owner,
        "permissions": permissions,
        "base_filter": base_filter,
    }))
    .into_response())
}

async fn revoke(
    app: Arc<App>,
    id: &str,
    owner: Option<String>,
    by: AuditEvent,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "no such valid API key");
    let id: i64 = id.trim().parse().map_err(|_| not_found())?;
    let by = AuditEvent {
        event: "key_revoke",
        ..by
    };
    let revoked = blocking(&app.writer, move |c| {
        Ok(ivre_pg::web::revoke(
            c,
            KeyRef::Id(id),
            owner.as_deref(),
            &by,
        )?)
    })
    .await?;
    let k = revoked.ok_or_else(not_found)?;
    // At once here; the other servers hear the NOTIFY.
    app.keys.forget(Some(k.id));
    Ok(Json(json!({"status": "ok", "revoked": key_json(&k)})).into_response())
}

/// `DELETE /auth/api-keys/ID`: revokes a key of the caller's owner.
pub async fn revoke_own(
    State(app): State<Arc<App>>,
    access: Access,
    Asker(by): Asker,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let owner = identity(&access)?.1.to_string();
    revoke(app, &id, Some(owner), by).await
}

/// `DELETE /auth/admin/api-keys/ID`: revokes any key.
pub async fn revoke_any(
    State(app): State<Arc<App>>,
    access: Access,
    Asker(by): Asker,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin(&access)?;
    revoke(app, &id, None, by).await
}
