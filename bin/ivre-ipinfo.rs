//! `ivre-ipinfo`: query the passive purpose.

use clap::Parser;
use ivre_cli::passivefilter::PassiveFilterArgs;
use ivre_cli::scanfilter::parse_top;
use ivre_cli::CommonArgs;
use ivre_data::{GeoIpDb, GeoIpError};
use ivre_model::filter::passive as p;
use ivre_model::passive::display::{geo_lines, write_tail, StdWriter};
use ivre_model::passive::{NormalizeConfig, PassiveRecord};
use ivre_model::scan::output::top_value_text;
use ivre_pg::passive::query;
use ivre_pg::query::QueryOpts;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-ipinfo",
    about = "Query the passive records imported by ivre-passiverecon2db, ivre-p0f2db and ivre-airodump2db",
    after_help = "Examples:\n  ivre-ipinfo 192.0.2.1\n  ivre-ipinfo --count --recontype DNS_ANSWER\n  ivre-ipinfo --top domains:com --limit 5\n  ivre-ipinfo --useragent /curl/ --json"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    filter: PassiveFilterArgs,
    /// Print the number of matching records.
    #[arg(long, help_heading = "Output")]
    count: bool,
    /// Print the distinct addresses, one per line.
    #[arg(long, help_heading = "Output")]
    short: bool,
    /// Print the records as JSON, one per line (indented on a terminal).
    #[arg(long, help_heading = "Output")]
    json: bool,
    /// Print the distinct values of a field (same fields as --top).
    #[arg(long, value_name = "FIELD", help_heading = "Output")]
    distinct: Option<String>,
    /// Print the most common values of a field (~FIELD, !FIELD, -FIELD: the least common).
    #[arg(
        long,
        value_name = "FIELD",
        allow_hyphen_values = true,
        help_heading = "Output"
    )]
    top: Option<String>,
    /// With --top: sum the records' counts (observations) instead of counting records.
    #[arg(long = "top-sum", help_heading = "Output")]
    top_sum: bool,
    /// The N records first seen last (oldest first).
    #[arg(long, value_name = "N", help_heading = "Output")]
    tail: Option<u64>,
    /// The N records last seen last (oldest first).
    #[arg(long, value_name = "N", help_heading = "Output")]
    tailnew: Option<u64>,
    /// Print the 10 latest records by last seen, then new ones as they come (every second).
    #[arg(long, help_heading = "Output")]
    tailf: bool,
    /// Print the 10 latest records by first seen, then new ones as they come.
    #[arg(long, help_heading = "Output")]
    tailfnew: bool,
    /// Sort the records by these fields (~FIELD: descending).
    #[arg(
        long,
        value_name = "FIELD",
        allow_hyphen_values = true,
        help_heading = "Output"
    )]
    sort: Vec<String>,
    /// Skip this many records.
    #[arg(long, default_value_t = 0, help_heading = "Output")]
    skip: u64,
    /// At most this many records (for --top: values, default 10; 0: no limit).
    #[arg(long, help_heading = "Output")]
    limit: Option<u64>,
    /// Directory of the MaxMind .mmdb files for the country and AS lines of
    /// the text output (default: $IVRE_GEOIP_DIR, /var/lib/GeoIP, ...; none: no such lines).
    #[arg(long = "geoip-dir", value_name = "DIR", help_heading = "Output")]
    geoip_dir: Option<PathBuf>,
    /// Print the query plan of the filter.
    #[arg(long, help_heading = "Output")]
    explain: bool,
    /// Delete the matching records (one transaction; asks on a terminal).
    #[arg(long, help_heading = "Actions")]
    delete: bool,
    /// Remove every passive record (asks on a terminal).
    #[arg(long, help_heading = "Actions")]
    init: bool,
    /// Copy the matching records into this database (merged with its records).
    #[arg(long = "to-db", value_name = "URL", help_heading = "Actions")]
    to_db: Option<String>,
    /// Read the records from this database instead of --db.
    #[arg(long = "from-db", value_name = "URL", help_heading = "Actions")]
    from_db: Option<String>,
    /// Turn the stored DNS answers that are DNS blacklist lookups into
    /// DNS_BLACKLIST records (zones: zen.spamhaus.org, blacklist.woody.ch and --dnsbl-zone).
    #[arg(long = "dnsbl-update", help_heading = "Actions")]
    dnsbl_update: bool,
    /// Extra DNS blacklist zone for --dnsbl-update (repeatable).
    #[arg(long = "dnsbl-zone", value_name = "ZONE", help_heading = "Actions")]
    dnsbl_zone: Vec<String>,
    /// Accepted for compatibility with IVRE: the schema and its indexes are
    /// created and upgraded on every connection.
    #[arg(
        long = "ensure-indexes",
        alias = "update-schema",
        help_heading = "Actions"
    )]
    ensure_indexes: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y', help_heading = "Actions")]
    yes: bool,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.common.init_logging();
    ivre_cli::run("ivre-ipinfo", || {
        let flt = cli.filter.to_filter()?;
        let mut client = match &cli.from_db {
            Some(url) => ivre_pg::connect(Some(url))?,
            None => cli.common.connect()?,
        };
        let mut out = BufWriter::new(std::io::stdout().lock());
        if cli.ensure_indexes {
            log::info!("the passive schema and its indexes are up to date");
        } else if cli.init {
            if cli.yes || ivre_cli::confirm("This will remove every passive record. Continue?")? {
                query::purge(&mut client)?;
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
        } else if let Some(top) = &cli.top {
            let (field, least) = parse_top(top);
            let limit = cli.limit.unwrap_or(10);
            query::for_each_topvalue::<anyhow::Error>(
                &mut client,
                &flt,
                &field,
                limit,
                least,
                !cli.top_sum,
                |v| Ok(writeln!(out, "{}: {}", top_value_text(&v.value), v.count)?),
            )?;
        } else if let Some(field) = &cli.distinct {
            query::distinct::<anyhow::Error>(&mut client, &flt, field, |v| {
                Ok(writeln!(out, "{}", top_value_text(&v))?)
            })?;
        } else if cli.short {
            query::addresses::<anyhow::Error>(&mut client, &flt, |a| Ok(writeln!(out, "{a}")?))?;
        } else if cli.count {
            writeln!(out, "{}", query::count(&mut client, &flt)?)?;
        } else if cli.explain {
            writeln!(out, "{}", query::explain(&mut client, &flt)?)?;
        } else if cli.delete {
            let n = query::count(&mut client, &flt)?;
            if cli.yes || ivre_cli::confirm(&format!("This will delete {n} record(s). Continue?"))?
            {
                let n = query::delete(&mut client, &flt)?;
                log::info!("{n} record(s) deleted");
            }
        } else if cli.tail.is_some() || cli.tailnew.is_some() || cli.tailf || cli.tailfnew {
            let json = cli.json;
            let mut show = |r: PassiveRecord| -> anyhow::Result<()> {
                if json {
                    serde_json::to_writer(&mut out, &r)?;
                    writeln!(out)?;
                } else {
                    write_tail(&mut out, &r)?;
                }
                Ok(out.flush()?)
            };
            match (cli.tail, cli.tailnew) {
                (Some(n), _) => query::tail(&mut client, &flt, n, false, show)?,
                (None, Some(n)) => query::tail(&mut client, &flt, n, true, show)?,
                (None, None) => {
                    let second = std::time::Duration::from_secs(1);
                    query::follow(&mut client, &flt, cli.tailf, second, &mut show)?
                }
            }
        } else {
            let opts = QueryOpts {
                sort: QueryOpts::parse_sort(&cli.sort),
                skip: cli.skip,
                limit: cli.limit.unwrap_or(0),
            };
            if cli.json {
                let pretty = std::io::stdout().is_terminal();
                query::get::<anyhow::Error>(&mut client, &flt, &opts, |r| {
                    if pretty {
                        serde_json::to_writer_pretty(&mut out, &r)?;
                    } else {
                        serde_json::to_writer(&mut out, &r)?;
                    }
                    Ok(writeln!(out)?)
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
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
