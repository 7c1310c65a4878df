//! What the passive import tools (passiverecon2db, p0f2db, airodump2db) share:
//! their options and their run loop. Each tool only supplies its reader (a
//! [`RecordReader`] of observations: its records go through the one adapter
//! rule, a bad line skipped, a read error ending the file).
//!
//! Imports of files are exactly-once: each file is known by the SHA-256 of
//! its decompressed content (and the sensor), and each batch commits, in
//! its transaction, the number of input lines it completes (table
//! `passive_file`). A re-run skips those lines; a finished file is skipped
//! unless `--force`. stdin and `--follow` have no fixed content to know
//! them by: they are not resumable.

use crate::input::{self, Input};
use crate::pipeline::{
    ingest, Batch, IngestOptions, IngestStats, LinedRecord, DEFAULT_BATCH_BYTES,
};
use crate::{progress, CommonArgs};
use anyhow::{Context, Result};
use clap::Args;
use ivre_model::passive::ignore::IgnoreSpec;
use ivre_model::passive::infos;
use ivre_model::passive::normalize::{self, NormalizeConfig};
use ivre_model::passive::services::add_service_infos;
use ivre_model::passive::{LineError, PassiveRecord, ZeekReader};
use ivre_model::reader::{Position, RecordReader, Records};
use ivre_model::storable::storable_passive;
use ivre_pg::passive::provenance::{self, FileStart, PassiveFileId};
use ivre_pg::passive::{PassiveLoader, StagedRow};
use sha2::{Digest, Sha256};
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of every passive import tool.
#[derive(Debug, Args)]
pub struct PassiveImportArgs {
    /// Log files to read ("-" or nothing: stdin); compressed files are fine.
    /// A file killed mid-import resumes where it stopped when the same
    /// command is run again, and a file already imported is skipped; stdin
    /// and --follow are not resumable (a re-run counts again what the
    /// killed run had committed).
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Sensor name stored with every observation.
    #[arg(short, long)]
    pub sensor: Option<String>,

    /// File of networks and sources to ignore, one rule a line: `net 10.0.0.0/8`,
    /// `source HTTP_SERVER_HEADER`, `# comment`.
    #[arg(short, long = "ignore-spec", value_name = "FILE")]
    pub ignore_spec: Option<String>,

    /// Read directories given as FILE recursively.
    #[arg(short, long)]
    pub recursive: bool,

    /// Dry run: print the aggregated observations as JSON lines, touch no database.
    #[arg(short, long)]
    pub test: bool,

    /// Import files already imported (same content and sensor) again,
    /// counting their observations once more.
    #[arg(long)]
    pub force: bool,

    /// Keep reading a growing file (like tail -f) or a pipe, committing
    /// every --flush-seconds. Not resumable: after a crash, a re-run
    /// counts again what was committed.
    #[arg(short, long)]
    pub follow: bool,

    /// Commit at least every N seconds in --follow mode.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub flush_seconds: u64,

    /// Distinct observations aggregated in memory per transaction.
    #[arg(long, default_value_t = 500_000, value_name = "N")]
    pub batch_size: usize,

    /// Memory the observations aggregated per transaction may take, in MiB
    /// (two batches exist at once: one being stored, the next being read).
    #[arg(long, default_value_t = DEFAULT_BATCH_BYTES >> 20, value_name = "MIB")]
    pub batch_memory: usize,

    /// Extra DNS blacklist zone (IVRE's DNS_BLACKLIST_DOMAINS): answers for
    /// `<reversed IP>.<zone>` are stored as DNS_BLACKLIST. Repeatable; the
    /// defaults are zen.spamhaus.org and blacklist.woody.ch.
    #[arg(long, value_name = "ZONE")]
    pub dnsbl_zone: Vec<String>,

    /// Then bring the view up to date (ivre-db2view's incremental build).
    #[arg(long = "update-view", conflicts_with = "test")]
    pub update_view: bool,

    /// Accepted for compatibility with IVRE; loading is always in bulk.
    #[arg(long, hide = true)]
    pub bulk: bool,
    /// Accepted for compatibility with IVRE; loading is always in bulk.
    #[arg(long, hide = true)]
    pub local_bulk: bool,
    /// Accepted for compatibility with IVRE; loading is always in bulk.
    #[arg(long, hide = true)]
    pub no_bulk: bool,
}

