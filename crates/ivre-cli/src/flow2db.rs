//! What the flow import tools (`ivre-zeek2db`, `ivre-flow2db`) share: their
//! options, the choice of reader per file (magic bytes; `nfdump` and
//! `racluster` run as child processes for binary captures) and the import
//! loop.
//!
//! Three threads per file: the reader parses observations; this thread
//! aggregates them by flow key and month (the model's [`FlowAggregator`],
//! one per month, so that a batch's rows are those of the monthly
//! partitions); the storer merges each full batch (COPY into a staging
//! table, one statement) while the next one is aggregated. Memory is
//! bounded by `--batch-size` distinct flows and `--batch-memory` (an
//! estimate of what a batch's flows and their set elements take), two
//! batches at most: the bigger a batch, the fewer rows each flow gets in
//! `flow` (one per batch and month that saw it).
//!
//! Imports of files are exactly-once as the passive ones are: a file is
//! known by the SHA-256 of its decompressed content and how it is read
//! (table `flow_file`); each batch commits the input lines it completes,
//! cut only between lines. A re-run resumes after them; a finished file is
//! skipped unless `--force`; two runs on one file import it once. stdin is
//! not resumable. After the files, the cleanup of reversed flows runs
//! over the whole base (unless `-C`).

use crate::input::{self, Input};
use crate::{progress, CommonArgs};
use anyhow::{anyhow, Context, Result};
use chrono::{Datelike, NaiveDate, Utc};
use clap::{Args, ValueEnum};
use ivre_model::flow::argus::{racluster_args, ArgusReader, ARGUS_PACKAGE};
use ivre_model::flow::detect::{detect, FlowFormat};
use ivre_model::flow::error::FlowReadError;
use ivre_model::flow::iptables::IptablesReader;
use ivre_model::flow::nfdump::{nfdump_args, NfdumpReader, NFDUMP_ENV, NFDUMP_PACKAGE};
use ivre_model::flow::ports::PortRanking;
use ivre_model::flow::zeek::{log_path_from_file_name, ZeekFlowReader};
use ivre_model::flow::{Flow, FlowAggregator, Observation, SlotConfig};
use ivre_model::reader::RecordReader;
use ivre_pg::flow::{period_of, FlowLoader};
use ivre_pg::provenance::{self, FileId, FileStart, FLOW_FILES};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Instant;

/// Options of every flow import tool.
#[derive(Debug, Args)]
pub struct FlowImportArgs {
    /// Files to read ("-" or nothing: stdin), compressed (gzip, bzip2,
    /// xz, zstd) or not: captures too (decompressed into a temporary file
    /// for nfdump / racluster). A file killed mid-import resumes where it stopped when the
    /// same command is run again; a file already imported is skipped.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    /// Read directories given as FILE recursively.
    #[arg(short, long)]
    pub recursive: bool,
    /// Do not turn back the flows recorded in the wrong direction after the import.
    #[arg(short = 'C', long = "no-cleanup")]
    pub no_cleanup: bool,
    /// Import files already imported (same content, read the same way) again.
    #[arg(long)]
    pub force: bool,
    /// Distinct flows aggregated in memory per transaction (a batch is
    /// also written when it reaches --batch-memory).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub batch_size: usize,
    /// Memory of a batch (its flows and their sets of ports, slots and
    /// metadata values, as estimated), in MiB; two batches at most are in
    /// memory (one stored while the next one is aggregated).
    #[arg(long, default_value_t = 256, value_name = "MIB")]
    pub batch_memory: usize,
    /// Duration of the time slots recorded per flow, in seconds (IVRE's
    /// FLOW_TIME_PRECISION); 0: no slots.
    #[arg(
        long = "time-precision",
        default_value_t = 3600,
        value_name = "SECONDS"
    )]
    pub time_precision: u32,
}

impl FlowImportArgs {
    fn slots(&self) -> SlotConfig {
        SlotConfig::new(self.time_precision, 0).unwrap_or_else(SlotConfig::disabled)
    }
}

