//! `ivre-httpd keys add|list|revoke`: the API keys, from the command line
//! (the key is printed once, at creation; only its hash is stored). The
//! web API's key routes ([`crate::keyroutes`]) create keys with [`create`]
//! too.

use crate::auth::{check_base_filter, generate_key, hash_key, PERMISSIONS, PREFIX_LEN};
use anyhow::{bail, Result};
use ivre_pg::web::{AuditEvent, NewKey};
use postgres::Client;
use std::io::Write;

/// Checks what a new key is asked with (name, permissions, base filter).
pub fn check_new(name: &str, permissions: &[String], base_filter: Option<&str>) -> Result<()> {
    if name.trim().is_empty() {
        bail!("a key needs a name");
    }
    if name.chars().any(char::is_control) {
        bail!("a key name cannot hold control characters");
    }
    if permissions.is_empty() {
        bail!("a key needs at least one permission (read, upload, admin)");
    }
    for p in permissions {
        if !PERMISSIONS.contains(&p.as_str()) {
            bail!("unknown permission {p:?} (read, upload, admin)");
        }
    }
    if let Some(f) = base_filter {
        check_base_filter(f).map_err(|e| anyhow::anyhow!("invalid base filter {f:?}: {e}"))?;
    }
    Ok(())
}

/// Creates a checked key (see [`check_new`]) for `owner`, audited as asked
/// `by`; returns the key (the only time it exists in clear) and its id.
pub fn create(
    client: &mut Client,
    name: &str,
    owner: &str,
    permissions: &[String],
    base_filter: Option<&str>,
    by: &AuditEvent,
) -> Result<(String, i64)> {
    let key = generate_key();
    let hash = hash_key(&key)?;
    let id = ivre_pg::web::add_key(
        client,
        &NewKey {
            name,
            owner,
            key_prefix: &key[..PREFIX_LEN],
            key_hash: &hash,
            permissions,
            base_filter,
        },
        by,
    )?;
    Ok((key, id))
}

/// Creates a key (its owner: `owner`, else its name) and returns it.
pub fn add(
    client: &mut Client,
    name: &str,
    owner: Option<&str>,
    permissions: &[String],
    base_filter: Option<&str>,
) -> Result<String> {
    check_new(name, permissions, base_filter)?;
    let owner = owner.unwrap_or(name);
    if owner.trim().is_empty() {
        bail!("a key needs an owner");
    }
    let (key, _) = create(
        client,
        name,
        owner,
        permissions,
        base_filter,
        &AuditEvent::default(),
    )?;
    Ok(key)
}

/// Prints the keys: name, prefix, owner, permissions, base filter,
/// created, revoked.
pub fn list(client: &mut Client, out: &mut impl Write) -> Result<()> {
    for k in ivre_pg::web::keys(client)? {
        writeln!(
            out,
            "{}\t{}...\towner {}\t{}\t{}\tcreated {}\t{}",
            k.name,
            k.key_prefix,
            k.owner,
            k.permissions.join(","),
            k.base_filter.as_deref().unwrap_or("(all records)"),
            k.created_at.format("%Y-%m-%d %H:%M:%S"),
            match k.revoked_at {
                Some(t) => format!("revoked {}", t.format("%Y-%m-%d %H:%M:%S")),
                None => "valid".into(),
            }
        )?;
    }
    Ok(())
}

/// Revokes a key by name.
pub fn revoke(client: &mut Client, name: &str) -> Result<()> {
    if !ivre_pg::web::revoke_key(client, name)? {
        bail!("no valid API key named {name:?}");
    }
    Ok(())
}