/// Runs a passive import tool: every file is read (IVRE reads only the first),
/// bad lines are reported with file and line and skipped, a read error
/// (I/O, decompression) ends the file after storing what was read before
/// it, and the exit status is 1 if any line or file failed. `reader` gets
/// the input, the
/// options and the ignore rules (for readers that must apply them
/// before rewriting observations); the rules are applied again to what it
/// yields.
pub fn run_import<R: PassiveReader>(
    common: &CommonArgs,
    args: &PassiveImportArgs,
    reader: impl Fn(Input, &PassiveImportArgs, Arc<IgnoreSpec>) -> R,
) -> Result<ExitCode> {
    run_import_with(common, args, reader, |_| {})
}

/// [`run_import`] with a `finish` step applied once per distinct
/// observation kept in a batch (see [`ingest`]), e.g. [`zeek_infos`].
pub fn run_import_with<R: PassiveReader>(
    common: &CommonArgs,
    args: &PassiveImportArgs,
    reader: impl Fn(Input, &PassiveImportArgs, Arc<IgnoreSpec>) -> R,
    finish: impl Fn(&mut PassiveRecord),
) -> Result<ExitCode> {
    let ignore = match &args.ignore_spec {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
            IgnoreSpec::parse(&text).with_context(|| format!("in {path}"))?
        }
        None => IgnoreSpec::default(),
    };
    let ignore = Arc::new(ignore);
    let files = input::expand(&args.files, args.recursive)?;
    let mut client = if args.test {
        None
    } else {
        Some(common.connect()?)
    };
    let opts = IngestOptions {
        batch_size: args.batch_size.max(1),
        batch_bytes: args.batch_memory.max(1) << 20,
        flush_every: args
            .follow
            .then(|| Duration::from_secs(args.flush_seconds.max(1))),
    };
    let started = Instant::now();
    let mut total = IngestStats::default();
    let mut failed = false;
    for file in &files {
        let bar = progress::ImportBar::new(
            "observations",
            if args.follow { None } else { input::size(file) },
        );
        let opened = if args.follow {
            input::open_follow(file)
        } else {
            input::open_through(file, |raw| bar.reader(raw))
        };
        let input = match opened {
            Ok(i) => i,
            Err(e) => {
                log::error!("{e:#}");
                failed = true;
                continue;
            }
        };
        let name = input.name.clone();
        // Known by its content: a regular file read to its end (not stdin,
        // not --follow), when there is a database to remember it in.
        let content = if client.is_some() && !args.follow && file != "-" {
            let content = content_sha256(file)?;
            if !content.has_data {
                log::warn!("{name}: empty (no data); nothing recorded");
                continue;
            }
            Some(content.sha256)
        } else {
            None
        };
        let progress = |n| bar.set_records(n);
        let keep = |r: &PassiveRecord| !ignore.ignores(r);
        let report = |e: &LineError| log::error!("{name}: {e}");
        // The infos are computed from the stored values, decoded: they may
        // hold U+0000 again (a certificate's subject).
        let finish = |r: &mut PassiveRecord| {
            finish(r);
            let escaped = storable_passive(r);
            if !escaped.is_empty() {
                log::warn!(
                    "{name}: {} observation of {}: U+0000 stored escaped (\\x00) in {}",
                    r.recontype,
                    r.addr
                        .map_or_else(|| "no host".to_string(), |a| a.to_string()),
                    escaped.join(", ")
                );
            }
        };
        let read_error = Arc::new(AtomicBool::new(false));
        let lined = |skip| Lined {
            records: Storable {
                reader: reader(input, args, ignore.clone()),
                name: name.clone(),
            }
            .records(),
            skip,
            read_error: read_error.clone(),
        };
        let known = content.is_some();
        let stats = match (client.as_mut(), content) {
            (None, _) => {
                let mut out = BufWriter::new(std::io::stdout());
                let stats = ingest(
                    lined(0),
                    |batch, _| print_batch(&mut out, batch),
                    &opts,
                    keep,
                    finish,
                    report,
                    progress,
                )?;
                out.flush()?;
                stats
            }
            (Some(client), None) => {
                log::info!(
                    "{name}: not resumable (stdin or --follow: no fixed content to know it by)"
                );
                let mut loader = PassiveLoader::new(client)
                    .with_context(|| format!("{name}: cannot start; nothing stored"))?;
                ingest(
                    lined(0),
                    |batch: Batch<StagedRow>, _| {
                        loader.store(batch.iter().map(|(k, r)| (&k.0, r)))?;
                        Ok(())
                    },
                    &opts,
                    keep,
                    finish,
                    report,
                    progress,
                )
                .map_err(|e| stopped(&name, false, e))?
            }
            (Some(client), Some(sha256)) => {
                let id = PassiveFileId {
                    sha256: &sha256,
                    name: &name,
                    sensor: args.sensor.as_deref(),
                };
                // Held by this session until the file is done: a second
                // import of the same content waits, then resumes or skips.
                // An error ends the run, and with its connection the lock.
                let cannot_start = || format!("{name}: cannot start; nothing stored");
                provenance::lock(client, &id).with_context(cannot_start)?;
                let mut import = match provenance::start(client, &id, args.force)
                    .with_context(cannot_start)?
                {
                    FileStart::AlreadyImported => {
                        log::warn!(
                            "{name}: already imported (same content and sensor); skipped (use --force to import it again)"
                        );
                        provenance::unlock(client, &id)?;
                        bar.finish_and_clear();
                        continue;
                    }
                    FileStart::Import(import) => import,
                };
                if import.lines() > 0 {
                    log::warn!(
                        "{name}: resuming after line {} (committed by an earlier import that did not finish)",
                        import.lines()
                    );
                }
                let stats = {
                    let mut loader = PassiveLoader::new(client).with_context(cannot_start)?;
                    ingest(
                        lined(import.lines()),
                        |mut batch: Batch<StagedRow>, lines| {
                            // In key order, the merge walks the identity
                            // index from left to right instead of at random.
                            batch.sort_unstable_by_key(|a| a.0 .0);
                            let rows = batch.iter().map(|(k, r)| (&k.0, r));
                            loader.store_through(rows, &mut import, lines)?;
                            Ok(())
                        },
                        &opts,
                        keep,
                        finish,
                        report,
                        progress,
                    )
                    .map_err(|e| stopped(&name, true, e))?
                };
                // After a read error the file is not finished: a re-run
                // resumes after its last committed line.
                if !read_error.load(Ordering::Relaxed) {
                    import.finish(client, stats.lines).with_context(|| {
                        format!(
                            "{name}: every line is stored, but not that the file is finished; \
                             running the same command again records it"
                        )
                    })?;
                }
                provenance::unlock(client, &id)?;
                stats
            }
        };
        bar.finish_and_clear();
        // A known file (never empty here) may have nothing left to read.
        if !known && stats.lines == 0 && stats.errors == 0 {
            log::warn!("{name}: empty (no data)");
        }
        failed |= stats.errors > 0;
        total.observations += stats.observations;
        total.ignored += stats.ignored;
        total.merged += stats.merged;
        total.errors += stats.errors;
    }
    let secs = started.elapsed().as_secs_f64();
    common.summary(&format!(
        "{}: {} ({} ignored, {}) in {}{}",
        progress::count(files.len() as u64, "file", "files"),
        progress::count(total.observations, "observation", "observations"),
        progress::thousands(total.ignored),
        progress::count(total.errors, "bad line", "bad lines"),
        progress::duration(secs),
        progress::rate(total.observations, secs, "observations")
    ));
    if let (true, Some(client)) = (args.update_view, client.as_mut()) {
        crate::db2view::update_view(common, client)?;
    }
    Ok(crate::exit_status(failed))
}

