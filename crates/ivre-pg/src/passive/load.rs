//! Upserting aggregated observations: each batch is copied into a temporary
//! staging table and merged with one `INSERT … ON CONFLICT DO UPDATE`
//! (count summed, firstseen min, lastseen max, infos kept from the first
//! writer), in one transaction per batch.
//!
//! The caller pre-aggregates a batch so that its keys are unique (PostgreSQL
//! refuses to update one row twice in one statement).

use crate::copy::CopyBuffer;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use ivre_model::passive::PassiveRecord;
use postgres::Client;
use sha2::{Digest, Sha256};

/// SHA-256 of the identity of an observation. Each field is written with a
/// presence byte and a length, so that no two identities collide by
/// concatenation and NULL differs from "". `addr` must be canonical text.
pub fn identity_hash(
    addr: Option<&str>,
    sensor: Option<&str>,
    recontype: &str,
    port: Option<i64>,
    source: Option<&str>,
    value: &str,
    targetval: Option<&str>,
) -> [u8; 32] {
    let mut h = Sha256::new();
    let port_text = port.map(|p| p.to_string());
    for field in [
        addr,
        sensor,
        Some(recontype),
        port_text.as_deref(),
        source,
        Some(value),
        targetval,
    ] {
        match field {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    h.finalize().into()
}

/// Loads batches of aggregated passive records.
pub struct PassiveLoader<'a> {
    client: &'a mut Client,
    staging: CopyBuffer,
}

const COLUMNS: &[&str] = &[
    "key_hash",
    "addr",
    "sensor",
    "recontype",
    "source",
    "port",
    "value",
    "targetval",
    "count",
    "firstseen",
    "lastseen",
    "infos",
    "schema_version",
];

impl<'a> PassiveLoader<'a> {
    pub fn new(client: &'a mut Client) -> Result<Self> {
        client.batch_execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS passive_staging
                 (LIKE passive INCLUDING DEFAULTS EXCLUDING IDENTITY) ON COMMIT DELETE ROWS;
             ALTER TABLE passive_staging DROP COLUMN IF EXISTS id",
        )?;
        Ok(PassiveLoader {
            client,
            staging: CopyBuffer::new("passive_staging", COLUMNS),
        })
    }

    /// Queues one aggregated record.
    pub fn add(&mut self, r: &PassiveRecord) {
        let addr = r.addr.map(|a| a.to_string());
        let port = r.port.map(i64::from);
        let key = identity_hash(
            addr.as_deref(),
            r.sensor.as_deref(),
            &r.recontype,
            port,
            r.source.as_deref(),
            &r.value,
            r.targetval.as_deref(),
        );
        let b = &mut self.staging;
        b.text(&format!("\\x{}", hex::encode(key)))
            .opt_text(addr.as_deref())
            .opt_text(r.sensor.as_deref())
            .text(&r.recontype)
            .opt_text(r.source.as_deref())
            .opt_int(port)
            .text(&r.value)
            .opt_text(r.targetval.as_deref())
            .int(i64::try_from(r.count).unwrap_or(i64::MAX))
            .text(&utc(&r.firstseen))
            .text(&utc(&r.lastseen));
        match r.infos.as_ref().filter(|m| !m.is_empty()) {
            Some(infos) => b.json(infos),
            None => b.null(),
        };
        b.int(i64::from(r.schema_version));
        b.end_row();
    }

    /// Records queued since the last commit.
    pub fn pending(&self) -> usize {
        self.staging.rows()
    }

    /// Merges the queued records into `passive` in one transaction.
    pub fn commit(&mut self) -> Result<u64> {
        if self.staging.rows() == 0 {
            return Ok(0);
        }
        let mut tx = self.client.transaction()?;
        self.staging.flush(&mut tx)?;
        let n = tx
            .execute(
                "INSERT INTO passive (key_hash, addr, sensor, recontype, source, port, value,
                     targetval, count, firstseen, lastseen, infos, schema_version)
                 SELECT key_hash, addr, sensor, recontype, source, port, value,
                     targetval, count, firstseen, lastseen, infos, schema_version
                 FROM passive_staging
                 ON CONFLICT (key_hash) DO UPDATE SET
                     count = passive.count + excluded.count,
                     firstseen = least(passive.firstseen, excluded.firstseen),
                     lastseen = greatest(passive.lastseen, excluded.lastseen)",
                &[],
            )
            .context("merging the batch into passive")?;
        tx.commit()?;
        Ok(n)
    }
}

fn utc(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}
