//! `ivre-db2view`'s engine: reads the scan and passive records sorted by
//! address, folds those of each address into one host (the model's
//! conversions and merge rules), finalises it and writes it with COPY.
//!
//! Memory stays flat: each source is a server-side cursor read in chunks,
//! and one address's records at a time are held (folded every
//! [`PREFOLD`] records for an address that has more). Everything a build
//! changes (the view, `view_pending`, `view_build`) commits in one
//! transaction: a build that stops leaves the view as it was.
//!
//! Kinds of build ([`BuildKind`]): a **full** build replaces the view; an
//! **incremental** build rebuilds the addresses of `view_pending` from all
//! their records (an address with none left leaves the view); a **partial**
//! build reads the records chosen by filters or one purpose and merges each
//! host into the view record of its address, as IVRE's `db2view` does.

use super::full::AddrRange;
use super::write::ViewWriter;
use crate::passive::query::{record_at, COLUMNS as PASSIVE_COLUMNS};
use crate::scan::HostTables;
use crate::sql::SqlBuilder;
use crate::{Error, Result};
use ivre_model::filter::passive::PassiveFilter;
use ivre_model::filter::scan::ScanFilter;
use ivre_model::probes::ServiceProbes;
use ivre_model::scan::{self, Host};
use ivre_model::view::{self, Enrich};
use postgres::{Client, Portal, Row, Transaction};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Records of one address folded into one host past this many (bounds the
/// memory an address with a huge history takes).
pub const PREFOLD: usize = 16384;

/// Rows fetched from a cursor per round trip.
const FETCH_ROWS: i32 = 1000;

/// Hosts of a partial build merged with the view per round trip.
const MERGE_CHUNK: usize = 500;

/// First key of the advisory lock a writing build holds ("VIEW").
const BUILD_LOCK_CLASS: i32 = 0x5649_4557;

/// What a build reads and how it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildKind {
    /// Every address: the view is replaced.
    Full,
    /// The addresses of `view_pending`, from all their records; a full
    /// build when the view has had none since it was emptied.
    Incremental,
    /// The records chosen by the [`Build`]'s sources, merged into the
    /// view record of their address (`merge: false`: replacing it).
    Partial { merge: bool },
}

impl BuildKind {
    fn name(self) -> &'static str {
        match self {
            BuildKind::Full => "full",
            BuildKind::Incremental => "incremental",
            BuildKind::Partial { .. } => "partial",
        }
    }
}

/// A build: the records it reads and how.
#[derive(Debug, Clone)]
pub struct Build {
    /// The scan records to read (`None`: none).
    pub nmap: Option<ScanFilter>,
    /// The passive records to read (`None`: none).
    pub passive: Option<PassiveFilter>,
    pub kind: BuildKind,
    /// Added to the categories of every host built (`--view-category`).
    pub category: Option<String>,
    /// Connections that read and write in parallel, each a disjoint address
    /// range (full builds; the others use one).
    pub jobs: usize,
}

impl Build {
    /// Both purposes, every record.
    pub fn all(kind: BuildKind) -> Self {
        Build {
            nmap: Some(ScanFilter::True),
            passive: Some(PassiveFilter::True),
            kind,
            category: None,
            jobs: 1,
        }
    }
}

/// What the conversions and the finalisation use besides the records.
#[derive(Clone, Copy, Default)]
pub struct Knowledge<'a> {
    /// `infos` and address tags (the data purpose); none: no `infos`.
    pub enrich: Option<&'a (dyn Enrich + Sync)>,
    /// Nmap's service probes, to identify passive banners; none: the
    /// services the passive import found are kept as they are.
    pub probes: Option<&'a ServiceProbes>,
}

impl<'a> Knowledge<'a> {
    fn enricher(&self) -> Option<&'a dyn Enrich> {
        self.enrich.map(|e| e as &dyn Enrich)
    }
}

/// Opens a new connection to the database (for the jobs of a full build).
pub type Connect<'a> = dyn Fn() -> Result<Client> + Sync + 'a;

/// What a build did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Another build holds the lock; nothing was done.
    Busy,
    /// No address is pending (incremental build); nothing was done.
    UpToDate,
    Built(Report),
}

