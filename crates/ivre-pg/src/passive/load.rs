//! Upserting aggregated observations: each batch is copied into a temporary
//! staging table and merged with one `INSERT … ON CONFLICT DO UPDATE`
//! (count summed, firstseen min, lastseen max, infos kept from the first
//! writer), in one transaction per batch, which also marks the batch's
//! addresses for the next view build.
//!
//! The caller pre-aggregates a batch so that its keys are unique (PostgreSQL
//! refuses to update one row twice in one statement).

use super::provenance::FileImport;
use crate::copy::{columns, Column, ColumnSet, CopyBuffer};
use crate::Result;
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
    let mut port_buf = itoa_buf();
    let port_text = port.map(|p| format_int(&mut port_buf, p));
    hash_fields([
        addr.map(str::as_bytes),
        sensor.map(str::as_bytes),
        Some(recontype.as_bytes()),
        port_text,
        source.map(str::as_bytes),
        Some(value.as_bytes()),
        targetval.map(str::as_bytes),
    ])
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
    hash_fields([
        addr_len.map(|n| &addr_buf[..n]),
        r.sensor.as_deref().map(str::as_bytes),
        Some(r.recontype.as_bytes()),
        port_text,
        r.source.as_deref().map(str::as_bytes),
        Some(r.value.as_bytes()),
        r.targetval.as_deref().map(str::as_bytes),
    ])
}

/// The hash of [`identity_hash`]'s fields, in its order.
fn hash_fields(fields: [Option<&[u8]>; 7]) -> [u8; 32] {
    let mut h = Sha256::new();
    for field in fields {
        match field {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_le_bytes());
                h.update(s);
            }
        }
    }
    h.finalize().into()
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
        Identity::write(&mut b, r);
        StagedRow {
            head: b.into_bytes(),
            infos: r.infos.as_ref().map(encode_infos),
            count: r.count,
            firstseen: r.firstseen,
            lastseen: r.lastseen,
            schema_version: r.schema_version,
        }
    }

    /// The memory the row takes, itself included.
    pub fn size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.head.len()
            + self
                .infos
                .as_ref()
                .and_then(Option::as_ref)
                .map_or(0, |b| b.len())
    }

    /// Whether the record had infos (possibly empty).
    pub fn has_infos(&self) -> bool {
        self.infos.is_some()
    }

    /// The encoded infos; `None` for NULL.
    fn infos_json(&self) -> Option<&[u8]> {
        self.infos.as_ref()?.as_deref()
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

/// The identity columns of a staged row, encoded once per distinct
/// observation ([`StagedRow::new`]).
struct Identity;

impl ColumnSet for Identity {
    type Row<'r> = PassiveRecord;
    const COLUMNS: &'static [Column<Self>] = columns![
        "addr" => |b, r| b.opt_ip(r.addr.as_ref()),
        "sensor" => |b, r| b.opt_text(r.sensor.as_deref()),
        "recontype" => |b, r| b.text(&r.recontype),
        "source" => |b, r| b.opt_text(r.source.as_deref()),
        "port" => |b, r| b.opt_int(r.port.map(i64::from)),
        "value" => |b, r| b.text(&r.value),
        "targetval" => |b, r| b.opt_text(r.targetval.as_deref()),
    ];
}

/// A staged row with its key, as copied into `passive_staging`.
struct Keyed<'r> {
    key: &'r [u8; 32],
    row: &'r StagedRow,
}

/// The columns of `passive_staging` that follow the [`Identity`] ones.
struct Counters;

impl ColumnSet for Counters {
    type Row<'r> = Keyed<'r>;
    const COLUMNS: &'static [Column<Self>] = columns![
        "key_hash" => |b, r| b.bytea(r.key),
        "count" => |b, r| b.int(i64::try_from(r.row.count).unwrap_or(i64::MAX)),
        "firstseen" => |b, r| b.timestamptz(&r.row.firstseen),
        "lastseen" => |b, r| b.timestamptz(&r.row.lastseen),
        "infos" => |b, r| b.opt(r.row.infos_json(), CopyBuffer::raw),
        "schema_version" => |b, r| b.int(i64::from(r.row.schema_version)),
    ];
}

