//! Storage of the web API's access control (`sql/0007_web.sql`): API keys
//! (hashes only; hashing is the caller's) and the append-only audit log.

use crate::Result;
use postgres::{Client, GenericClient, Row};
use serde_json::Value;

/// A stored API key.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// Who the key belongs to (IVRE's user_email).
    pub owner: String,
    pub key_prefix: String,
    pub key_hash: String,
    pub permissions: Vec<String>,
    pub base_filter: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

const KEY_COLUMNS: &str =
    "id, name, key_prefix, key_hash, permissions, base_filter, created_at, revoked_at, owner";

fn key(row: &Row) -> ApiKey {
    ApiKey {
        id: row.get(0),
        name: row.get(1),
        key_prefix: row.get(2),
        key_hash: row.get(3),
        permissions: row.get(4),
        base_filter: row.get(5),
        created_at: row.get(6),
        revoked_at: row.get(7),
        owner: row.get(8),
    }
}

/// One audit event.
#[derive(Debug, Clone, Default)]
pub struct AuditEvent {
    /// `upload`, `delete`, `key_add`, `key_revoke` or `refused`.
    pub event: &'static str,
    pub key_id: Option<i64>,
    pub key_name: Option<String>,
    pub remote_addr: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub status: Option<i32>,
    pub details: Option<Value>,
}

/// Appends an event to the audit log.
pub fn audit(client: &mut impl GenericClient, e: &AuditEvent) -> Result<()> {
    client.execute(
        "INSERT INTO web_audit (event, key_id, key_name, remote_addr, method, path, status, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &e.event,
            &e.key_id,
            &e.key_name,
            &e.remote_addr,
            &e.method,
            &e.path,
            &e.status,
            &e.details,
        ],
    )?;
    Ok(())
}

/// A key to store (its hash only: hashing is the caller's).
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    pub name: &'a str,
    pub owner: &'a str,
    pub key_prefix: &'a str,
    pub key_hash: &'a str,
    pub permissions: &'a [String],
    pub base_filter: Option<&'a str>,
}

/// Stores a new key (and its audit event, in the same transaction; `by`
/// says who asked: its `event`, `key_id` and `key_name` are set here, the
/// rest (address, method, path, status) is the caller's; the default for
/// the command line).
pub fn add_key(client: &mut Client, k: &NewKey, by: &AuditEvent) -> Result<i64> {
    let (name, permissions) = (k.name, k.permissions);
    let mut tx = client.transaction()?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO web_api_key (name, owner, key_prefix, key_hash, permissions, base_filter)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &name,
                &k.owner,
                &k.key_prefix,
                &k.key_hash,
                &permissions,
                &k.base_filter,
            ],
        )
        .map_err(|e| match e.code() {
            Some(c) if c.code() == "23505" => {
                crate::Error::BadFilter(format!("an API key named {name:?} exists already"))
            }
            Some(c) if c.code() == "23514" => crate::Error::BadFilter(format!(
                "invalid permissions {permissions:?} (read, upload, admin)"
            )),
            _ => crate::Error::from(e),
        })?
        .get(0);
    let mut details = serde_json::json!({
        "owner": k.owner,
        "permissions": permissions,
        "base_filter": k.base_filter,
    });
    if let Some(by_name) = &by.key_name {
        details["by"] = Value::from(by_name.as_str());
    }
    audit(
        &mut tx,
        &AuditEvent {
            event: "key_add",
            key_id: Some(id),
            key_name: Some(name.to_string()),
            details: Some(details),
            ..by.clone()
        },
    )?;
    tx.commit()?;
    Ok(id)
}

/// Every key, revoked ones included, oldest first.
pub fn keys(client: &mut impl GenericClient) -> Result<Vec<ApiKey>> {
    keys_of(client, None)
}

/// The keys of an owner (None: every key), revoked ones included, oldest
/// first.
pub fn keys_of(client: &mut impl GenericClient, owner: Option<&str>) -> Result<Vec<ApiKey>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM web_api_key WHERE ($1::text IS NULL OR owner = $1) ORDER BY id"
    );
    Ok(client
        .query(sql.as_str(), &[&owner])?
        .iter()
        .map(key)
        .collect())
}

