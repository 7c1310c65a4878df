//! `ivre-scan2db`: options and run loop (the binary only parses arguments).
//!
//! Each file is parsed as a stream and loaded with COPY in one transaction:
//! it is stored whole, or not at all. A file whose content (decompressed)
//! was imported before is skipped unless `--force`.

use crate::input::{self, Input};
use crate::{progress, CommonArgs};
use anyhow::{Context, Result};
use clap::Args;
use ivre_model::scan::fingerprint::fingerprint_banners;
use ivre_model::scan::input::ToolOptions;
use ivre_model::scan::{Host, ParseErrorKind, ReadOptions, ScanFormat, ScanReader, Tag};
use ivre_model::storable::storable_host;
use ivre_pg::scan::{ScanFileMeta, ScanLoader};
use ivre_pg::ErrorClass;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

/// Options of `ivre-scan2db` (IVRE's flag names).
#[derive(Debug, Args)]
pub struct Scan2dbArgs {
    /// Scan results: Nmap XML (-oX), Masscan XML (-oX) or JSON (-oJ), IVRE JSON
    /// lines (scancli --json); "-" or nothing reads stdin; compressed files are fine.
    #[arg(value_name = "SCAN")]
    pub files: Vec<String>,
    /// Categories of the records (comma-separated; replace those of IVRE JSON input).
    #[arg(short, long, value_delimiter = ',')]
    pub categories: Vec<String>,
    /// Source of the records (e.g. the scanner's name).
    #[arg(short, long)]
    pub source: Option<String>,
    /// Tags to add, as TAG:LEVEL:INFO (comma-separated), e.g. CDN:info:"My CDN".
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Walk directories given as SCAN.
    #[arg(short, long)]
    pub recursive: bool,
    /// Only store hosts that have ports, of any state (IVRE's --port: not
    /// a port number, unlike ivre-scancli --port N).
    #[arg(long, visible_aliases = ["ports", "with-ports-only"])]
    pub port: bool,
    /// Only store hosts with at least one open port.
    #[arg(long, visible_alias = "open-ports-only")]
    pub open_ports: bool,
    /// Extra Nmap probes to try when fingerprinting Masscan banners.
    #[arg(long, num_args = 1.., value_name = "PROBE")]
    pub masscan_probes: Vec<String>,
    /// The port of Zgrab2 results that name none (JARM, and modules without a URL).
    #[arg(long, value_name = "PORT")]
    pub zgrab_port: Option<u16>,
    /// Parse only: print the records as JSON lines, touch no database.
    #[arg(short, long)]
    pub test: bool,
    /// Import a file again even if the same content was imported before.
    #[arg(long)]
    pub force: bool,
    /// Then bring the view up to date (ivre-db2view's incremental build).
    #[arg(long = "update-view", conflicts_with = "test")]
    pub update_view: bool,
}

/// Fingerprints Masscan banners with Nmap's probes.
struct Fingerprinter {
    extra: Vec<String>,
}

impl Fingerprinter {
    fn new(extra: &[String]) -> Self {
        Fingerprinter {
            extra: extra.to_vec(),
        }
    }

    fn apply(&self, reader: &ScanReader, host: &mut Host) {
        if reader.format().is_masscan() {
            if let Some(probes) = crate::probes::service_probes() {
                fingerprint_banners(host, probes, &self.extra);
            }
        }
    }
}

#[derive(Default)]
struct Totals {
    files: u64,
    hosts: u64,
    addresses: progress::DistinctAddresses,
    failed: bool,
}