/// What `ivre-flow2db -t` forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowFileType {
    /// nfcapd captures (through nfdump) or nfdump text output.
    Netflow,
    /// Argus captures (through racluster) or ra / racluster CSV output.
    Argus,
    /// iptables LOG lines from syslog.
    Iptables,
}

/// The options of `ivre-flow2db`.
#[derive(Debug, Args)]
pub struct Flow2dbArgs {
    #[command(flatten)]
    pub import: FlowImportArgs,
    /// File type, instead of the detection by content.
    #[arg(short = 't', long = "type", value_enum)]
    pub file_type: Option<FlowFileType>,
    /// Filter expression given to nfdump / racluster (ignored for text input).
    #[arg(short = 'f', long = "pcap-filter", value_name = "EXPR")]
    pub pcap_filter: Option<String>,
    /// Year of iptables lines (syslog dates have none); default: the
    /// year the file was last modified (stdin: this year).
    #[arg(long)]
    pub year: Option<i32>,
}

/// A reader of observations, moved to the reading thread.
type Reader<'p> = Box<dyn RecordReader<Record = Observation, Error = FlowReadError> + Send + 'p>;

/// One file ready to be read: its reader, how it is read (part of its
/// identity), and the child process feeding it, if any.
struct Source<'p> {
    reader: Reader<'p>,
    variant: String,
    child: Option<(Child, &'static str)>,
    /// The decompressed copy of a capture the child process reads, removed
    /// when the source is dropped.
    _spool: Option<Spool>,
}

/// A temporary file, removed when dropped.
struct Spool(PathBuf);

