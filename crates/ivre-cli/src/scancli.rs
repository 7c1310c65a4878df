//! `ivre-scancli`: query the scan results (the "nmap" purpose).

use crate::args::{Mode, OutputArgs, MODE_GROUP};
use crate::output::{address_lines, distinct_value_lines, top_value_lines};
use crate::scanfilter::ScanFilterArgs;
use crate::CommonArgs;
use anyhow::Result;
use clap::Args;
use ivre_model::scan::output;
use ivre_pg::query::QueryOpts;
use ivre_pg::scan::query;
use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;

/// The flags of `ivre-scancli`: filters, the shared output modes and the
/// scan formats.
#[derive(Debug, Args)]
pub struct ScancliArgs {
    #[command(flatten)]
    pub filter: ScanFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Drop the screenshot fields from --json output.
    #[arg(long = "no-screenshots", help_heading = "Output")]
    pub no_screenshots: bool,
    /// Print Nmap XML.
    #[arg(long = "nmap-xml", group = MODE_GROUP, help_heading = "Output")]
    pub nmap_xml: bool,
    /// Print Nmap's grepable format.
    #[arg(long, group = MODE_GROUP, help_heading = "Output")]
    pub gnmap: bool,
    /// Print the URLs of the HTTP(S) services.
    #[arg(long = "http-urls", group = MODE_GROUP, help_heading = "Output")]
    pub http_urls: bool,
    /// With --http-urls: use the host names instead of the addresses.
    #[arg(long = "http-urls-names", help_heading = "Output")]
    pub http_urls_names: bool,
    /// With --http-urls: print "addr, URL".
    #[arg(long = "http-urls-full", help_heading = "Output")]
    pub http_urls_full: bool,
    /// Print CSV: ports (addr, port, state) or hops (addr, hop, ttl, rtt).
    #[arg(long, value_name = "ports|hops", value_parser = ["ports", "hops"], group = MODE_GROUP, help_heading = "Output")]
    pub csv: Option<String>,
    /// CSV field separator.
    #[arg(long = "csv-separator", default_value = ",", help_heading = "Output")]
    pub csv_separator: String,
    /// CSV text for missing values.
    #[arg(long = "csv-na-str", default_value = "NA", help_heading = "Output")]
    pub csv_na_str: String,
    /// Remove every scan record and import (asks on a terminal).
    #[arg(long, alias = "purgedb", group = MODE_GROUP, help_heading = "Actions")]
    pub init: bool,
}

/// Runs `ivre-scancli`.
pub fn run(common: &CommonArgs, cli: &ScancliArgs) -> Result<ExitCode> {
    let flt = cli.filter.to_filter()?;
    let mut client = common.connect()?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let yes = cli.output.yes;
    if cli.init {
        if yes || crate::confirm("This will remove every scan record. Continue?")? {
            query::purge(&mut client)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let opts = QueryOpts {
        sort: QueryOpts::parse_sort(&cli.output.sort),
        skip: cli.output.skip,
        limit: cli.output.limit.unwrap_or(0),
    };
    match cli.output.mode() {
        Mode::Top { field, least } => {
            let limit = cli.output.top_limit();
            let each = top_value_lines(&mut out);
            query::for_each_topvalue(&mut client, &flt, &field, limit, least, each)?;
        }
        Mode::Short => query::addresses(&mut client, &flt, address_lines(&mut out))?,
        Mode::Distinct(field) => {
            query::distinct(&mut client, &flt, &field, distinct_value_lines(&mut out))?
        }
        Mode::Explain => writeln!(out, "{}", query::explain(&mut client, &flt)?)?,
        Mode::Delete => {
            let n = query::count(&mut client, &flt)?;
            if yes || crate::confirm(&format!("This will delete {n} record(s). Continue?"))? {
                let n = query::delete(&mut client, &flt)?;
                log::info!("{n} record(s) deleted");
            }
            return Ok(ExitCode::SUCCESS);
        }
        Mode::Count => writeln!(out, "{}", query::count(&mut client, &flt)?)?,
        Mode::Json => write_json(&mut client, &flt, &opts, cli.no_screenshots, &mut out)?,
        Mode::Records => write_records(&mut client, &flt, &opts, cli, &mut out)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `--json`: indented for people on a terminal (as IVRE does), else one
/// record per line straight from the server's text when nothing is dropped.
fn write_json(
    client: &mut postgres::Client,
    flt: &ivre_model::filter::scan::ScanFilter,
    opts: &QueryOpts,
    no_screenshots: bool,
    out: &mut impl Write,
) -> Result<()> {
    if std::io::stdout().is_terminal() {
        query::get::<anyhow::Error>(client, flt, opts, |mut doc| {
            if no_screenshots {
                output::strip_screenshots(&mut doc);
            }
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            Ok(out.write_all(b"\n")?)
        })?;
    } else if !no_screenshots {
        query::get_text::<anyhow::Error>(client, flt, opts, |doc| {
            out.write_all(doc.as_bytes())?;
            Ok(out.write_all(b"\n")?)
        })?;
    } else {
        query::get::<anyhow::Error>(client, flt, opts, |mut doc| {
            output::strip_screenshots(&mut doc);
            serde_json::to_writer(&mut *out, &doc)?;
            Ok(out.write_all(b"\n")?)
        })?;
    }
    Ok(())
}

/// The records in one of the scan formats (Nmap XML, gnmap, URLs, CSV,
/// IVRE's text by default).
fn write_records(
    client: &mut postgres::Client,
    flt: &ivre_model::filter::scan::ScanFilter,
    opts: &QueryOpts,
    cli: &ScancliArgs,
    out: &mut impl Write,
) -> Result<()> {
    if cli.nmap_xml {
        output::nmap_xml_header(&mut *out, "ivre-scancli --nmap-xml")?;
        let mut n = 0;
        query::get::<anyhow::Error>(client, flt, opts, |doc| {
            n += 1;
            Ok(output::nmap_xml_host(&mut *out, &doc)?)
        })?;
        output::nmap_xml_footer(&mut *out, n)?;
    } else if cli.gnmap {
        query::get::<anyhow::Error>(client, flt, opts, |doc| {
            Ok(output::gnmap_host(&mut *out, &doc)?)
        })?;
    } else if cli.http_urls {
        query::get::<anyhow::Error>(client, flt, opts, |doc| {
            for url in output::http_urls(&doc, cli.http_urls_names) {
                if cli.http_urls_full {
                    let addr = doc.get("addr").and_then(|a| a.as_str()).unwrap_or_default();
                    writeln!(out, "{addr}, {url}")?;
                } else {
                    writeln!(out, "{url}")?;
                }
            }
            Ok(())
        })?;
    } else if let Some(kind) = &cli.csv {
        let sep = &cli.csv_separator;
        let header: &[&str] = if kind == "hops" {
            &["addr", "hop", "ttl", "rtt"]
        } else {
            &["addr", "port", "state"]
        };
        writeln!(out, "{}", header.join(sep))?;
        query::get::<anyhow::Error>(client, flt, opts, |doc| {
            for row in output::csv_rows(&doc, kind, &cli.csv_na_str) {
                let row: Vec<String> = row.iter().map(|f| output::csv_field(f, sep)).collect();
                writeln!(out, "{}", row.join(sep))?;
            }
            Ok(())
        })?;
    } else {
        query::get::<anyhow::Error>(client, flt, opts, |doc| {
            Ok(output::human_host(&mut *out, &doc)?)
        })?;
    }
    Ok(())
}