/// Runs the import; exit status 1 if any file failed (the others are still processed).
pub fn run_scan2db(common: &CommonArgs, args: &Scan2dbArgs) -> Result<ExitCode> {
    let opts = ReadOptions {
        categories: args.categories.clone(),
        source: args.source.clone(),
        tags: args.tags.iter().map(|t| Tag::parse(t)).collect(),
        port_only: args.port,
        open_ports_only: args.open_ports,
        tools: ToolOptions {
            zgrab_port: args.zgrab_port,
        },
    };
    let files = input::expand(&args.files, args.recursive)?;
    let mut client = if args.test {
        None
    } else {
        Some(common.connect()?)
    };
    let started = Instant::now();
    let mut totals = Totals::default();
    let fingerprinter = Fingerprinter::new(&args.masscan_probes);
    for file in &files {
        let outcome = match client.as_mut() {
            None => print_file(file, &opts, &fingerprinter, &mut totals.addresses),
            Some(client) => load_file(
                client,
                file,
                &opts,
                args,
                &fingerprinter,
                &mut totals.addresses,
            ),
        };
        match outcome {
            Ok(Imported {
                hosts,
                read_error,
                refused,
            }) => {
                totals.files += 1;
                totals.hosts += hosts;
                totals.failed |= read_error || refused > 0;
            }
            Err(e) => {
                log::error!("{e:#}");
                totals.failed = true;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    common.summary(&summary_line(&totals, secs));
    if let (true, Some(client)) = (args.update_view, client.as_mut()) {
        crate::db2view::update_view(common, client)?;
    }
    Ok(crate::exit_status(totals.failed))
}

/// Imports one file as `ivre-scan2db` does (one transaction; a content
/// imported before is skipped unless `force`): what the web API's uploads
/// run. Returns the number of hosts stored.
pub fn import_file(
    client: &mut postgres::Client,
    file: &str,
    opts: &ReadOptions,
    force: bool,
) -> Result<u64> {
    let args = Scan2dbArgs {
        files: Vec::new(),
        categories: opts.categories.clone(),
        source: opts.source.clone(),
        tags: Vec::new(),
        recursive: false,
        port: opts.port_only,
        open_ports: opts.open_ports_only,
        masscan_probes: Vec::new(),
        zgrab_port: opts.tools.zgrab_port,
        test: false,
        force,
        update_view: false,
    };
    let imported = load_file(
        client,
        file,
        opts,
        &args,
        &Fingerprinter::new(&[]),
        &mut progress::DistinctAddresses::default(),
    )?;
    if imported.read_error || imported.refused > 0 {
        anyhow::bail!(
            "{file}: damaged input: {} hosts stored, {} refused",
            imported.hosts,
            imported.refused
        );
    }
    Ok(imported.hosts)
}

/// `10 files: 945 host records (926 addresses: one record per host per
/// scan) in 3.2s (295 records/s)`. The addresses are said when they differ
/// from the records, since `ivre-scancli --short` lists each address once.
fn summary_line(totals: &Totals, secs: f64) -> String {
    let addresses = match totals.addresses.count() {
        Some(n) if n != totals.hosts => format!(
            " ({}: one record per host per scan)",
            progress::count(n, "address", "addresses")
        ),
        _ => String::new(),
    };
    format!(
        "{}: {}{addresses} in {}{}",
        progress::count(totals.files, "file", "files"),
        progress::count(totals.hosts, "host record", "host records"),
        progress::duration(secs),
        progress::rate(totals.hosts, secs, "records")
    )
}

/// What became of one file.
struct Imported {
    hosts: u64,
    /// A read error (I/O, decompression) ended the file: the complete hosts
    /// before it are kept, and the exit status is 1.
    read_error: bool,
    /// Hosts refused one by one (a value out of range): the others are
    /// stored, and the exit status is 1.
    refused: u64,
}

/// Makes `host` storable ([`storable_host`]): text with U+0000 is escaped,
/// a host with a value out of range is refused (false); either is warned
/// about with the file and line.
fn make_storable(name: &str, reader: &ScanReader, host: &mut Host) -> bool {
    match storable_host(host) {
        Ok(escaped) => {
            if !escaped.is_empty() {
                log::warn!(
                    "{name}: line {}: host {}: U+0000 stored escaped (\\x00) in {}",
                    reader.position().line,
                    host.addr,
                    escaped.join(", ")
                );
            }
            true
        }
        Err(e) => {
            log::warn!(
                "{name}: line {}: host {} not stored: {e}",
                reader.position().line,
                host.addr
            );
            false
        }
    }
}

/// `--test`: the records as JSON lines on stdout.
fn print_file(
    file: &str,
    opts: &ReadOptions,
    fingerprinter: &Fingerprinter,
    addresses: &mut progress::DistinctAddresses,
) -> Result<Imported> {
    let input = input::open(file)?;
    let name = input.name.clone();
    let mut reader = ScanReader::open(input.reader, opts).with_context(|| name.clone())?;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut hosts = 0;
    let mut read_error = false;
    let mut refused = 0;
    while let Some(item) = reader.next() {
        match item {
            Ok(mut host) => {
                fingerprinter.apply(&reader, &mut host);
                if !make_storable(&name, &reader, &mut host) {
                    refused += 1;
                    continue;
                }
                serde_json::to_writer(&mut out, &host)?;
                out.write_all(b"\n")?;
                addresses.insert(&host.addr);
                hosts += 1;
            }
            Err(e) if e.is_truncated() || e.kind == ParseErrorKind::Io => {
                read_error = e.kind == ParseErrorKind::Io;
                log::warn!("{name}: {e}; the {hosts} complete hosts before it are kept");
                break;
            }
            Err(e) => return Err(anyhow::anyhow!("{name}: {e}")),
        }
    }
    out.flush()?;
    Ok(Imported {
        hosts,
        read_error,
        refused,
    })
}

/// Loads one file in one transaction. Returns the number of hosts stored.
fn load_file(
    client: &mut postgres::Client,
    file: &str,
    opts: &ReadOptions,
    args: &Scan2dbArgs,
    fingerprinter: &Fingerprinter,
    addresses: &mut progress::DistinctAddresses,
) -> Result<Imported> {
    // A regular file is hashed first, so that a known file costs no parsing;
    // stdin can be read only once, so it is hashed while it is parsed.
    let known_hash = if file == "-" {
        None
    } else {
        Some(hash_content(input::open(file)?))
    };
    let bar = progress::ImportBar::new("hosts", input::size(file));
    let input = input::open_through(file, |raw| bar.reader(raw))?;
    let name = input.name.clone();
    let hasher = Rc::new(RefCell::new(Sha256::new()));
    let reader = HashingReader {
        inner: input.reader,
        hasher: hasher.clone(),
    };
    let mut reader = ScanReader::open(reader, opts).with_context(|| name.clone())?;
    if reader.format() == ScanFormat::Empty {
        log::warn!("{name}: empty (no data); nothing recorded");
        return Ok(Imported {
            hosts: 0,
            read_error: false,
            refused: 0,
        });
    }
    let mut meta = ScanFileMeta {
        sha256: known_hash.clone().unwrap_or_default(),
        name: name.clone(),
        format: reader.format().name().into(),
        categories: opts.categories.clone(),
        source: opts.source.clone(),
        ..ScanFileMeta::default()
    };
    let mut loader = ScanLoader::begin(client, &meta)
        .map_err(|e| not_stored(&name, "cannot start", e, args.force))?;
    if let Some(digest) = &known_hash {
        if !args.force
            && loader.already_imported(digest).map_err(|e| {
                not_stored(&name, "cannot check for a previous import", e, args.force)
            })?
        {
            log::warn!(
                "{name}: already imported (same content); skipped (use --force to import it again)"
            );
            return Ok(Imported {
                hosts: 0,
                read_error: false,
                refused: 0,
            });
        }
    }
    let mut hosts = 0u64;
    let mut read_error = false;
    let mut refused = 0;
    while let Some(item) = reader.next() {
        match item {
            Ok(mut host) => {
                fingerprinter.apply(&reader, &mut host);
                if !make_storable(&name, &reader, &mut host) {
                    refused += 1;
                    continue;
                }
                loader.add(&host).map_err(|e| {
                    not_stored(
                        &name,
                        &format!("cannot store host {}", host.addr),
                        e,
                        args.force,
                    )
                })?;
                addresses.insert(&host.addr);
                hosts += 1;
                bar.set_records(hosts);
            }
            Err(e) if e.is_truncated() || e.kind == ParseErrorKind::Io => {
                read_error = e.kind == ParseErrorKind::Io;
                log::warn!("{name}: {e}; the {hosts} complete hosts before it are stored");
                break;
            }
            // Dropping the loader rolls the transaction back: nothing of this file stays.
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "{name}: {e}; nothing stored from this file"
                ))
            }
        }
    }
    bar.finish_and_clear();
    // XML is Masscan's only once `<nmaprun scanner="masscan">` has been read.
    meta.format = reader.format().name().into();
    if let Some(info) = reader.scan_info() {
        meta.scanner = info.scanner.clone();
        meta.scanner_version = info.version.clone();
        meta.args = info.args.clone();
        meta.start_time = info
            .start
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string());
        meta.end_time = info.end.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string());
        meta.info = Some(serde_json::json!({
            "scaninfo": info.scaninfo,
            "xmloutputversion": info.xmloutputversion,
            "elapsed": info.elapsed,
            "exit": info.exit,
            "summary": info.summary,
            "hosts_up": info.hosts_up,
            "hosts_down": info.hosts_down,
            "hosts_total": info.hosts_total,
        }));
    }
    if known_hash.is_none() {
        // stdin: decide now, with the hash of what was read.
        let digest = hex::encode(hasher.borrow_mut().finalize_reset());
        if !args.force
            && loader.already_imported(&digest).map_err(|e| {
                not_stored(&name, "cannot check for a previous import", e, args.force)
            })?
        {
            log::warn!("{name}: already imported (same content); nothing stored (use --force to import it again)");
            return Ok(Imported {
                hosts: 0,
                read_error,
                refused,
            });
        }
        meta.sha256 = digest;
    }
    let hosts = loader
        .finish(&meta)
        .map_err(|e| not_stored(&name, "cannot commit", e, args.force))?;
    Ok(Imported {
        hosts,
        read_error,
        refused,
    })
}

