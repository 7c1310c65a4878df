//! Upserting aggregated observations: each batch is copied into a temporary
//! staging table and merged with one `INSERT … ON CONFLICT DO UPDATE`
//! (count summed, firstseen min, lastseen max, infos kept from the first
//! writer), in one transaction per batch.
//!
//! The caller pre-aggregates a batch so that its keys are unique (PostgreSQL
//! refuses to update one row twice in one statement).

use crate::copy::CopyBuffer;
use anyhow::{anyhow, Context, Result};
use postgres::Client;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// SHA-256 of the identity of an observation. Each field is written with a
/// presence byte and a length, so that no two identities collide by
/// concatenation and NULL differs from "".
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
    let canonical_addr = addr
        .and_then(|a| a.parse::<IpAddr>().ok())
        .map(|a| a.to_string());
    let port_text = port.map(|p| p.to_string());
    for field in [
        canonical_addr.as_deref(),
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

/// Loads batches of aggregated passive records (IVRE JSON objects).
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
    pub fn add(&mut self, rec: &Value) -> Result<()> {
        let r = rec
            .as_object()
            .ok_or_else(|| anyhow!("a passive record must be a JSON object"))?;
        let s = |k: &str| r.get(k).and_then(Value::as_str);
        let addr = s("addr");
        if let Some(a) = addr {
            a.parse::<IpAddr>()
                .map_err(|_| anyhow!("invalid address {a:?}"))?;
        }
        let recontype = s("recontype").ok_or_else(|| anyhow!("record without recontype"))?;
        let value = s("value").ok_or_else(|| anyhow!("record without value"))?;
        let port = r.get("port").and_then(Value::as_i64);
        let key = identity_hash(
            addr,
            s("sensor"),
            recontype,
            port,
            s("source"),
            value,
            s("targetval"),
        );
        let first = utc(r.get("firstseen")).ok_or_else(|| anyhow!("record without firstseen"))?;
        let last = utc(r.get("lastseen")).unwrap_or_else(|| first.clone());
        let b = &mut self.staging;
        b.text(&format!("\\x{}", hex::encode(key)))
            .opt_text(addr)
            .opt_text(s("sensor"))
            .text(recontype)
            .opt_text(s("source"))
            .opt_int(port)
            .text(value)
            .opt_text(s("targetval"))
            .int(r.get("count").and_then(Value::as_i64).unwrap_or(1))
            .text(&first)
            .text(&last);
        match r
            .get("infos")
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
        {
            Some(infos) => b.json(infos),
            None => b.null(),
        };
        b.int(r.get("schema_version").and_then(Value::as_i64).unwrap_or(3));
        b.end_row();
        Ok(())
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

/// IVRE's naive UTC time string (or epoch seconds) as a timestamptz literal.
fn utc(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(format!("{s}+00")),
        Value::Number(n) => {
            let secs = n.as_f64()?;
            let t = chrono::DateTime::from_timestamp_micros((secs * 1e6).round() as i64)?;
            Some(t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string())
        }
        _ => None,
    }
}