/// Figures of a build that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The kind that ran (an incremental build may have been a full one).
    pub kind: BuildKind,
    pub records_read: u64,
    pub hosts_written: u64,
    /// View records removed because their address has no record left.
    pub hosts_removed: u64,
}

/// Runs a build that writes the view. Holds a session advisory lock for its
/// duration: a second build at the same time (two cron runs) returns
/// [`Outcome::Busy`] at once. `connect` opens the connections of the jobs
/// of a full build.
pub fn run(
    client: &mut Client,
    build: &Build,
    know: Knowledge,
    connect: &Connect,
) -> Result<Outcome> {
    let locked: bool = client
        .query_one("SELECT pg_try_advisory_lock($1, 0)", &[&BUILD_LOCK_CLASS])?
        .get(0);
    if !locked {
        return Ok(Outcome::Busy);
    }
    let outcome = run_locked(client, build, know, connect);
    // The lock is also released when the session ends (a lost connection).
    let unlocked = client.execute("SELECT pg_advisory_unlock($1, 0)", &[&BUILD_LOCK_CLASS]);
    let outcome = outcome?;
    unlocked?;
    Ok(outcome)
}

fn run_locked(
    client: &mut Client,
    build: &Build,
    know: Knowledge,
    connect: &Connect,
) -> Result<Outcome> {
    let mut kind = build.kind;
    if kind == BuildKind::Incremental {
        let built: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM view_build WHERE kind = 'full')",
                &[],
            )?
            .get(0);
        if !built {
            kind = BuildKind::Full;
        }
    }
    let build = &Build {
        kind,
        ..build.clone()
    };
    if kind == BuildKind::Full {
        let report = super::full::run(client, build, know, connect)?;
        return Ok(Outcome::Built(report));
    }
    let mut tx = client.transaction()?;
    let mut writer = ViewWriter::new();
    let mut removed = 0;
    let records = match kind {
        // Run above, in shadow tables.
        BuildKind::Full => return Err(Error::InvalidRecord("full build run as another".into())),
        BuildKind::Incremental => {
            // The marks are removed first: a writer marking one of these
            // addresses again waits for this transaction, then marks anew.
            tx.batch_execute(
                "CREATE TEMPORARY TABLE view_batch ON COMMIT DROP AS \
                     WITH d AS (DELETE FROM view_pending RETURNING addr) SELECT addr FROM d;
                 ANALYZE view_batch;
                 CREATE TEMPORARY TABLE view_old ON COMMIT DROP AS \
                     WITH d AS (DELETE FROM view_host WHERE addr IN (SELECT addr FROM view_batch) \
                     RETURNING addr) SELECT addr FROM d",
            )?;
            let pending: i64 = tx.query_one("SELECT count(*) FROM view_batch", &[])?.get(0);
            if pending == 0 {
                return Ok(Outcome::UpToDate);
            }
            let records = read(&mut tx, build, Restrict::Batch, know, |tx, host| {
                writer.add(tx, &host)
            })?;
            writer.flush(&mut tx)?;
            removed = tx
                .query_one(
                    // EXCEPT rather than a correlated NOT EXISTS, which
                    // Citus refuses between a local and a distributed
                    // table (view_old holds each address once).
                    "SELECT count(*) FROM (SELECT addr FROM view_old EXCEPT \
                     SELECT addr FROM view_host WHERE addr IN (SELECT addr FROM view_old)) o",
                    &[],
                )?
                .get::<_, i64>(0) as u64;
            records
        }
        BuildKind::Partial { merge } => {
            let mut chunk = Vec::new();
            let records = read(&mut tx, build, Restrict::None, know, |tx, host| {
                chunk.push(host);
                if chunk.len() >= MERGE_CHUNK {
                    store_chunk(tx, &mut chunk, merge, know, &mut writer)?;
                }
                Ok::<_, Error>(())
            })?;
            store_chunk(&mut tx, &mut chunk, merge, know, &mut writer)?;
            records
        }
    };
    let written = writer.finish(&mut tx)?;
    tx.execute(
        "INSERT INTO view_build (kind, started_at, finished_at, records_read, hosts_written, \
         hosts_removed) VALUES ($1, now(), clock_timestamp(), $2, $3, $4)",
        &[
            &kind.name(),
            &(records as i64),
            &(written as i64),
            &(removed as i64),
        ],
    )?;
    tx.commit()?;
    Ok(Outcome::Built(Report {
        kind,
        records_read: records,
        hosts_written: written,
        hosts_removed: removed,
    }))
}

