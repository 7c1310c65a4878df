//! `ivre-ipinfo`: query the passive purpose.

use crate::args::{confirm_destructive, report_deleted, Mode, OutputArgs, MODE_GROUP};
use crate::output::{address_lines, distinct_value_lines, top_value_lines, write_json_line};
use crate::passivefilter::PassiveFilterArgs;
use crate::CommonArgs;
use anyhow::Result;
use clap::Args;
use ivre_data::{GeoIpDb, GeoIpError};
use ivre_model::filter::passive as p;
use ivre_model::passive::display::{geo_lines, write_tail, StdWriter};
use ivre_model::passive::{NormalizeConfig, PassiveRecord};
use ivre_pg::passive::query;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The flags of `ivre-ipinfo`: filters, the shared output modes, the
/// passive modes and actions.
#[derive(Debug, Args)]
pub struct IpinfoArgs {
    #[command(flatten)]
    pub filter: PassiveFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub tail: TailArgs,
    /// With --top: sum the records' counts (observations) instead of counting records.
    #[arg(long = "top-sum", help_heading = "Output")]
    pub top_sum: bool,
    /// Directory of the MaxMind .mmdb files for the country and AS lines of
    /// the text output (default: $IVRE_GEOIP_DIR, /var/lib/GeoIP, ...; none: no such lines).
    #[arg(long = "geoip-dir", value_name = "DIR", help_heading = "Output")]
    pub geoip_dir: Option<PathBuf>,
    /// Remove every passive record (asks on a terminal, needs --yes without
    /// one) and say how many there were.
    #[arg(long, group = MODE_GROUP, help_heading = "Actions")]
    pub init: bool,
    /// Copy the matching records into this database (merged with its records).
    #[arg(long = "to-db", value_name = "URL", group = MODE_GROUP, help_heading = "Actions")]
    pub to_db: Option<String>,
    /// Read the records from this database instead of --db.
    #[arg(long = "from-db", value_name = "URL", help_heading = "Actions")]
    pub from_db: Option<String>,
    /// Turn the stored DNS answers that are DNS blacklist lookups into
    /// DNS_BLACKLIST records (zones: zen.spamhaus.org, blacklist.woody.ch and --dnsbl-zone).
    #[arg(long = "dnsbl-update", group = MODE_GROUP, help_heading = "Actions")]
    pub dnsbl_update: bool,
    /// Extra DNS blacklist zone for --dnsbl-update (repeatable).
    #[arg(long = "dnsbl-zone", value_name = "ZONE", help_heading = "Actions")]
    pub dnsbl_zone: Vec<String>,
    /// Accepted for compatibility with IVRE: the schema and its indexes are
    /// created and upgraded on every connection.
    #[arg(
        long = "ensure-indexes",
        alias = "update-schema",
        group = MODE_GROUP,
        help_heading = "Actions"
    )]
    pub ensure_indexes: bool,
}

/// The tail modes: records by time, as text or (with `--json`) JSON lines.
/// One of them at most, and none with another output mode but `--json`.
#[derive(Debug, Args)]
#[group(
    id = "tail-mode",
    multiple = false,
    conflicts_with_all = ["count", "short", "distinct", "top", "explain", "delete", "init", "to_db", "dnsbl_update", "ensure_indexes"]
)]
pub struct TailArgs {
    /// The N records first seen last (oldest first).
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub tail: Option<u64>,
    /// The N records last seen last (oldest first).
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub tailnew: Option<u64>,
    /// Print the 10 latest records by last seen, then new ones as they come (every second).
    #[arg(long, help_heading = "Output")]
    pub tailf: bool,
    /// Print the 10 latest records by first seen, then new ones as they come.
    #[arg(long, help_heading = "Output")]
    pub tailfnew: bool,
}

impl TailArgs {
    fn any(&self) -> bool {
        self.tail.is_some() || self.tailnew.is_some() || self.tailf || self.tailfnew
    }
}

/// The text layout, with IVRE's country and AS lines when MaxMind databases are installed.
fn std_writer(dir: Option<&Path>) -> StdWriter {
    match GeoIpDb::discover(dir) {
        Ok(db) => StdWriter::with_address_lines(move |a| match db.lookup(a) {
            Ok(i) => geo_lines(i.country_code, i.country_name, i.as_num, i.as_name),
            Err(e) => {
                log::warn!("{e}");
                Vec::new()
            }
        }),
        Err(GeoIpError::NoDatabase { .. }) if dir.is_none() => StdWriter::new(),
        Err(e) => {
            log::warn!("{e}: no country and AS lines");
            StdWriter::new()
        }
    }
}