impl Spool {
    /// A new empty file in the temporary directory (`$TMPDIR`), only
    /// readable by its owner.
    fn create() -> std::io::Result<(Spool, std::fs::File)> {
        use std::os::unix::fs::OpenOptionsExt;
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        loop {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "ivre-flow2db-{}-{n}-{}",
                std::process::id(),
                Utc::now().timestamp_subsec_nanos()
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(f) => return Ok((Spool(path), f)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `ivre-zeek2db`: Zeek logs, TSV or JSON (the log type from `#path`,
/// `_path` or the file name).
pub fn run_zeek2db(common: &CommonArgs, args: &FlowImportArgs) -> Result<ExitCode> {
    run_import(common, args, |file, input| {
        let path = log_path_from_file_name(file);
        let variant = format!("zeek precision={}", args.time_precision);
        Ok(Some(Source {
            reader: Box::new(ZeekFlowReader::new(input.reader).with_path(path)),
            variant,
            child: None,
            _spool: None,
        }))
    })
}

/// Runs `ivre-flow2db`: NetFlow, Argus and iptables inputs.
pub fn run_flow2db(common: &CommonArgs, args: &Flow2dbArgs) -> Result<ExitCode> {
    let ranking = port_ranking();
    let ranking = &ranking;
    run_import(common, &args.import, |file, mut input| {
        let head = input.reader.fill_buf()?.to_vec();
        let kind = match (args.file_type, detect(&head)) {
            (Some(FlowFileType::Iptables), _) => FlowFormat::Iptables,
            (Some(FlowFileType::Netflow), Some(f @ FlowFormat::NfcapdFile)) => f,
            (Some(FlowFileType::Netflow), _) => FlowFormat::NfdumpText,
            (Some(FlowFileType::Argus), Some(f @ FlowFormat::ArgusFile)) => f,
            (Some(FlowFileType::Argus), _) => FlowFormat::ArgusText,
            (None, Some(f)) => f,
            (None, None) => {
                log::warn!("{file}: unknown file type (not nfcapd, Argus, nfdump or ra output, iptables); skipped (use -t)");
                return Ok(None);
            }
        };
        let filter = args.pcap_filter.as_deref();
        let variant = |kind: &str| {
            let mut v = format!("{kind} precision={}", args.import.time_precision);
            if let Some(f) = filter {
                v.push_str(&format!(" filter={f}"));
            }
            v
        };
        Ok(Some(match kind {
            FlowFormat::NfcapdFile => {
                let (path, spool) = capture_path(file, kind, input)?;
                let mut child =
                    spawn_tool(file, "nfdump", NFDUMP_PACKAGE, &nfdump_args(&path, filter))?;
                let out = child.stdout.take().expect("piped");
                Source {
                    reader: Box::new(NfdumpReader::new(BufReader::new(out), ranking)),
                    variant: variant(kind.name()),
                    child: Some((child, "nfdump")),
                    _spool: spool,
                }
            }
            FlowFormat::ArgusFile => {
                let (path, spool) = capture_path(file, kind, input)?;
                let mut child = spawn_tool(
                    file,
                    "racluster",
                    ARGUS_PACKAGE,
                    &racluster_args(&path, filter),
                )?;
                let out = child.stdout.take().expect("piped");
                Source {
                    reader: Box::new(ArgusReader::new(BufReader::new(out))),
                    variant: variant(kind.name()),
                    child: Some((child, "racluster")),
                    _spool: spool,
                }
            }
            FlowFormat::NfdumpText => Source {
                reader: Box::new(NfdumpReader::new(input.reader, ranking)),
                variant: variant(kind.name()),
                child: None,
                _spool: None,
            },
            FlowFormat::ArgusText => Source {
                reader: Box::new(ArgusReader::new(input.reader)),
                variant: variant(kind.name()),
                child: None,
                _spool: None,
            },
            FlowFormat::Iptables => {
                let year = match args.year {
                    Some(y) => y,
                    None => modification_year(file),
                };
                Source {
                    reader: Box::new(IptablesReader::new(input.reader, year)),
                    variant: format!(
                        "iptables year={year} precision={}",
                        args.import.time_precision
                    ),
                    child: None,
                    _spool: None,
                }
            }
            FlowFormat::Zeek => {
                log::warn!("{file}: a Zeek log: import it with ivre-zeek2db; skipped");
                return Ok(None);
            }
        }))
    })
}

/// The ports ranking that decides the server side of NetFlow records:
/// Nmap's `nmap-services` when installed, else `/etc/services`.
fn port_ranking() -> PortRanking {
    match PortRanking::find_default() {
        Some((path, nmap)) => match std::fs::read_to_string(&path) {
            Ok(text) if nmap => PortRanking::from_nmap_services(&text),
            Ok(text) => PortRanking::from_etc_services(&text),
            Err(e) => {
                log::warn!("{}: {e}; servers decided by the lower port", path.display());
                PortRanking::empty()
            }
        },
        None => {
            log::warn!("no nmap-services nor /etc/services: servers decided by the lower port");
            PortRanking::empty()
        }
    }
}

/// The file a capture tool reads: `file` itself when it is a plain
/// capture, else (compressed, or stdin) a temporary copy of its
/// decompressed content, which lives as long as the returned guard.
fn capture_path(
    file: &str,
    kind: FlowFormat,
    mut input: Input,
) -> Result<(PathBuf, Option<Spool>)> {
    if file != "-" {
        let mut head = [0u8; 4];
        let mut raw = std::fs::File::open(file).with_context(|| format!("cannot open {file}"))?;
        let n = raw
            .read(&mut head)
            .with_context(|| format!("cannot read {file}"))?;
        if detect(&head[..n]) == Some(kind) {
            return Ok((PathBuf::from(file), None));
        }
    }
    let (spool, file_out) =
        Spool::create().context("cannot create a temporary file for the decompressed capture")?;
    let mut out = std::io::BufWriter::new(file_out);
    std::io::copy(&mut input.reader, &mut out)
        .and_then(|_| out.flush())
        .with_context(|| {
            format!(
                "{file}: decompressing the capture into {}",
                spool.0.display()
            )
        })?;
    Ok((spool.0.clone(), Some(spool)))
}

/// Starts `tool` on `file`, its output piped; a missing tool names the
/// Debian package that installs it.
fn spawn_tool(file: &str, tool: &str, package: &str, args: &[std::ffi::OsString]) -> Result<Child> {
    let mut cmd = Command::new(tool);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped());
    if tool == "nfdump" {
        cmd.envs(NFDUMP_ENV.iter().copied());
    }
    cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow!("{file}: {tool} is not installed (not found on PATH): install the Debian package {package} (apt-get install {package})")
        } else {
            anyhow!("{file}: cannot run {tool}: {e}")
        }
    })
}

/// The year (UTC) `file` was last modified; this year for stdin.
fn modification_year(file: &str) -> i32 {
    std::fs::metadata(file)
        .and_then(|m| m.modified())
        .map(|t| chrono::DateTime::<Utc>::from(t).year())
        .unwrap_or_else(|_| Utc::now().year())
}

/// Flows being aggregated, one [`FlowAggregator`] per month of the
/// observations' starts.
struct MonthBatch {
    slots: SlotConfig,
    months: BTreeMap<NaiveDate, FlowAggregator>,
    /// Distinct (flow, month) rows.
    len: usize,
    /// Set elements of those rows (ports, codes, slots, metadata values).
    elements: usize,
}

impl MonthBatch {
    fn new(slots: SlotConfig) -> Self {
        MonthBatch {
            slots,
            months: BTreeMap::new(),
            len: 0,
            elements: 0,
        }
    }

