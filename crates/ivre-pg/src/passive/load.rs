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
    let mut addr_buf = Vec::new();
    let addr_len = r.addr.map(|a| {
        crate::copy::write_ip(&mut addr_buf, &a);
        addr_buf.len()
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

/// Merges the staged rows into `passive`: count summed, firstseen min,
/// lastseen max, infos kept from the first writer.
const MERGE: &str = "INSERT INTO passive (key_hash, addr, sensor, recontype, source, port, value,
         targetval, count, firstseen, lastseen, infos, schema_version)
     SELECT key_hash, addr, sensor, recontype, source, port, value,
         targetval, count, firstseen, lastseen, infos, schema_version
     FROM passive_staging
     ON CONFLICT (key_hash) DO UPDATE SET
         count = passive.count + excluded.count,
         firstseen = least(passive.firstseen, excluded.firstseen),
         lastseen = greatest(passive.lastseen, excluded.lastseen)";

/// An aggregated observation held as its COPY text: the identity columns
/// encoded once, the counters kept as numbers. A few hundred bytes where a
/// [`PassiveRecord`] with its infos takes kilobytes, so that many more
/// distinct observations can be aggregated in memory before a database
/// round trip (each round trip re-writes a row that is seen again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedRow {
    /// `addr` to `targetval`, encoded.
    head: Box<[u8]>,
    /// `None`: the record had no infos (later ones may bring theirs, as
    /// in [`PassiveRecord::merge`]); `Some(None)`: empty infos (NULL).
    infos: Option<Option<Box<[u8]>>>,
    count: u64,
    firstseen: chrono::DateTime<chrono::Utc>,
    lastseen: chrono::DateTime<chrono::Utc>,
    schema_version: u32,
}

impl StagedRow {
    /// Encodes a record.
    pub fn new(r: &PassiveRecord) -> Self {
        let size = 64
            + r.sensor.as_ref().map_or(0, String::len)
            + r.recontype.len()
            + r.source.as_ref().map_or(0, String::len)
            + r.value.len()
            + r.targetval.as_ref().map_or(0, String::len);
        let mut b = CopyBuffer::detached(size);
        b.opt_ip(r.addr.as_ref())
            .opt_text(r.sensor.as_deref())
            .text(&r.recontype)
            .opt_text(r.source.as_deref())
            .opt_int(r.port.map(i64::from))
            .text(&r.value)
            .opt_text(r.targetval.as_deref());
        StagedRow {
            head: b.into_bytes(),
            infos: r.infos.as_ref().map(encode_infos),
            count: r.count,
            firstseen: r.firstseen,
            lastseen: r.lastseen,
            schema_version: r.schema_version,
        }
    }

    /// Whether the record had infos (possibly empty).
    pub fn has_infos(&self) -> bool {
        self.infos.is_some()
    }

    /// Folds another observation of the same identity, with
    /// [`PassiveRecord::merge`]'s arithmetic.
    pub fn merge(&mut self, other: &PassiveRecord) {
        self.count = self.count.saturating_add(other.count);
        if other.firstseen < self.firstseen {
            self.firstseen = other.firstseen;
        }
        if other.lastseen > self.lastseen {
            self.lastseen = other.lastseen;
        }
        if self.infos.is_none() {
            self.infos = other.infos.as_ref().map(encode_infos);
        }
    }
}

fn encode_infos(infos: &ivre_model::passive::record::Infos) -> Option<Box<[u8]>> {
    (!infos.is_empty()).then(|| {
        let mut b = CopyBuffer::detached(256);
        b.json(infos);
        b.into_bytes()
    })
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
            .opt_ip(r.addr.as_ref())
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

    /// Merges `rows` into `passive` in one transaction, sending them in
    /// COPY chunks of a few megabytes (so that a large batch never exists
    /// twice in memory). Returns the number of rows inserted or updated.
    pub fn store<'r>(
        &mut self,
        rows: impl IntoIterator<Item = (&'r [u8; 32], &'r StagedRow)>,
    ) -> Result<u64> {
        const CHUNK_BYTES: usize = 8 << 20;
        let mut tx = self.client.transaction()?;
        self.staging.flush(&mut tx)?;
        for (key, row) in rows {
            let b = &mut self.staging;
            b.bytea(key)
                .raw(&row.head)
                .int(i64::try_from(row.count).unwrap_or(i64::MAX))
                .timestamptz(&row.firstseen)
                .timestamptz(&row.lastseen);
            match row.infos.as_ref().and_then(|i| i.as_deref()) {
                Some(json) => b.raw(json),
                None => b.null(),
            };
            b.int(i64::from(row.schema_version));
            b.end_row();
            if b.bytes() >= CHUNK_BYTES {
                b.flush(&mut tx)?;
            }
        }
        self.staging.flush(&mut tx)?;
        let n = tx
            .execute(MERGE, &[])
            .context("merging the batch into passive")?;
        tx.commit()?;
        Ok(n)
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
            .execute(MERGE, &[])
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
        // A staged row is the same COPY text as the record.
        let t2 = chrono::DateTime::from_timestamp(5, 0).unwrap();
        let mut other = r.clone();
        other.firstseen = t2;
        other.lastseen = t2;
        other.count = 2;
        other.infos = Some(serde_json::Map::from_iter([("domain".into(), "x".into())]));
        let mut staged = StagedRow::new(&r);
        staged.merge(&other);
        let mut merged = r.clone();
        merged.merge(other);
        let mut direct = CopyBuffer::detached(0);
        let mut via = CopyBuffer::detached(0);
        let key = [7u8; 32];
        for (buf, rec) in [(&mut direct, Some(&merged)), (&mut via, None)] {
            buf.bytea(&key);
            match rec {
                Some(m) => {
                    buf.opt_display(m.addr.as_ref())
                        .opt_text(m.sensor.as_deref())
                        .text(&m.recontype)
                        .opt_text(m.source.as_deref())
                        .opt_int(m.port.map(i64::from))
                        .text(&m.value)
                        .opt_text(m.targetval.as_deref())
                        .int(m.count as i64)
                        .timestamptz(&m.firstseen)
                        .timestamptz(&m.lastseen)
                        .json(m.infos.as_ref().unwrap())
                        .int(3);
                }
                None => {
                    buf.raw(&staged.head)
                        .int(staged.count as i64)
                        .timestamptz(&staged.firstseen)
                        .timestamptz(&staged.lastseen)
                        .raw(staged.infos.clone().unwrap().unwrap().as_ref())
                        .int(3);
                }
            }
        }
        assert_eq!(direct.into_bytes(), via.into_bytes());
        assert_eq!(format_int(&mut b, 0), b"0");
    }
}