/// What an import of a file stopped by an error (a lost connection, a
/// refused batch) leaves, and what to do: every batch commits with the
/// lines it completes, so what is stored is consistent with what a re-run
/// skips.
fn stopped(name: &str, resumable: bool, e: anyhow::Error) -> anyhow::Error {
    let unknown = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<ivre_pg::Error>(),
            Some(ivre_pg::Error::CommitUnknown(_))
        )
    });
    let kept = if unknown {
        "the batches before the last one are stored; whether the last one is (the \
         connection was lost during its COMMIT) is unknown"
    } else {
        "the batches committed before the error are stored"
    };
    let advice = if resumable {
        "running the same command again is safe: it resumes after the last line committed"
    } else {
        "stdin and --follow are not resumable: a re-run counts again what was stored"
    };
    e.context(format!("{name}: import stopped; {kept}; {advice}"))
}

/// What an import needs to know of a file before reading it.
struct Content {
    /// SHA-256 (hex) of the decompressed content: what its lines are
    /// counted in, so that the same log compressed or not is one file (as
    /// scan2db hashes its files).
    sha256: String,
    /// Something else than white space: an empty file is not recorded
    /// (as scan2db does not record one).
    has_data: bool,
}

/// Reads `path` to its end first: an import starts from what an earlier
/// one of this content committed.
fn content_sha256(path: &str) -> Result<Content> {
    struct Hashing {
        hasher: Sha256,
        has_data: bool,
    }
    impl Write for Hashing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.hasher.update(buf);
            self.has_data = self.has_data || buf.iter().any(|b| !b.is_ascii_whitespace());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut input = input::open(path)?;
    let mut out = Hashing {
        hasher: Sha256::new(),
        has_data: false,
    };
    // A read error ends the content where the import will end it too.
    let _ = std::io::copy(&mut input.reader, &mut out);
    Ok(Content {
        sha256: hex::encode(out.hasher.finalize()),
        has_data: out.has_data,
    })
}

