//! RSA public keys stored by the scan and passive purposes, for
//! `ivre-getmoduli` (shared-factor analysis): TLS certificates (the
//! `pubkey` of `ssl-cert` results and of passive `SSL_SERVER` certificates)
//! and SSH host keys (`ssh-hostkey` results, passive `SSH_SERVER_HOSTKEY`).
//!
//! Certificates and passive SSH keys carry their modulus (decimal text) in
//! their JSON; scan SSH keys are the raw key (base64), decoded by the caller.
//! Every query is fixed text: nothing of the user reaches it.

use crate::query::for_each_row;
use crate::{Error, Result};
use postgres::Client;
use std::net::IpAddr;

/// Where keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// `ssl-cert` results of the scans.
    ActiveSsl,
    /// `SSL_SERVER` certificates of the passive purpose.
    PassiveSsl,
    /// `ssh-hostkey` results of the scans.
    ActiveSsh,
    /// `SSH_SERVER_HOSTKEY` records of the passive purpose.
    PassiveSsh,
}

/// One stored key: the server and either its modulus (decimal) or, for
/// scan SSH keys, the base64 key blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub addr: IpAddr,
    pub port: Option<u16>,
    pub source: KeySource,
    /// Decimal modulus, or base64 `ssh-rsa` key for [`KeySource::ActiveSsh`].
    pub data: String,
}

const ACTIVE_SSL: &str = "SELECT h.addr, s.port, e->'pubkey'->>'modulus' \
     FROM scan_script s JOIN scan_host h ON h.id = s.host_id, \
     jsonb_array_elements(CASE jsonb_typeof(s.data->'ssl-cert') \
         WHEN 'array' THEN s.data->'ssl-cert' \
         WHEN 'object' THEN jsonb_build_array(s.data->'ssl-cert') \
         ELSE '[]'::jsonb END) e \
     WHERE s.name = 'ssl-cert' AND e->'pubkey'->>'type' = 'rsa' \
       AND e->'pubkey'->>'modulus' IS NOT NULL";

const ACTIVE_SSH: &str = "SELECT h.addr, s.port, k->>'key' \
     FROM scan_script s JOIN scan_host h ON h.id = s.host_id, \
     jsonb_array_elements(CASE jsonb_typeof(s.data->'ssh-hostkey') \
         WHEN 'array' THEN s.data->'ssh-hostkey' ELSE '[]'::jsonb END) k \
     WHERE s.name = 'ssh-hostkey' AND k->>'type' = 'ssh-rsa' AND k->>'key' IS NOT NULL";

const PASSIVE_SSL: &str = "SELECT addr, port, infos->'pubkey'->>'modulus' FROM passive \
     WHERE recontype = 'SSL_SERVER' AND source = 'cert' AND addr IS NOT NULL \
       AND infos->'pubkey'->>'type' = 'rsa' AND infos->'pubkey'->>'modulus' IS NOT NULL";

const PASSIVE_SSH: &str = "SELECT addr, port, infos->>'modulus' FROM passive \
     WHERE recontype = 'SSH_SERVER_HOSTKEY' AND addr IS NOT NULL \
       AND infos->>'algo' = 'ssh-rsa' AND infos->>'modulus' IS NOT NULL";

/// Calls `each` with every stored RSA key of `source`, streaming.
pub fn for_each_key<E: From<Error>>(
    client: &mut Client,
    source: KeySource,
    mut each: impl FnMut(StoredKey) -> std::result::Result<(), E>,
) -> std::result::Result<u64, E> {
    let sql = match source {
        KeySource::ActiveSsl => ACTIVE_SSL,
        KeySource::ActiveSsh => ACTIVE_SSH,
        KeySource::PassiveSsl => PASSIVE_SSL,
        KeySource::PassiveSsh => PASSIVE_SSH,
    };
    for_each_row(client, sql, &[], |row| {
        let port: Option<i32> = row.get(1);
        each(StoredKey {
            addr: row.get(0),
            port: port.and_then(|p| u16::try_from(p).ok()),
            source,
            data: row.get(2),
        })
    })
}

/// Number of stored keys of `source` (for tests and summaries).
pub fn count(client: &mut Client, source: KeySource) -> Result<u64> {
    for_each_key::<Error>(client, source, |_| Ok(()))
}