/// Stores the hosts of a partial build: each merged with the view record of
/// its address when there is one (`merge`), replacing it.
fn store_chunk(
    tx: &mut Transaction,
    chunk: &mut Vec<Host>,
    merge: bool,
    know: Knowledge,
    writer: &mut ViewWriter,
) -> Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let addrs: Vec<IpAddr> = chunk.iter().filter_map(Host::ip).collect();
    let mut stored: HashMap<IpAddr, String> = HashMap::new();
    if merge {
        // The whole records, read before the delete rather than returned by
        // it: Citus refuses a RETURNING clause that reads another table (the
        // scripts). The build's advisory lock keeps other writers out.
        let sql = format!(
            "SELECT h.addr, {}::text FROM view_host h WHERE h.addr = ANY($1)",
            HostTables::View.doc()
        );
        let rows = tx.query(sql.as_str(), &[&addrs])?;
        stored.extend(rows.iter().map(|r| (r.get(0), r.get(1))));
    }
    tx.execute("DELETE FROM view_host WHERE addr = ANY($1)", &[&addrs])?;
    for host in chunk.drain(..) {
        let host = match host.ip().and_then(|ip| stored.remove(&ip)) {
            Some(doc) => {
                let old: Host = parse_doc(&doc, &host.addr, "view")?;
                let mut merged = view::merge(old, host);
                view::finalize(&mut merged, know.enricher());
                merged
            }
            None => host,
        };
        writer.add(tx, &host)?;
    }
    Ok(())
}

/// Prints (or otherwise consumes) the hosts a build would write, without
/// writing: IVRE's `db2view --test`. Reads the records of `build`'s
/// sources (its kind is not used). Returns the number of records read.
pub fn test<E: From<Error>>(
    client: &mut Client,
    build: &Build,
    know: Knowledge,
    mut each: impl FnMut(Host) -> Result<(), E>,
) -> Result<u64, E> {
    let mut tx = client
        .build_transaction()
        .read_only(true)
        .start()
        .map_err(Error::from)?;
    read(&mut tx, build, Restrict::None, know, |_, host| each(host))
}

/// A source of records sorted by address: a server-side cursor read in
/// chunks.
struct Cursor {
    portal: Portal,
    rows: VecDeque<Row>,
    done: bool,
}

impl Cursor {
    fn open(tx: &mut Transaction, sql: &str, b: &SqlBuilder) -> Result<Cursor> {
        let portal = tx.bind(sql, &b.refs()).map_err(Error::from_query)?;
        Ok(Cursor {
            portal,
            rows: VecDeque::new(),
            done: false,
        })
    }

    /// The address of the next row (column 0).
    fn peek(&mut self, tx: &mut Transaction) -> Result<Option<IpAddr>> {
        if self.rows.is_empty() && !self.done {
            let rows = tx.query_portal(&self.portal, FETCH_ROWS)?;
            self.done = rows.len() < FETCH_ROWS as usize;
            self.rows.extend(rows);
        }
        Ok(self.rows.front().map(|r| r.get(0)))
    }

    /// The next row if its address is `addr`.
    fn next_at(&mut self, tx: &mut Transaction, addr: IpAddr) -> Result<Option<Row>> {
        Ok(match self.peek(tx)? {
            Some(a) if a == addr => self.rows.pop_front(),
            _ => None,
        })
    }
}

/// Which addresses a build reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum Restrict {
    /// Those the filters choose.
    None,
    /// Those of the temporary table `view_batch` (incremental builds).
    Batch,
    /// Those of a range (a job of a full build).
    Range(AddrRange),
}