    fn add(&mut self, obs: Observation) {
        let month = period_of(obs.start.min(obs.end));
        let agg = self
            .months
            .entry(month)
            .or_insert_with(|| FlowAggregator::new(self.slots));
        let (before, elements) = (agg.len(), agg.elements());
        agg.add(obs);
        self.len += agg.len() - before;
        self.elements += agg.elements() - elements;
    }

    /// Whether the batch is full: `limits.flows` rows, or `limits.bytes`
    /// of memory (estimated from its rows and set elements).
    fn full(&self, limits: BatchLimits) -> bool {
        self.len >= limits.flows
            || self
                .len
                .saturating_mul(FLOW_BYTES)
                .saturating_add(self.elements.saturating_mul(ELEMENT_BYTES))
                >= limits.bytes
    }

    fn drain(&mut self) -> Vec<Flow> {
        self.len = 0;
        self.elements = 0;
        std::mem::take(&mut self.months)
            .into_values()
            .flat_map(FlowAggregator::into_flows)
            .collect()
    }
}

/// What a batch may hold: distinct (flow, month) rows, and bytes.
#[derive(Debug, Clone, Copy)]
struct BatchLimits {
    flows: usize,
    bytes: usize,
}

/// The memory of a flow of a batch without its sets (key, counters, map
/// entry): an estimate, checked against peak RSS by `benches/flow.sh`
/// (5 M lines, two batches of 256 MiB estimated in memory: 440 MB).
const FLOW_BYTES: usize = 400;
/// The memory of one set element of a batch (a source port, a time slot,
/// a metadata value: `BTreeSet` nodes of 2- to 16-byte values, metadata
/// strings more): an estimate, as [`FLOW_BYTES`].
const ELEMENT_BYTES: usize = 24;

/// What the import of one file did.
#[derive(Debug, Default, Clone, Copy)]
struct FileStats {
    observations: u64,
    errors: u64,
    /// The input line of the last record or error read.
    lines: u64,
    rows: u64,
    read_error: bool,
}

/// Items travel from the reader thread in chunks, to keep the channel cheap.
const CHUNK: usize = 1024;

/// Reads `reader` (skipping the observations of its first `skip` lines),
/// aggregates, and gives each batch of flows to `store` with the input
/// lines it completes.
fn ingest(
    reader: Reader<'_>,
    name: &str,
    skip: u64,
    limits: BatchLimits,
    slots: SlotConfig,
    mut store: impl FnMut(Vec<Flow>, u64) -> Result<u64> + Send,
) -> Result<FileStats> {
    type Item = (u64, bool, Result<Observation, FlowReadError>);
    let mut stats = FileStats::default();
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(16);
        scope.spawn(move || {
            let mut reader = reader;
            let mut chunk = Vec::with_capacity(CHUNK);
            loop {
                let item = reader.next_record();
                let line = reader.position().line;
                let (item, end) = match item {
                    Ok(Some(obs)) => (Ok(obs), false),
                    Ok(None) => break,
                    Err(e) => {
                        let fatal = reader.is_fatal(&e);
                        (Err(e), fatal)
                    }
                };
                chunk.push((line, end, item));
                if end {
                    let _ = tx.send(chunk);
                    return;
                }
                if chunk.len() == CHUNK && tx.send(std::mem::take(&mut chunk)).is_err() {
                    return;
                }
            }
            let _ = tx.send(chunk);
        });
        let (batch_tx, batch_rx) = mpsc::sync_channel::<(Vec<Flow>, u64)>(0);
        let storer = scope.spawn(move || -> Result<u64> {
            let mut rows = 0;
            for (flows, lines) in batch_rx {
                rows += store(flows, lines)?;
            }
            Ok(rows)
        });
        let mut batch = MonthBatch::new(slots);
        let bar = progress::counter("observations");
        let mut alive = true;
        'chunks: for chunk in rx {
            for (line, fatal, item) in chunk {
                if line <= skip {
                    continue;
                }
                if line != stats.lines
                    && batch.full(limits)
                    && batch_tx.send((batch.drain(), stats.lines)).is_err()
                {
                    alive = false;
                    break 'chunks;
                }
                stats.lines = line;
                match item {
                    Ok(obs) => {
                        stats.observations += 1;
                        batch.add(obs);
                    }
                    Err(e) => {
                        stats.errors += 1;
                        stats.read_error |= fatal;
                        log::error!("{name}: {e}");
                    }
                }
            }
            bar.set_position(stats.observations);
        }
        bar.finish_and_clear();
        if alive && batch.len > 0 {
            let _ = batch_tx.send((batch.drain(), stats.lines));
        }
        drop(batch_tx);
        stats.rows = storer
            .join()
            .map_err(|_| anyhow!("the storing thread panicked"))??;
        Ok(())
    })?;
    Ok(stats)
}

