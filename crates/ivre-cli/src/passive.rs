//! What the passive import tools (passiverecon2db, p0f2db, airodump2db) share:
//! their options and their run loop. Each tool only supplies its reader (a
//! [`RecordReader`] of observations: its records go through the one adapter
//! rule, a bad line skipped, a read error ending the file).

use crate::input::{self, Input};
use crate::pipeline::{ingest, Batch, IngestOptions, IngestStats};
use crate::{progress, CommonArgs};
use anyhow::{Context, Result};
use clap::Args;
use ivre_model::passive::ignore::IgnoreSpec;
use ivre_model::passive::infos;
use ivre_model::passive::normalize::{self, NormalizeConfig};
use ivre_model::passive::services::add_service_infos;
use ivre_model::passive::{LineError, PassiveRecord, ZeekReader};
use ivre_model::reader::{Position, RecordReader};
use ivre_model::storable::storable_passive;
use ivre_pg::passive::{PassiveLoader, StagedRow};
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of every passive import tool.
#[derive(Debug, Args)]
pub struct PassiveImportArgs {
    /// Log files to read ("-" or nothing: stdin); compressed files are fine.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Sensor name stored with every observation.
    #[arg(short, long)]
    pub sensor: Option<String>,

    /// File of networks and sources to ignore (see `ivre_model::passive::ignore`:
    /// lines like `net 10.0.0.0/8`, `source HTTP_SERVER_HEADER`, `# comment`).
    #[arg(short, long = "ignore-spec", value_name = "FILE")]
    pub ignore_spec: Option<String>,

    /// Read directories given as FILE recursively.
    #[arg(short, long)]
    pub recursive: bool,

    /// Dry run: print the aggregated observations as JSON lines, touch no database.
    #[arg(short, long)]
    pub test: bool,

    /// Keep reading a growing file (like tail -f) or a pipe, committing
    /// every --flush-seconds.
    #[arg(short, long)]
    pub follow: bool,

    /// Commit at least every N seconds in --follow mode.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub flush_seconds: u64,

    /// Distinct observations aggregated in memory per transaction.
    #[arg(long, default_value_t = 500_000, value_name = "N")]
    pub batch_size: usize,

    /// Extra DNS blacklist zone (IVRE's DNS_BLACKLIST_DOMAINS): answers for
    /// `<reversed IP>.<zone>` are stored as DNS_BLACKLIST. Repeatable; the
    /// defaults are zen.spamhaus.org and blacklist.woody.ch.
    #[arg(long, value_name = "ZONE")]
    pub dnsbl_zone: Vec<String>,

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
        flush_every: args
            .follow
            .then(|| Duration::from_secs(args.flush_seconds.max(1))),
    };
    let started = Instant::now();
    let mut total = IngestStats::default();
    let mut failed = false;
    for file in &files {
        let opened = if args.follow {
            input::open_follow(file)
        } else {
            input::open(file)
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
        let records = Storable {
            reader: reader(input, args, ignore.clone()),
            name: name.clone(),
        }
        .records();
        let report = |e: &LineError| log::error!("{name}: {e}");
        let bar = progress::counter("observations");
        let progress = |n| bar.set_position(n);
        let keep = |r: &PassiveRecord| !ignore.ignores(r);
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
        let stats = match client.as_mut() {
            None => {
                let mut out = BufWriter::new(std::io::stdout());
                let stats = ingest(
                    records,
                    |batch| print_batch(&mut out, batch),
                    &opts,
                    keep,
                    finish,
                    report,
                    progress,
                )?;
                out.flush()?;
                stats
            }
            Some(client) => {
                let mut loader = PassiveLoader::new(client)?;
                ingest(
                    records,
                    |batch: Batch<StagedRow>| {
                        loader.store(batch.iter().map(|(k, r)| (&k.0, r)))?;
                        Ok(())
                    },
                    &opts,
                    keep,
                    finish,
                    report,
                    progress,
                )
                .with_context(|| format!("importing {name}"))?
            }
        };
        bar.finish_and_clear();
        failed |= stats.errors > 0;
        total.observations += stats.observations;
        total.ignored += stats.ignored;
        total.merged += stats.merged;
        total.errors += stats.errors;
    }
    let secs = started.elapsed().as_secs_f64();
    common.summary(&format!(
        "{} file(s), {} observations ({} ignored, {} bad lines) in {:.2}s ({:.0} observations/s)",
        files.len(),
        total.observations,
        total.ignored,
        total.errors,
        secs,
        total.observations as f64 / secs.max(1e-9)
    ));
    Ok(crate::exit_status(failed))
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
