//! `ivre-httpd keys add|list|revoke`: the API keys, from the command line
//! (the key is printed once, at creation; only its hash is stored).

use crate::auth::{check_base_filter, generate_key, hash_key, PERMISSIONS, PREFIX_LEN};
use anyhow::{bail, Result};
use postgres::Client;
use std::io::Write;

/// Creates a key and returns it.
pub fn add(
    client: &mut Client,
    name: &str,
    permissions: &[String],
    base_filter: Option<&str>,
) -> Result<String> {
    if name.trim().is_empty() {
        bail!("a key needs a name");
    }
    for p in permissions {
        if !PERMISSIONS.contains(&p.as_str()) {
            bail!("unknown permission {p:?} (read, upload, admin)");
        }
    }
    if let Some(f) = base_filter {
        check_base_filter(f).map_err(|e| anyhow::anyhow!("invalid base filter {f:?}: {e}"))?;
    }
    let key = generate_key();
    let hash = hash_key(&key)?;
    ivre_pg::web::add_key(
        client,
        name,
        &key[..PREFIX_LEN],
        &hash,
        permissions,
        base_filter,
    )?;
    Ok(key)
}

/// Prints the keys: name, prefix, permissions, base filter, created, revoked.
pub fn list(client: &mut Client, out: &mut impl Write) -> Result<()> {
    for k in ivre_pg::web::keys(client)? {
        writeln!(
            out,
            "{}\t{}...\t{}\t{}\tcreated {}\t{}",
            k.name,
            k.key_prefix,
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