/// Writes one `passive_staging` row: the encoded identity, then the rest.
fn write_staged(b: &mut CopyBuffer, key: &[u8; 32], row: &StagedRow) {
    b.raw(&row.head);
    Counters::write(b, &Keyed { key, row });
    b.end_row();
}

/// Loads batches of aggregated passive records.
pub struct PassiveLoader<'a> {
    client: &'a mut Client,
    staging: CopyBuffer,
}

impl<'a> PassiveLoader<'a> {
    pub fn new(client: &'a mut Client) -> Result<Self> {
        client.batch_execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS passive_staging
                 (LIKE passive INCLUDING DEFAULTS EXCLUDING IDENTITY) ON COMMIT DELETE ROWS;
             ALTER TABLE passive_staging DROP COLUMN IF EXISTS id",
        )?;
        Ok(PassiveLoader {
            client,
            staging: CopyBuffer::new(
                "passive_staging",
                Identity::names().chain(Counters::names()),
            ),
        })
    }

    /// Queues one aggregated record.
    pub fn add(&mut self, r: &PassiveRecord) {
        write_staged(&mut self.staging, &record_key(r), &StagedRow::new(r));
    }

    /// Merges `rows` into `passive` in one transaction, sending them in
    /// COPY chunks of a few megabytes (so that a large batch never exists
    /// twice in memory). Returns the number of rows inserted or updated.
    pub fn store<'r>(
        &mut self,
        rows: impl IntoIterator<Item = (&'r [u8; 32], &'r StagedRow)>,
    ) -> Result<u64> {
        self.merge(rows, None)
    }

    /// [`PassiveLoader::store`], advancing `file` to `lines` committed
    /// input lines in the same transaction: what `passive` holds of a file
    /// and how far its import got never disagree, whenever the import stops.
    pub fn store_through<'r>(
        &mut self,
        rows: impl IntoIterator<Item = (&'r [u8; 32], &'r StagedRow)>,
        file: &mut FileImport,
        lines: u64,
    ) -> Result<u64> {
        self.merge(rows, Some((file, lines)))
    }

    fn merge<'r>(
        &mut self,
        rows: impl IntoIterator<Item = (&'r [u8; 32], &'r StagedRow)>,
        progress: Option<(&mut FileImport, u64)>,
    ) -> Result<u64> {
        const CHUNK_BYTES: usize = 8 << 20;
        let mut tx = self.client.transaction()?;
        self.staging.flush(&mut tx)?;
        for (key, row) in rows {
            write_staged(&mut self.staging, key, row);
            if self.staging.bytes() >= CHUNK_BYTES {
                self.staging.flush(&mut tx)?;
            }
        }
        self.staging.flush(&mut tx)?;
        let n = tx.execute(MERGE, &[])?;
        crate::view::pending::mark_passive_staging(&mut tx)?;
        if let Some((file, lines)) = progress {
            file.advance(&mut tx, lines)?;
        }
        tx.commit().map_err(crate::Error::at_commit)?;
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
        self.store([])
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
        let key = [7u8; 32];
        let mut direct = CopyBuffer::detached(0);
        direct
            .opt_text(merged.addr.map(|a| a.to_string()).as_deref())
            .opt_text(merged.sensor.as_deref())
            .text(&merged.recontype)
            .opt_text(merged.source.as_deref())
            .opt_int(merged.port.map(i64::from))
            .text(&merged.value)
            .opt_text(merged.targetval.as_deref())
            .bytea(&key)
            .int(merged.count as i64)
            .timestamptz(&merged.firstseen)
            .timestamptz(&merged.lastseen)
            .json(merged.infos.as_ref().unwrap())
            .int(i64::from(merged.schema_version));
        direct.end_row();
        let mut via = CopyBuffer::detached(0);
        write_staged(&mut via, &key, &staged);
        assert_eq!(direct.into_bytes(), via.into_bytes());
        assert_eq!(format_int(&mut b, 0), b"0");
    }
}
