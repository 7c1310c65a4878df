//! Loading host records with COPY, one transaction per file: a file is
//! stored whole or not at all.
//!
//! The loader takes typed [`Host`] records, stores each whole as IVRE JSON
//! in `scan_host.doc` and spreads the fields people filter on into the
//! typed child tables, each described once in [`tables`].

pub(crate) mod tables;

use super::tables::HostTables;
use crate::copy::{ColumnSet, TableBuffer};
use crate::{Error, Result};
use ivre_model::scan::Host;
use postgres::{Client, Transaction};
use serde_json::Value;
use tables::{
    Child, HopRow, HostRow, ScanCpe, ScanHop, ScanHost, ScanHostname, ScanOsclass, ScanOsmatch,
    ScanPort, ScanScript, ScanTag, ScriptRow,
};

/// Flush the buffered rows to the server past this many bytes (bounds memory).
const FLUSH_BYTES: usize = 8 << 20;

/// What is known about a file before and after reading it.
#[derive(Debug, Clone, Default)]
pub struct ScanFileMeta {
    pub sha256: String,
    pub name: String,
    pub format: String,
    pub scanner: Option<String>,
    pub scanner_version: Option<String>,
    pub args: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` UTC, as in the records.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub categories: Vec<String>,
    pub source: Option<String>,
    pub info: Option<Value>,
}

/// First key of the advisory lock an import takes on its content hash
/// ("SCAN"), so that the lock shares no key with other users of advisory locks.
const CONTENT_LOCK_CLASS: i32 = 0x5343_414e;

/// Loads the records of one file inside one transaction.
pub struct ScanLoader<'a> {
    tx: Transaction<'a>,
    file_id: i64,
    ids: HostIds,
    hosts: u64,
    tables: Tables<ScanHost>,
}

/// The COPY buffers of one host table set: the host rows (`H`: the scan's
/// or the view's columns) and the child rows, which both sets share.
pub(crate) struct Tables<H: ColumnSet> {
    host: TableBuffer<H>,
    port: TableBuffer<ScanPort>,
    script: TableBuffer<ScanScript>,
    hostname: TableBuffer<ScanHostname>,
    hop: TableBuffer<ScanHop>,
    osmatch: TableBuffer<ScanOsmatch>,
    osclass: TableBuffer<ScanOsclass>,
    cpe: TableBuffer<ScanCpe>,
    tag: TableBuffer<ScanTag>,
}

impl<H: ColumnSet> Tables<H> {
    pub(crate) fn new(t: HostTables) -> Self {
        Tables {
            host: TableBuffer::named(t.host()),
            port: TableBuffer::named(t.port()),
            script: TableBuffer::named(t.script()),
            hostname: TableBuffer::named(t.hostname()),
            hop: TableBuffer::named(t.hop()),
            osmatch: TableBuffer::named(t.osmatch()),
            osclass: TableBuffer::named(t.osclass()),
            cpe: TableBuffer::named(t.cpe()),
            tag: TableBuffer::named(t.tag()),
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.host.bytes()
            + self.port.bytes()
            + self.script.bytes()
            + self.hostname.bytes()
            + self.hop.bytes()
            + self.osmatch.bytes()
            + self.osclass.bytes()
            + self.cpe.bytes()
            + self.tag.bytes()
    }

    /// Parents first, for the foreign keys.
    pub(crate) fn flush(&mut self, tx: &mut Transaction) -> Result<()> {
        self.host.flush(tx)?;
        self.port.flush(tx)?;
        self.script.flush(tx)?;
        self.hostname.flush(tx)?;
        self.hop.flush(tx)?;
        self.osmatch.flush(tx)?;
        self.osclass.flush(tx)?;
        self.cpe.flush(tx)?;
        self.tag.flush(tx)
    }

    /// Queues the rows of one host: `row` for the host table, the child
    /// rows from `host`, all under the id `host_id`.
    pub(crate) fn queue(&mut self, host_id: i64, row: &H::Row<'_>, host: &Host) {
        self.host.push(row);
        for (idx, port) in host.ports.iter().flatten().enumerate() {
            self.port.push(&Child::new(host_id, idx, port));
            for (sidx, script) in port.scripts.iter().flatten().enumerate() {
                self.script.push(&ScriptRow {
                    host_id,
                    port_idx: idx,
                    idx: sidx,
                    port: port.port,
                    script,
                });
            }
        }
        for (idx, hostname) in host.hostnames.iter().flatten().enumerate() {
            self.hostname.push(&Child::new(host_id, idx, hostname));
        }
        for (trace_idx, trace) in host.traces.iter().flatten().enumerate() {
            for (idx, hop) in trace.hops.iter().enumerate() {
                self.hop.push(&HopRow {
                    host_id,
                    trace_idx,
                    idx,
                    trace,
                    hop,
                });
            }
        }
        if let Some(os) = &host.os {
            for (idx, m) in os.osmatch.iter().flatten().enumerate() {
                self.osmatch.push(&Child::new(host_id, idx, m));
            }
            for (idx, c) in os.osclass.iter().flatten().enumerate() {
                self.osclass.push(&Child::new(host_id, idx, c));
            }
        }
        for (idx, cpe) in host.cpes.iter().flatten().enumerate() {
            self.cpe.push(&Child::new(host_id, idx, cpe));
        }
        for (idx, tag) in host.tags.iter().flatten().enumerate() {
            self.tag.push(&Child::new(host_id, idx, tag));
        }
    }
}

/// Hands out host ids from blocks of 1024 of a table set's sequence (one
/// round trip per block).
pub(crate) struct HostIds {
    sequence: &'static str,
    next: i64,
    block_end: i64,
}

impl HostIds {
    pub(crate) fn new(t: HostTables) -> Self {
        HostIds {
            sequence: t.id_block(),
            next: 0,
            block_end: 0,
        }
    }

    pub(crate) fn next(&mut self, tx: &mut Transaction) -> Result<i64> {
        if self.next == self.block_end {
            // The sequence is a fixed name of ours (HostTables).
            let sql = format!("SELECT nextval('{}')", self.sequence);
            let start: i64 = tx.query_one(sql.as_str(), &[])?.get(0);
            self.next = start;
            self.block_end = start + 1024;
        }
        self.next += 1;
        Ok(self.next - 1)
    }
}

impl<'a> ScanLoader<'a> {
    /// Opens the transaction and records the file.
    pub fn begin(client: &'a mut Client, meta: &ScanFileMeta) -> Result<Self> {
        let mut tx = client.transaction()?;
        let file_id: i64 = tx
            .query_one(
                "INSERT INTO scan_file (sha256, name, format, categories, source)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &meta.sha256,
                    &meta.name,
                    &meta.format,
                    &meta.categories,
                    &meta.source,
                ],
            )?
            .get(0);
        Ok(ScanLoader {
            tx,
            file_id,
            ids: HostIds::new(HostTables::Scan),
            hosts: 0,
            tables: Tables::new(HostTables::Scan),
        })
    }

    /// Queues one host; `scan_host.doc` is its IVRE JSON (without the
    /// scripts that `scan_script` holds: [`tables::stored_doc`]).
    pub fn add(&mut self, host: &Host) -> Result<()> {
        self.add_row(host, None)
    }

    /// Queues one host read from the IVRE JSON `doc`, which is stored as
    /// given (a record exported by IVRE keeps its own formatting, such as
    /// `.000000` times, that [`Host`] normalises).
    pub fn add_verbatim(&mut self, host: &Host, doc: &Value) -> Result<()> {
        self.add_row(host, Some(doc))
    }

    fn add_row(&mut self, host: &Host, doc: Option<&Value>) -> Result<()> {
        if host.ip().is_none() {
            return Err(Error::InvalidRecord(format!(
                "invalid host address {:?}",
                host.addr
            )));
        }
        let doc = tables::stored_doc(host, doc)
            .map_err(|e| Error::InvalidRecord(format!("{}: {e}", host.addr)))?;
        let id = self.ids.next(&mut self.tx)?;
        self.hosts += 1;
        let row = HostRow {
            id,
            file_id: self.file_id,
            host,
            doc: &doc,
        };
        self.tables.queue(id, &row, host);
        if self.tables.bytes() > FLUSH_BYTES {
            self.tables.flush(&mut self.tx)?;
        }
        Ok(())
    }

    /// Whether another, committed import has this content.
    ///
    /// It first waits for any import of the same content still running: a
    /// lock on the hash, held until this transaction ends, makes "is it
    /// there?" and "store it" one step, so that of two imports of one file
    /// started at once the second sees the first's row and stores nothing.
    /// A lock rather than a unique index on `sha256`: `--force` stores the
    /// same content again on purpose, and a second `scan_file` row with it.
    pub fn already_imported(&mut self, sha256: &str) -> Result<bool> {
        self.tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&CONTENT_LOCK_CLASS, &sha256],
        )?;
        Ok(self
            .tx
            .query_opt(
                "SELECT 1 FROM scan_file WHERE sha256 = $1 AND id <> $2 LIMIT 1",
                &[&sha256, &self.file_id],
            )?
            .is_some())
    }

    /// Records the file's final metadata, marks its addresses for the next
    /// view build, and commits. Returns the host count.
    pub fn finish(mut self, meta: &ScanFileMeta) -> Result<u64> {
        self.tables.flush(&mut self.tx)?;
        crate::view::pending::mark_scan_file(&mut self.tx, self.file_id)?;
        let hosts = self.hosts as i64;
        self.tx.execute(
            "UPDATE scan_file SET sha256 = $9, scanner = $2, scanner_version = $3, args = $4,
                 start_time = $5::text::timestamptz, end_time = $6::text::timestamptz,
                 host_count = $7, info = $8, format = $10, imported_at = now()
             WHERE id = $1",
            &[
                &self.file_id,
                &meta.scanner,
                &meta.scanner_version,
                &meta.args,
                &meta.start_time.as_deref().map(|t| format!("{t}+00")),
                &meta.end_time.as_deref().map(|t| format!("{t}+00")),
                &hosts,
                &meta.info,
                &meta.sha256,
                &meta.format,
            ],
        )?;
        self.tx.commit().map_err(Error::at_commit)?;
        Ok(self.hosts)
    }
}
