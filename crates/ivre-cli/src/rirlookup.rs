//! `ivre-rirlookup`: whois data of the Regional Internet Registries. RPSL
//! dumps are imported (`--insert`, exactly once per content: see
//! [`ivre_pg::rir::insert_file`]), then each address given is answered with
//! the narrowest registered range holding it; `--search`, `--country`,
//! `--count` and `--distinct` query the stored objects.

use crate::args::{confirm_destructive, report_deleted};
use crate::{input, CommonArgs, UsageError};
use anyhow::{Context, Result};
use clap::Args;
use ivre_model::reader::RecordReader;
use ivre_model::rir::{range_label, RirKind, RpslReader};
use ivre_pg::rir::{self, Inserted, RirQuery, RirRecord};
use sha2::{Digest, Sha256};
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

/// The flags of `ivre-rirlookup`.
#[derive(Debug, Args)]
pub struct RirlookupArgs {
    /// Addresses to look up: each gives the narrowest range holding it
    #[arg(value_name = "ADDR")]
    pub addrs: Vec<String>,
    /// Download the RIRs' RPSL dumps into --rir-dir (conditional GET: an
    /// unchanged dump is not fetched again); import them with --insert
    #[arg(long)]
    pub download: bool,
    /// Directory of the downloaded dumps (default: $IVRE_RIR_DIR, else
    /// /var/lib/ivre/rir)
    #[arg(long, value_name = "DIR", env = "IVRE_RIR_DIR")]
    pub rir_dir: Option<std::path::PathBuf>,
    /// Download these URLs instead of the five RIRs' dumps (repeatable)
    #[arg(long, value_name = "URL", requires = "download")]
    pub url: Vec<String>,
    /// Import RPSL dumps (plain or compressed), each content once
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub insert: Vec<String>,
    /// Remove every RIR object first (asks on a terminal, needs --yes
    /// without one)
    #[arg(long)]
    pub init: bool,
    /// Confirm --init without asking
    #[arg(long)]
    pub yes: bool,
    /// One line per record: `network: netname - country`
    #[arg(long, conflicts_with = "json")]
    pub short: bool,
    /// One JSON object per record
    #[arg(short = 'j', long)]
    pub json: bool,
    /// Records whose text holds every word of TEXT (netname, descr,
    /// as-name, any attribute), case-insensitive
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Records of these countries (`FR,DE`)
    #[arg(long, value_name = "CC[,CC]", value_delimiter = ',')]
    pub country: Vec<String>,
    /// Records of this dump (base name)
    #[arg(long, value_name = "NAME")]
    pub source_file: Option<String>,
    /// Only inetnum, inet6num or aut-num records
    #[arg(long, value_name = "CLASS", value_parser = ["inetnum", "inet6num", "aut-num"])]
    pub kind: Option<String>,
    /// Print how many records the query selects
    #[arg(long, conflicts_with = "distinct")]
    pub count: bool,
    /// Print the distinct values of FIELD among the selected records
    /// (country, netname, descr, as-name, aut-num, source_file, kind,
    /// status, org, mnt-by, source, admin-c, tech-c)
    #[arg(long, value_name = "FIELD")]
    pub distinct: Option<String>,
    /// Print at most N records
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl RirlookupArgs {
    fn query(&self) -> RirQuery {
        RirQuery {
            search: self.search.clone(),
            countries: self.country.clone(),
            source_file: self.source_file.clone(),
            kind: self.kind.as_deref().and_then(RirKind::from_class),
            addr: None,
        }
    }

    fn has_query(&self) -> bool {
        self.search.is_some()
            || !self.country.is_empty()
            || self.source_file.is_some()
            || self.kind.is_some()
            || self.count
            || self.distinct.is_some()
    }
}

/// Runs `ivre-rirlookup`.
pub fn run(args: &RirlookupArgs) -> ExitCode {
    args.common.init_logging();
    crate::run("ivre-rirlookup", || body(args))
}

fn body(args: &RirlookupArgs) -> Result<ExitCode> {
    if !args.download
        && !args.init
        && args.insert.is_empty()
        && args.addrs.is_empty()
        && !args.has_query()
    {
        return Err(UsageError(
            "nothing to do: give addresses, --download, --insert, --search, --country, --count \
             or --distinct"
                .into(),
        )
        .into());
    }
    if !args.addrs.is_empty() && (args.count || args.distinct.is_some()) {
        return Err(
            UsageError("--count and --distinct query records, not addresses".into()).into(),
        );
    }
    let addrs = args
        .addrs
        .iter()
        .map(|a| {
            ivre_data::parse_addr(a)
                .ok_or_else(|| UsageError(format!("{a:?} is not an IP address")))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if args.insert.iter().any(|f| f == "-") {
        return Err(UsageError(
            "--insert reads files (their content is hashed before the import), not stdin".into(),
        )
        .into());
    }
    let mut failed = false;
    if args.download {
        let dir = args
            .rir_dir
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from("/var/lib/ivre/rir"));
        let urls: Vec<String> = if args.url.is_empty() {
            crate::rir_download::DEFAULT_URLS
                .iter()
                .map(|u| u.to_string())
                .collect()
        } else {
            args.url.clone()
        };
        for r in crate::rir_download::download(&urls, &dir) {
            match r {
                Ok(crate::rir_download::Fetched::New(p)) => {
                    args.common.summary(&format!("{}: downloaded", p.display()))
                }
                Ok(crate::rir_download::Fetched::Unchanged(p)) => args
                    .common
                    .summary(&format!("{}: up to date, not downloaded", p.display())),
                Err(e) => {
                    log::error!("{e:#}");
                    failed = true;
                }
            }
        }
        if !args.init && args.insert.is_empty() && args.addrs.is_empty() && !args.has_query() {
            return Ok(crate::exit_status(failed));
        }
    }
    let mut client = args.common.connect()?;
    if args.init && confirm_destructive(args.yes, "--init removes every RIR record")? {
        report_deleted(rir::purge(&mut client)?, "RIR record");
    }
    for file in &args.insert {
        match insert(&args.common, &mut client, file) {
            Ok(skipped) => failed |= skipped > 0,
            Err(e) => {
                log::error!("{e:#}");
                failed = true;
            }
        }
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if !addrs.is_empty() {
        for addr in addrs {
            let query = RirQuery {
                addr: Some(addr),
                ..args.query()
            };
            let mut found = false;
            rir::rir_search_each(&mut client, &query, Some(1), |r| {
                found = true;
                write_record(&mut out, args, &r).map_err(|e| ivre_pg::Error::io("<stdout>", e))
            })?;
            if !found {
                out.flush()?;
                log::warn!("{addr}: no registered range holds it");
            }
        }
    } else if args.count {
        writeln!(out, "{}", rir::rir_count(&mut client, &args.query())?)?;
    } else if let Some(field) = &args.distinct {
        for (value, count) in rir::rir_distinct(&mut client, &args.query(), field)? {
            if args.json {
                let v = serde_json::json!({ "value": value, "count": count });
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "{}", value.as_deref().unwrap_or(""))?;
            }
        }
    } else if args.has_query() {
        rir::rir_search_each(&mut client, &args.query(), args.limit, |r| {
            write_record(&mut out, args, &r).map_err(|e| ivre_pg::Error::io("<stdout>", e))
        })?;
    }
    out.flush()?;
    Ok(crate::exit_status(failed))
}

/// Imports one dump; malformed objects are reported and skipped (their
/// count is returned), a fatal error aborts the import.
fn insert(common: &CommonArgs, client: &mut postgres::Client, file: &str) -> Result<u64> {
    let sha256 = content_sha256(file)?;
    let input = input::open(file)?;
    let name = input.name.clone();
    let mut skipped = 0u64;
    let reader = RpslReader::new(input.reader);
    let fatal =
        |e: &ivre_model::rir::RirError| !matches!(e, ivre_model::rir::RirError::Syntax { .. });
    let objects = reader.records().filter_map(|r| match r {
        Ok(o) => Some(Ok(o)),
        Err(e) if fatal(&e) => Some(Err(format!("{name}, {e}: import aborted"))),
        Err(e) => {
            log::warn!("{name}, {e}: object skipped");
            skipped += 1;
            None
        }
    });
    match rir::insert_file(client, file, &sha256, objects)? {
        Inserted::Objects(n) => {
            let note = if skipped > 0 {
                format!(" ({skipped} malformed skipped)")
            } else {
                String::new()
            };
            common.summary(&format!("{file}: {n} RIR objects imported{note}"));
        }
        Inserted::AlreadyImported => {
            common.summary(&format!("{file}: already imported (same content), skipped"));
        }
    }
    Ok(skipped)
}

/// SHA-256 (hex) of the decompressed content of `path`.
fn content_sha256(path: &str) -> Result<String> {
    let mut input = input::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = input
            .reader
            .read(&mut buf)
            .with_context(|| format!("cannot read {path}"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The record's headline: its network (or `first - last`), or `AS<n>`.
fn headline(r: &RirRecord) -> String {
    match (r.range(), r.aut_num) {
        (Some(range), _) => range_label(&range),
        (None, Some(n)) => format!("AS{n}"),
        _ => String::new(),
    }
}

fn write_record(out: &mut impl Write, args: &RirlookupArgs, r: &RirRecord) -> io::Result<()> {
    if args.json {
        return writeln!(out, "{}", r.to_json());
    }
    if args.short {
        let name = if r.kind == "aut-num" {
            r.grouped()
                .into_iter()
                .find(|(k, _)| *k == "as-name")
                .map(|(_, v)| v)
        } else {
            r.netname.clone()
        };
        let mut line = format!("{}: {}", headline(r), name.unwrap_or_default());
        if let Some(cc) = &r.country {
            line.push_str(" - ");
            line.push_str(cc);
        }
        return writeln!(out, "{line}");
    }
    writeln!(out, "{}: {}", r.kind, headline(r))?;
    for (k, v) in r.grouped() {
        if k == r.kind {
            continue;
        }
        let indent = " ".repeat(k.len() + 2);
        writeln!(out, "{k}: {}", v.replace('\n', &format!("\n{indent}")))?;
    }
    writeln!(out, "source_file: {}", r.source_file)?;
    writeln!(out)
}