/// Merges the rows the file added to `flow` with the other rows of their
/// flows and months (one row per flow and month: what queries of sets
/// read). After the file's last batch, in a transaction of its own: when
/// it fails, the rows stay as they are (right, only more of them), which
/// is said but does not fail the import.
fn compact(loader: &mut FlowLoader<'_>, name: &str) {
    let started = Instant::now();
    match loader.compact() {
        Ok(removed) => log::info!(
            "{name}: {removed} flow row(s) merged into others in {:.2}s",
            started.elapsed().as_secs_f64()
        ),
        Err(e) => log::warn!("{name}: its flows' rows were not compacted: {e}"),
    }
}

/// Waits for the child process that fed a reader; its failure is a read
/// error (the file is not finished).
fn wait_child(child: Option<(Child, &'static str)>, name: &str) -> Result<bool> {
    let Some((mut child, tool)) = child else {
        return Ok(true);
    };
    let status = child
        .wait()
        .with_context(|| format!("{name}: waiting for {tool}"))?;
    if !status.success() {
        log::error!("{name}: {tool} failed ({status})");
    }
    Ok(status.success())
}

/// SHA-256 (hex) of the decompressed content of `path` (the same file
/// compressed or not is one file).
fn content_sha256(path: &str) -> Result<String> {
    let mut input = input::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match input.reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            // A read error ends the content where the import will end it.
            Err(_) => break,
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The import loop: `open` chooses the reader of each file (`None`:
/// skipped).
fn run_import<'p>(
    common: &CommonArgs,
    args: &FlowImportArgs,
    open: impl Fn(&str, Input) -> Result<Option<Source<'p>>>,
) -> Result<ExitCode> {
    let files = input::expand(&args.files, args.recursive)?;
    let mut client = common.connect()?;
    let slots = args.slots();
    let limits = BatchLimits {
        flows: args.batch_size.max(1),
        bytes: args.batch_memory.max(1).saturating_mul(1 << 20),
    };
    let started = Instant::now();
    let mut total = FileStats::default();
    let mut failed = false;
    for file in &files {
        let source = match input::open(file).and_then(|input| open(file, input)) {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => {
                log::error!("{e:#}");
                failed = true;
                continue;
            }
        };
        let name = if file == "-" {
            "<stdin>"
        } else {
            file.as_str()
        };
        let stats = if file == "-" {
            log::info!("{name}: not resumable (stdin: no fixed content to know it by)");
            let mut loader = FlowLoader::new(&mut client)?;
            let stats = ingest(source.reader, name, 0, limits, slots, |flows, _| {
                Ok(loader.store(flows.iter())?)
            })
            .with_context(|| format!("importing {name}"))?;
            compact(&mut loader, name);
            wait_child(source.child, name)?;
            stats
        } else {
            let sha256 = content_sha256(file)?;
            let id = FileId {
                sha256: &sha256,
                name,
                qualifier: Some(&source.variant),
            };
            // Held until the file is done: a second import of the same
            // content waits, then resumes or skips.
            provenance::lock(&mut client, &FLOW_FILES, &id)?;
            let mut import = match provenance::start(&mut client, &FLOW_FILES, &id, args.force)? {
                FileStart::AlreadyImported => {
                    log::warn!("{name}: already imported (same content, read the same way); skipped (use --force to import it again)");
                    provenance::unlock(&mut client, &FLOW_FILES, &id)?;
                    if let Some((mut child, _)) = source.child {
                        let _ = child.kill();
                        let _ = child.wait();
                    }
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
            let skip = import.lines();
            let mut stats = {
                let mut loader = FlowLoader::new(&mut client)?;
                let stats = {
                    let (loader, import) = (&mut loader, &mut import);
                    ingest(
                        source.reader,
                        name,
                        skip,
                        limits,
                        slots,
                        move |flows, lines| {
                            Ok(loader.store_through(flows.iter(), import, lines)?)
                        },
                    )
                    .with_context(|| format!("importing {name}"))?
                };
                compact(&mut loader, name);
                stats
            };
            stats.read_error |= !wait_child(source.child, name)?;
            // After a read error the file is not finished: a re-run
            // resumes after its last committed line.
            if !stats.read_error {
                import.finish(&mut client, stats.lines)?;
            }
            provenance::unlock(&mut client, &FLOW_FILES, &id)?;
            stats
        };
        failed |= stats.errors > 0 || stats.read_error;
        total.observations += stats.observations;
        total.errors += stats.errors;
        total.rows += stats.rows;
    }
    if total.rows > 0 {
        // Fresh statistics of the flows for the queries that follow a bulk
        // load (the rows of flow are read by key, through its index).
        client.batch_execute("ANALYZE flow_key")?;
    }
    if !args.no_cleanup {
        let c = ivre_pg::flow::cleanup::cleanup_flows(&mut client)?;
        if c.removed > 0 {
            log::info!(
                "cleanup: {} flow(s) turned into {} reversed flow(s)",
                c.removed,
                c.reversed
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    common.summary(&format!(
        "{} file(s), {} observations ({} bad lines), {} flow rows written in {:.2}s ({:.0} observations/s)",
        files.len(),
        total.observations,
        total.errors,
        total.rows,
        secs,
        total.observations as f64 / secs.max(1e-9)
    ));
    Ok(crate::exit_status(failed))
}
