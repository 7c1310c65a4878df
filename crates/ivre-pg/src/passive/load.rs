//! Upserting aggregated observations: each batch is copied into a temporary
//! staging table and merged with one `INSERT … ON CONFLICT DO UPDATE`
//! (count summed, firstseen min, lastseen max, infos kept from the first
//! writer), in one transaction per batch.
//!
//! The caller pre-aggregates a batch so that its keys are unique (PostgreSQL
//! refuses to update one row twice in one statement).

use crate::copy::CopyBuffer;
use anyhow::{Context, Result};
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
    let mut port_buf = itoa_buf();
    let port_text = port.map(|p| format_int(&mut port_buf, p));
    for field in [
        addr.map(str::as_bytes),
        sensor.map(str::as_bytes),
        Some(recontype.as_bytes()),
        port_text,
        source.map(str::as_bytes),
        Some(value.as_bytes()),
        targetval.map(str::as_bytes),
    ] {
        feed(&mut h, field);
    }
    h.finalize().into()
}

/// [`identity_hash`] of a record, without allocating (the address is
/// written in its canonical text form into a stack buffer).
pub fn record_key(r: &PassiveRecord) -> [u8; 32] {
    use std::io::Write;
    let mut addr_buf = [0u8; 64];
    let addr_len = r.addr.map(|a| {
        let mut c = std::io::Cursor::new(&mut addr_buf[..]);
        write!(c, "{a}").expect("an address fits in 64 bytes");
        c.position() as usize
    });
    let mut port_buf = itoa_buf();
    let port_text = r.port.map(|p| format_int(&mut port_buf, i64::from(p)));
    let mut h = Sha256::new();
    for field in [
        addr_len.map(|n| &addr_buf[..n]),
        r.sensor.as_deref().map(str::as_bytes),
        Some(r.recontype.as_bytes()),
        port_text,
        r.source.as_deref().map(str::as_bytes),
        Some(r.value.as_bytes()),
        r.targetval.as_deref().map(str::as_bytes),
    ] {
        feed(&mut h, field);
    }
    h.finalize().into()
}

fn feed(h: &mut Sha256, field: Option<&[u8]>) {
    match field {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update((s.len() as u64).to_le_bytes());
            h.update(s);
        }
    }
}

fn itoa_buf() -> [u8; 24] {
    [0u8; 24]
}

/// Decimal text of `v` in `buf` (no allocation).
fn format_int(buf: &mut [u8; 24], v: i64) -> &[u8] {
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
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
        self.add_keyed(&record_key(r), r);
    }

    /// Queues one aggregated record whose [`record_key`] is known.
    pub fn add_keyed(&mut self, key: &[u8; 32], r: &PassiveRecord) {
        let b = &mut self.staging;
        b.bytea(key)
            .opt_display(r.addr.as_ref())
            .opt_text(r.sensor.as_deref())
            .text(&r.recontype)
            .opt_text(r.source.as_deref())
            .opt_int(r.port.map(i64::from))
            .text(&r.value)
            .opt_text(r.targetval.as_deref())
            .int(i64::try_from(r.count).unwrap_or(i64::MAX))
            .timestamptz(&r.firstseen)
            .timestamptz(&r.lastseen);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_key_is_identity_hash() {
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let mut r = PassiveRecord::new("DNS_ANSWER", "a.example", t);
        assert_eq!(
            record_key(&r),
            identity_hash(None, None, "DNS_ANSWER", None, None, "a.example", None)
        );
        r.addr = Some("2001:db8::1".parse().unwrap());
        r.sensor = Some("S".into());
        r.port = Some(65535);
        r.source = Some("A-1.2.3.4-53".into());
        r.targetval = Some(String::new());
        assert_eq!(
            record_key(&r),
            identity_hash(
                Some("2001:db8::1"),
                Some("S"),
                "DNS_ANSWER",
                Some(65535),
                Some("A-1.2.3.4-53"),
                "a.example",
                Some("")
            )
        );
        let mut b = itoa_buf();
        assert_eq!(format_int(&mut b, -120), b"-120");
        assert_eq!(format_int(&mut b, 0), b"0");
    }
}