/// The records of a reader with the input line each was read from, less
/// those of the first `skip` lines (committed by an earlier import of the
/// file). Notes a read error (which ends the file) in `read_error`.
struct Lined<R> {
    records: Records<R>,
    skip: u64,
    read_error: Arc<AtomicBool>,
}

impl<R: PassiveReader> Iterator for Lined<R> {
    type Item = LinedRecord;

    fn next(&mut self) -> Option<LinedRecord> {
        loop {
            let item = self.records.next()?;
            let reader = self.records.reader();
            if let Err(e) = &item {
                if reader.is_fatal(e) {
                    self.read_error.store(true, Ordering::Relaxed);
                }
            }
            let line = reader.position().line;
            // Line 0: before the first line (a header or capture error),
            // which no earlier import can have committed.
            if line == 0 || line > self.skip {
                return Some((line, item));
            }
        }
    }
}

/// `--test` output: one aggregated record per line, in a stable order.
fn print_batch(out: &mut impl Write, batch: Batch<PassiveRecord>) -> Result<()> {
    let mut batch: Vec<PassiveRecord> = batch.into_iter().map(|(_, r)| r).collect();
    batch.sort_by_key(|r| r.identity());
    for r in batch {
        serde_json::to_writer(&mut *out, &r)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// What a passive import tool reads a file with: a reader of observations,
/// moved to the reading thread.
pub trait PassiveReader:
    RecordReader<Record = PassiveRecord, Error = LineError> + Send + 'static
{
}

impl<T> PassiveReader for T where
    T: RecordReader<Record = PassiveRecord, Error = LineError> + Send + 'static
{
}

/// A reader whose observations are made storable ([`storable_passive`]):
/// text with U+0000 is escaped, with a warning naming the file and line.
struct Storable<R> {
    reader: R,
    name: String,
}

impl<R: PassiveReader> RecordReader for Storable<R> {
    type Record = PassiveRecord;
    type Error = LineError;

    fn next_record(&mut self) -> Result<Option<PassiveRecord>, LineError> {
        let mut record = self.reader.next_record()?;
        if let Some(rec) = &mut record {
            let escaped = storable_passive(rec);
            if !escaped.is_empty() {
                log::warn!(
                    "{}: line {}: U+0000 stored escaped (\\x00) in {}",
                    self.name,
                    self.reader.position().line,
                    escaped.join(", ")
                );
            }
        }
        Ok(record)
    }

    fn is_fatal(&self, error: &LineError) -> bool {
        self.reader.is_fatal(error)
    }

    fn position(&self) -> Position {
        self.reader.position()
    }
}

/// Zeek `passive_recon` observations, normalised as IVRE stores them (one
/// line can give zero, one or two records); their infos are left to
/// [`zeek_infos`], run once per distinct observation.
pub fn zeek_records(
    input: Input,
    args: &PassiveImportArgs,
    ignore: Arc<IgnoreSpec>,
) -> impl PassiveReader {
    let mut config = NormalizeConfig::default();
    config.dnsbl_zones.extend(args.dnsbl_zone.iter().cloned());
    Normalized {
        reader: ZeekReader::new(input.reader).with_sensor(args.sensor.clone()),
        config,
        ignore,
        pending: Vec::new().into_iter(),
    }
}

/// A reader whose records are normalised ([`normalize::prepare`]).
struct Normalized<R> {
    reader: R,
    config: NormalizeConfig,
    ignore: Arc<IgnoreSpec>,
    /// The normalised records of the line read last not yet given.
    pending: std::vec::IntoIter<PassiveRecord>,
}

impl<R: RecordReader<Record = PassiveRecord>> RecordReader for Normalized<R> {
    type Record = PassiveRecord;
    type Error = R::Error;

    fn next_record(&mut self) -> Result<Option<PassiveRecord>, R::Error> {
        loop {
            if let Some(record) = self.pending.next() {
                return Ok(Some(record));
            }
            let Some(record) = self.reader.next_record()? else {
                return Ok(None);
            };
            self.pending = normalize::prepare(record, &self.config, Some(&self.ignore)).into_iter();
        }
    }

    fn is_fatal(&self, error: &R::Error) -> bool {
        self.reader.is_fatal(error)
    }

    fn position(&self) -> Position {
        self.reader.position()
    }
}

/// The `finish` step of Zeek observations: their infos (IVRE's `getinfos`),
/// with the services Nmap's probes recognise in banners and Server headers.
pub fn zeek_infos(rec: &mut PassiveRecord) {
    rec.infos = infos::compute(rec);
    if let Some(probes) = crate::probes::service_probes() {
        add_service_infos(rec, probes);
    }
}

/// Web server access log observations (`ivre-weblog2db`): user agents of
/// the clients, normalised as Zeek's are (Symantec's random agents, ...).
pub fn weblog_records(
    input: Input,
    args: &PassiveImportArgs,
    ignore: Arc<IgnoreSpec>,
) -> impl PassiveReader {
    let mut config = NormalizeConfig::default();
    config.dnsbl_zones.extend(args.dnsbl_zone.iter().cloned());
    Normalized {
        reader: ivre_model::passive::weblog::WeblogReader::new(input.reader)
            .with_sensor(args.sensor.clone()),
        config,
        ignore,
        pending: Vec::new().into_iter(),
    }
}

/// ARP observations of a pcap capture (`ivre-arp2db`): the IP ↔ MAC pairs
/// of requests and replies, as Zeek's `MAC_ADDRESS` records.
pub fn arp_records(
    input: Input,
    args: &PassiveImportArgs,
    _ignore: Arc<IgnoreSpec>,
) -> impl PassiveReader {
    ivre_model::passive::arp::ArpReader::new(input.reader).with_sensor(args.sensor.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivre_model::passive::LineErrorKind;

    /// A reader whose input fails before its first line.
    struct FailsAtOnce {
        failed: bool,
    }

    impl RecordReader for FailsAtOnce {
        type Record = PassiveRecord;
        type Error = LineError;

        fn next_record(&mut self) -> std::result::Result<Option<PassiveRecord>, LineError> {
            if self.failed {
                return Ok(None);
            }
            self.failed = true;
            Err(LineError {
                line: 0,
                kind: LineErrorKind::Read(std::io::Error::other("not a capture")),
            })
        }

        fn is_fatal(&self, error: &LineError) -> bool {
            error.is_read()
        }

        fn position(&self) -> Position {
            Position::default()
        }
    }

    #[test]
    fn an_error_before_the_first_line_is_reported() {
        for skip in [0, 5] {
            let read_error = Arc::new(AtomicBool::new(false));
            let mut lined = Lined {
                records: FailsAtOnce { failed: false }.records(),
                skip,
                read_error: read_error.clone(),
            };
            let (line, item) = lined.next().expect("the error is not skipped");
            assert_eq!(line, 0);
            assert!(item.is_err());
            assert!(read_error.load(Ordering::Relaxed));
            assert!(lined.next().is_none());
        }
    }
}