/// Runs `ivre-ipinfo`.
pub fn run(common: &CommonArgs, cli: &IpinfoArgs) -> Result<ExitCode> {
    let flt = cli.filter.to_filter()?;
    let mut client = match &cli.from_db {
        Some(url) => ivre_pg::connect(Some(url))?,
        None => common.connect()?,
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let yes = cli.output.yes;
    let opts = cli.output.query_opts();
    if cli.ensure_indexes {
        log::info!("the passive schema and its indexes are up to date");
    } else if cli.init {
        if confirm_destructive(yes, "--init removes every passive record")? {
            report_deleted(query::purge(&mut client)?, "record");
        }
    } else if let Some(url) = &cli.to_db {
        let mut dst = ivre_pg::connect(Some(url))?;
        let n = query::copy_to(&mut client, &flt, &mut dst, 10_000)?;
        log::info!("{n} record(s) copied");
    } else if cli.dnsbl_update {
        let mut config = NormalizeConfig::default();
        config.dnsbl_zones.extend(cli.dnsbl_zone.iter().cloned());
        let n = query::dnsbl_update(&mut client, &flt, &config)?;
        log::info!("{n} DNS answer(s) turned into DNS_BLACKLIST records");
    } else if cli.tail.any() {
        write_tail_records(&mut client, &flt, &cli.tail, cli.output.json, &mut out)?;
    } else {
        match cli.output.mode() {
            Mode::Top { field, least } => {
                let count_records = !cli.top_sum;
                let each = top_value_lines(&mut out);
                query::for_each_topvalue_page(
                    &mut client,
                    &flt,
                    &field,
                    &cli.output.top_page(),
                    least,
                    count_records,
                    each,
                )?;
            }
            Mode::Distinct(field) => {
                let each = distinct_value_lines(&mut out);
                query::distinct_page(&mut client, &flt, &field, &opts, each)?
            }
            Mode::Short => {
                query::addresses_page(&mut client, &flt, &opts, address_lines(&mut out))?
            }
            Mode::Count => {
                let n = query::count(&mut client, &flt)?;
                writeln!(out, "{}", cli.output.paged_count(n))?
            }
            Mode::Explain => {
                cli.output.refuse_paging("--explain")?;
                writeln!(out, "{}", query::explain(&mut client, &flt)?)?
            }
            Mode::Delete => {
                cli.output.refuse_paging("--delete")?;
                let n = query::count(&mut client, &flt)?;
                let action = format!("--delete removes {n} matching record(s)");
                if confirm_destructive(yes, &action)? {
                    report_deleted(query::delete(&mut client, &flt)?, "record");
                }
            }
            mode @ (Mode::Json | Mode::Records) => {
                if mode == Mode::Json {
                    let pretty = std::io::stdout().is_terminal();
                    query::get::<anyhow::Error>(&mut client, &flt, &opts, |r| {
                        Ok(write_json_line(&mut out, &r, pretty)?)
                    })?;
                } else {
                    // The text output is per address: records without one are left out.
                    let flt = flt.and(p::ipv4().or(p::ipv6()));
                    let mut w = std_writer(cli.geoip_dir.as_deref());
                    query::get::<anyhow::Error>(&mut client, &flt, &opts, |r| {
                        Ok(w.write(&mut out, &r)?)
                    })?;
                }
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `--tail N`, `--tailnew N`, `--tailf`, `--tailfnew`: every record flushed
/// as it comes (a pipe reader sees it at once).
fn write_tail_records(
    client: &mut postgres::Client,
    flt: &p::PassiveFilter,
    tail: &TailArgs,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    let mut show = |r: PassiveRecord| -> Result<()> {
        if json {
            write_json_line(&mut *out, &r, false)?;
        } else {
            write_tail(&mut *out, &r)?;
        }
        Ok(out.flush()?)
    };
    match (tail.tail, tail.tailnew) {
        (Some(n), _) => query::tail::<anyhow::Error>(client, flt, n, false, show)?,
        (None, Some(n)) => query::tail::<anyhow::Error>(client, flt, n, true, show)?,
        (None, None) => {
            let second = std::time::Duration::from_secs(1);
            query::follow::<anyhow::Error>(client, flt, tail.tailf, second, &mut show)?
        }
    }
    Ok(())
}