impl Restrict {
    /// The condition on the address column `col` (` AND ...`).
    fn sql(self, b: &mut SqlBuilder, col: &str) -> String {
        match self {
            Restrict::None => String::new(),
            Restrict::Batch => format!(" AND {col} IN (SELECT addr FROM view_batch)"),
            Restrict::Range((from, to)) => {
                let mut sql = String::new();
                if let Some(from) = from {
                    sql.push_str(&format!(" AND {col} >= {}", b.param(from, "inet")));
                }
                if let Some(to) = to {
                    sql.push_str(&format!(" AND {col} < {}", b.param(to, "inet")));
                }
                sql
            }
        }
    }
}

/// Reads the sources of `build` (restricted by `restrict`), merges the
/// records of each address, finalises the host and hands it to `each`.
/// Returns the number of records read.
pub(super) fn read<E: From<Error>>(
    tx: &mut Transaction,
    build: &Build,
    restrict: Restrict,
    know: Knowledge,
    mut each: impl FnMut(&mut Transaction, Host) -> Result<(), E>,
) -> Result<u64, E> {
    let mut scans = match &build.nmap {
        Some(flt) => {
            let mut b = SqlBuilder::new();
            let w = b.filter(flt);
            let restrict = restrict.sql(&mut b, "h.addr");
            let sql = format!(
                "SELECT h.addr, {}::text FROM scan_host h WHERE ({w}){restrict} ORDER BY h.addr",
                HostTables::Scan.doc()
            );
            Some(Cursor::open(tx, &sql, &b)?)
        }
        None => None,
    };
    let mut passives = match &build.passive {
        Some(flt) => {
            let mut b = SqlBuilder::new();
            let w = b.filter(flt);
            let restrict = restrict.sql(&mut b, "p.addr");
            // The identity hash orders the records of an address whatever
            // order they were imported in.
            let sql = format!(
                "SELECT {PASSIVE_COLUMNS} FROM passive p WHERE p.addr IS NOT NULL AND ({w}){restrict} \
                 ORDER BY p.addr, p.key_hash"
            );
            Some(Cursor::open(tx, &sql, &b)?)
        }
        None => None,
    };
    let mut records = 0u64;
    let mut group: Vec<Host> = Vec::new();
    loop {
        let next_scan = match &mut scans {
            Some(c) => c.peek(tx)?,
            None => None,
        };
        let next_passive = match &mut passives {
            Some(c) => c.peek(tx)?,
            None => None,
        };
        let addr = match (next_scan, next_passive) {
            (None, None) => break,
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) => a.min(b),
        };
        if let Some(c) = &mut scans {
            while let Some(row) = c.next_at(tx, addr)? {
                records += 1;
                let doc: &str = row.get(1);
                let host: Host = parse_doc(doc, &addr.to_string(), "scan")?;
                if host.schema_version != Some(scan::record::SCHEMA_VERSION) {
                    log::warn!(
                        "{addr}: scan record of schema version {:?} skipped (expected {})",
                        host.schema_version,
                        scan::record::SCHEMA_VERSION
                    );
                    continue;
                }
                push(&mut group, view::from_scan_owned(host));
            }
        }
        if let Some(c) = &mut passives {
            while let Some(row) = c.next_at(tx, addr)? {
                records += 1;
                let record = record_at(&row, 0);
                if record.schema_version != ivre_model::passive::record::SCHEMA_VERSION {
                    log::warn!(
                        "{addr}: passive record of schema version {} skipped",
                        record.schema_version
                    );
                    continue;
                }
                if let Some(host) = view::from_passive(&record, know.probes) {
                    push(&mut group, host);
                }
            }
        }
        if let Some(mut host) = view::merge_all(group.drain(..)) {
            if let Some(category) = &build.category {
                view::add_category(&mut host, category);
            }
            view::finalize(&mut host, know.enricher());
            each(tx, host)?;
        }
    }
    Ok(records)
}

/// Adds a partial host to its address's group, folding the group when it
/// reaches [`PREFOLD`].
fn push(group: &mut Vec<Host>, host: Host) {
    group.push(host);
    if group.len() >= PREFOLD {
        if let Some(folded) = view::merge_all(group.drain(..)) {
            group.push(folded);
        }
    }
}

fn parse_doc(doc: &str, addr: &str, purpose: &str) -> Result<Host> {
    serde_json::from_str(doc).map_err(|e| {
        Error::InvalidRecord(format!("{addr}: stored {purpose} record unreadable: {e}"))
    })
}