/// The valid keys with this prefix (the candidates of a presented key).
pub fn valid_keys_by_prefix(client: &mut impl GenericClient, prefix: &str) -> Result<Vec<ApiKey>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM web_api_key WHERE key_prefix = $1 AND revoked_at IS NULL"
    );
    Ok(client
        .query(sql.as_str(), &[&prefix])?
        .iter()
        .map(key)
        .collect())
}

/// The channel of `NOTIFY` on which a revocation is announced (payload:
/// the key's id), so that servers forget the key at once.
pub const KEY_CHANNEL: &str = "ivre_web_key_revoked";

/// Revokes a key by name (and audits it); false when no valid key has it.
/// Servers listening on [`KEY_CHANNEL`] hear of it when this commits.
pub fn revoke_key(client: &mut Client, name: &str) -> Result<bool> {
    Ok(revoke(client, KeyRef::Name(name), None, &AuditEvent::default())?.is_some())
}

/// How a key to revoke is named.
#[derive(Debug, Clone, Copy)]
pub enum KeyRef<'a> {
    Id(i64),
    Name(&'a str),
}

/// Revokes a valid key (of `owner` only, when given), audits it (`by` as in
/// [`add_key`]) and announces it on [`KEY_CHANNEL`], in one transaction;
/// returns the key as it was, or None when no valid key matches.
pub fn revoke(
    client: &mut Client,
    which: KeyRef,
    owner: Option<&str>,
    by: &AuditEvent,
) -> Result<Option<ApiKey>> {
    let (id, name) = match which {
        KeyRef::Id(id) => (Some(id), None),
        KeyRef::Name(n) => (None, Some(n)),
    };
    let mut tx = client.transaction()?;
    let sql = format!(
        "UPDATE web_api_key SET revoked_at = now()
         WHERE revoked_at IS NULL AND ($1::bigint IS NULL OR id = $1)
           AND ($2::text IS NULL OR name = $2) AND ($3::text IS NULL OR owner = $3)
         RETURNING {KEY_COLUMNS}"
    );
    let Some(row) = tx.query_opt(sql.as_str(), &[&id, &name, &owner])? else {
        return Ok(None);
    };
    let k = key(&row);
    audit(
        &mut tx,
        &AuditEvent {
            event: "key_revoke",
            key_id: Some(k.id),
            key_name: Some(k.name.clone()),
            details: by
                .key_name
                .as_ref()
                .map(|b| serde_json::json!({ "owner": k.owner, "by": b })),
            ..by.clone()
        },
    )?;
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&KEY_CHANNEL, &k.id.to_string()],
    )?;
    tx.commit()?;
    Ok(Some(k))
}

/// Waits for revocations: calls `revoked(id)` for each key revoked from
/// now on, until the connection fails (the error is returned; call again
/// to go on listening: revocations in between were missed).
pub fn listen_revocations(client: &mut Client, mut revoked: impl FnMut(i64)) -> Result<()> {
    client.batch_execute(&format!("LISTEN {KEY_CHANNEL}"))?;
    use postgres::fallible_iterator::FallibleIterator;
    let mut notes = client.notifications();
    let mut it = notes.blocking_iter();
    while let Some(n) = it.next()? {
        if n.channel() == KEY_CHANNEL {
            if let Ok(id) = n.payload().parse::<i64>() {
                revoked(id);
            }
        }
    }
    Ok(())
}

/// Which audit events (`GET /cgi/audit`): all conditions ANDed.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub event: Option<String>,
    pub key_name: Option<String>,
    /// Inclusive.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Exclusive.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The event types of `web_audit`.
pub const AUDIT_EVENTS: [&str; 5] = ["upload", "delete", "key_add", "key_revoke", "refused"];

const AUDIT_WHERE: &str = "($1::text IS NULL OR event = $1)
     AND ($2::text IS NULL OR key_name = $2)
     AND ($3::timestamptz IS NULL OR at >= $3)
     AND ($4::timestamptz IS NULL OR at < $4)";

const AUDIT_COLUMNS: &str =
    "id, at, event, key_id, key_name, remote_addr, method, path, status, details";

/// One event as the web API shows it (IVRE's event shape, with this
/// table's fields: the actor is an API key, the resource a path).
fn audit_json(row: &Row) -> Value {
    let at: chrono::DateTime<chrono::Utc> = row.get(1);
    serde_json::json!({
        "event_id": row.get::<_, i64>(0).to_string(),
        "created_at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "event_type": row.get::<_, String>(2),
        "actor": {
            "key_id": row.get::<_, Option<i64>>(3),
            "key_name": row.get::<_, Option<String>>(4),
            "remote_addr": row.get::<_, Option<String>>(5),
        },
        "resource": {
            "route": row.get::<_, Option<String>>(7),
            "method": row.get::<_, Option<String>>(6),
        },
        "outcome": row.get::<_, Option<i32>>(8),
        "details": row.get::<_, Option<Value>>(9),
    })
}

