//! `ivre-scancli`: query the scan results (the "nmap" purpose).

use crate::args::{confirm_destructive, report_deleted, Mode, OutputArgs, MODE_GROUP};
use crate::output::{address_lines, distinct_value_lines, top_value_lines};
use crate::scanfilter::ScanFilterArgs;
use crate::CommonArgs;
use anyhow::Result;
use clap::Args;
use ivre_model::filter::Filter;
use ivre_model::scan::output;
use ivre_pg::query::QueryOpts;
use ivre_pg::scan::{query, HostLeaf};
use postgres::Client;
use serde_json::Value;
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
    #[command(flatten)]
    pub formats: HostFormatArgs,
    /// Remove every scan record and import (asks on a terminal, needs --yes
    /// without one) and say how many records there were.
    #[arg(long, alias = "purgedb", group = MODE_GROUP, help_heading = "Actions")]
    pub init: bool,
}

/// The output formats of host records (scan results and view), besides the
/// shared modes.
#[derive(Debug, Args)]
pub struct HostFormatArgs {
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
    /// With --csv: add the country code and AS number of each address (infos).
    #[arg(long = "csv-add-infos", help_heading = "Output")]
    pub csv_add_infos: bool,
}

/// Runs `ivre-scancli`.
pub fn run(common: &CommonArgs, cli: &ScancliArgs) -> Result<ExitCode> {
    let flt = cli.filter.to_filter()?;
    let mut client = common.connect()?;
    if cli.init {
        if confirm_destructive(cli.output.yes, "--init removes every scan record")? {
            report_deleted(query::purge(&mut client)?, "record");
        }
        return Ok(ExitCode::SUCCESS);
    }
    run_query(&mut client, &flt, &cli.output, &cli.formats)?;
    Ok(ExitCode::SUCCESS)
}

/// Answers the shared modes and the host formats over the host records
/// that `flt` selects, in whichever table set its leaves read (scan
/// results or view).
pub fn run_query<L: HostLeaf>(
    client: &mut Client,
    flt: &Filter<L>,
    output: &OutputArgs,
    formats: &HostFormatArgs,
) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let opts = output.query_opts();
    match output.mode() {
        Mode::Top { field, least } => {
            let each = top_value_lines(&mut out);
            query::for_each_topvalue_page(client, flt, &field, &output.top_page(), least, each)?;
        }
        Mode::Short => query::addresses_page(client, flt, &opts, address_lines(&mut out))?,
        Mode::Distinct(field) => {
            query::distinct_page(client, flt, &field, &opts, distinct_value_lines(&mut out))?
        }
        Mode::Explain => {
            output.refuse_paging("--explain")?;
            writeln!(out, "{}", query::explain(client, flt)?)?
        }
        Mode::Delete => {
            output.refuse_paging("--delete")?;
            let n = query::count(client, flt)?;
            let action = format!("--delete removes {n} matching record(s)");
            if confirm_destructive(output.yes, &action)? {
                report_deleted(query::delete(client, flt)?, "record");
            }
            return Ok(());
        }
        Mode::Count => writeln!(out, "{}", output.paged_count(query::count(client, flt)?))?,
        Mode::Json => write_json(client, flt, &opts, formats.no_screenshots, &mut out)?,
        Mode::Records => write_records(client, flt, &opts, formats, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// `--json`: indented for people on a terminal (as IVRE does), else one
/// record per line straight from the server's text when nothing is dropped.
fn write_json<L: HostLeaf>(
    client: &mut Client,
    flt: &Filter<L>,
    opts: &QueryOpts,
    no_screenshots: bool,
    out: &mut impl Write,
) -> Result<()> {
    if std::io::stdout().is_terminal() {
        query::get::<_, anyhow::Error>(client, flt, opts, |mut doc| {
            if no_screenshots {
                output::strip_screenshots(&mut doc);
            }
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            Ok(out.write_all(b"\n")?)
        })?;
    } else if !no_screenshots {
        query::get_text::<_, anyhow::Error>(client, flt, opts, |doc| {
            out.write_all(doc.as_bytes())?;
            Ok(out.write_all(b"\n")?)
        })?;
    } else {
        query::get::<_, anyhow::Error>(client, flt, opts, |mut doc| {
            output::strip_screenshots(&mut doc);
            serde_json::to_writer(&mut *out, &doc)?;
            Ok(out.write_all(b"\n")?)
        })?;
    }
    Ok(())
}

/// The records in one of the scan formats (Nmap XML, gnmap, URLs, CSV,
/// IVRE's text by default).
fn write_records<L: HostLeaf>(
    client: &mut Client,
    flt: &Filter<L>,
    opts: &QueryOpts,
    cli: &HostFormatArgs,
    out: &mut impl Write,
) -> Result<()> {
    if cli.nmap_xml {
        output::nmap_xml_header(&mut *out, "ivre-scancli --nmap-xml")?;
        let mut n = 0;
        query::get::<_, anyhow::Error>(client, flt, opts, |doc| {
            n += 1;
            Ok(output::nmap_xml_host(&mut *out, &doc)?)
        })?;
        output::nmap_xml_footer(&mut *out, n)?;
    } else if cli.gnmap {
        query::get::<_, anyhow::Error>(client, flt, opts, |doc| {
            Ok(output::gnmap_host(&mut *out, &doc)?)
        })?;
    } else if cli.http_urls {
        query::get::<_, anyhow::Error>(client, flt, opts, |doc| {
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
        let mut header: Vec<&str> = if kind == "hops" {
            vec!["addr", "hop", "ttl", "rtt"]
        } else {
            vec!["addr", "port", "state"]
        };
        if cli.csv_add_infos {
            header.extend(["country_code", "as_num"]);
        }
        writeln!(out, "{}", header.join(sep))?;
        query::get::<_, anyhow::Error>(client, flt, opts, |doc| {
            let infos = cli.csv_add_infos.then(|| csv_infos(&doc, &cli.csv_na_str));
            for mut row in output::csv_rows(&doc, kind, &cli.csv_na_str) {
                row.extend(infos.iter().flatten().cloned());
                let row: Vec<String> = row.iter().map(|f| output::csv_field(f, sep)).collect();
                writeln!(out, "{}", row.join(sep))?;
            }
            Ok(())
        })?;
    } else {
        query::get::<_, anyhow::Error>(client, flt, opts, |doc| {
            Ok(output::human_host(&mut *out, &doc)?)
        })?;
    }
    Ok(())
}

/// `--csv-add-infos`: the country code and AS number of a record.
fn csv_infos(doc: &Value, na: &str) -> [String; 2] {
    let info = |key: &str| match doc.get("infos").and_then(|i| i.get(key)) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => na.to_string(),
    };
    [info("country_code"), info("as_num")]
}