/// A storage error while importing `name`: the transaction is rolled back,
/// so nothing of the file is kept, and unless the file itself is at fault
/// the same command can simply be run again (a file stored meanwhile is
/// skipped as already imported). A connection lost during the COMMIT
/// leaves the outcome unknown, which a re-run settles (the file is either
/// stored then or skipped), except with `--force`, which would store it
/// twice.
fn not_stored(name: &str, step: &str, e: ivre_pg::Error, force: bool) -> anyhow::Error {
    let advice = match (&e, e.class()) {
        (ivre_pg::Error::CommitUnknown(_), _) if force => {
            "whether the file was stored is unknown; look for it (ivre-scancli) before \
             running the command again: with --force it would be stored twice"
        }
        (ivre_pg::Error::CommitUnknown(_), _) => {
            "whether the file was stored is unknown; running the same command again is \
             safe (it stores the file, or skips it as already imported)"
        }
        (_, ErrorClass::BadInput) => "nothing stored from this file",
        _ => "the file was not stored; running the same command again is safe",
    };
    anyhow::Error::new(e).context(format!("{name}: {step}; {advice}"))
}

/// The hash of what can be read: a read error (a damaged compressed file)
/// is met again, and reported, by the parser, which keeps the hosts before it.
fn hash_content(mut input: Input) -> String {
    let mut hasher = Sha256::new();
    let _ = io::copy(&mut input.reader, &mut hasher);
    hex::encode(hasher.finalize())
}

/// Hashes what the parser consumes.
struct HashingReader {
    inner: Box<dyn BufRead + Send>,
    hasher: Rc<RefCell<Sha256>>,
}

impl Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.borrow_mut().update(&buf[..n]);
        Ok(n)
    }
}

impl BufRead for HashingReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            self.hasher.borrow_mut().update(&buf[..amt.min(buf.len())]);
        }
        self.inner.consume(amt);
    }
}