/// The events of `q`, newest first.
pub fn audit_events(
    client: &mut impl GenericClient,
    q: &AuditQuery,
    limit: Option<i64>,
    skip: i64,
) -> Result<Vec<Value>> {
    let sql = format!(
        "SELECT {AUDIT_COLUMNS} FROM web_audit WHERE {AUDIT_WHERE}
         ORDER BY at DESC, id DESC LIMIT $5 OFFSET $6"
    );
    Ok(client
        .query(
            sql.as_str(),
            &[&q.event, &q.key_name, &q.since, &q.until, &limit, &skip],
        )?
        .iter()
        .map(audit_json)
        .collect())
}

/// How many events `q` selects.
pub fn audit_count(client: &mut impl GenericClient, q: &AuditQuery) -> Result<i64> {
    let sql = format!("SELECT count(*) FROM web_audit WHERE {AUDIT_WHERE}");
    Ok(client
        .query_one(sql.as_str(), &[&q.event, &q.key_name, &q.since, &q.until])?
        .get(0))
}

/// One event by id.
pub fn audit_event(client: &mut impl GenericClient, id: i64) -> Result<Option<Value>> {
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM web_audit WHERE id = $1");
    Ok(client
        .query_opt(sql.as_str(), &[&id])?
        .as_ref()
        .map(audit_json))
}

/// The role `ivre-httpd read-role` makes by default.
pub const READ_ROLE: &str = "ivre_web_read";

/// Checks a role name (`[a-z_][a-z0-9_]*`, at most 63 characters: a plain
/// identifier, quoted by PostgreSQL's `format('%I')` all the same).
pub fn check_role_name(role: &str) -> Result<()> {
    let ok = !role.is_empty()
        && role.len() <= 63
        && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(crate::Error::BadFilter(format!(
            "invalid role name {role:?}: lower-case letters, digits and _, at most 63, \
             not starting with a digit"
        )))
    }
}

/// Creates (when missing) a role that may only read this database's schema
/// (USAGE on the schema, SELECT on its tables and views, now and for the
/// tables this user creates later), and makes the connecting user a member
/// of it, so that its sessions can take it (`SET ROLE`): the read pool of
/// `ivre-httpd --read-role`. Returns whether the role was created. Needs
/// the CREATEROLE privilege (or superuser) the first time.
pub fn create_read_role(client: &mut Client, role: &str) -> Result<bool> {
    check_role_name(role)?;
    let mut tx = client.transaction()?;
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)",
            &[&role],
        )?
        .get(0);
    // Statements made by the server from fixed templates: the role name
    // goes through format('%I'), never through our string handling.
    let mut run = |template: &str| -> Result<()> {
        let sql: String = tx
            .query_one(
                "SELECT format($1, $2::text, current_schema())",
                &[&template, &role],
            )?
            .get(0);
        tx.batch_execute(&sql)?;
        Ok(())
    };
    if !exists {
        run("CREATE ROLE %1$I NOLOGIN")?;
        run("COMMENT ON ROLE %1$I IS 'Read-only role of ivre-httpd''s read routes (ivre-httpd read-role)'")?;
    }
    run("GRANT USAGE ON SCHEMA %2$I TO %1$I")?;
    run("GRANT SELECT ON ALL TABLES IN SCHEMA %2$I TO %1$I")?;
    run("ALTER DEFAULT PRIVILEGES IN SCHEMA %2$I GRANT SELECT ON TABLES TO %1$I")?;
    run("GRANT %1$I TO CURRENT_USER")?;
    tx.commit()?;
    Ok(!exists)
}

/// Makes a session act as `role` from now on (`SET ROLE`, parameterized
/// through `set_config`): PostgreSQL then refuses any write the role has no
/// privilege for, whatever the session's other settings.
pub fn enter_read_role(client: &mut impl GenericClient, role: &str) -> Result<()> {
    check_role_name(role)?;
    client.query_one("SELECT set_config('role', $1, false)", &[&role])?;
    Ok(())
}
