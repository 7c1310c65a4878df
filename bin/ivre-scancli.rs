//! `ivre-scancli`: query the scan results (the "nmap" purpose).

use clap::Parser;
use ivre_cli::scanfilter::{parse_top, ScanFilterArgs};
use ivre_cli::CommonArgs;
use ivre_model::scan::output;
use ivre_pg::query::QueryOpts;
use ivre_pg::scan::query;
use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-scancli",
    about = "Query the host records imported by ivre-scan2db",
    after_help = "Examples:\n  ivre-scancli --count --port 80\n  ivre-scancli --top service --limit 5\n  ivre-scancli --service http --domain example.com --json\n  ivre-scancli --script 'http-title:/admin/i' --short"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    filter: ScanFilterArgs,
    /// Print the number of matching records.
    #[arg(long, help_heading = "Output")]
    count: bool,
    /// Print the distinct addresses, one per line.
    #[arg(long, help_heading = "Output")]
    short: bool,
    /// Print the records as JSON, one per line (what ivre-scan2db reads back).
    #[arg(long, help_heading = "Output")]
    json: bool,
    /// Drop the screenshot fields from --json output.
    #[arg(long = "no-screenshots", help_heading = "Output")]
    no_screenshots: bool,
    /// Print the distinct values of a field (dotted path: ports.port, hostnames.name, ...).
    #[arg(long, value_name = "FIELD", help_heading = "Output")]
    distinct: Option<String>,
    /// Print the most common values of a field (~FIELD: the least common).
    #[arg(
        long,
        value_name = "FIELD",
        allow_hyphen_values = true,
        help_heading = "Output"
    )]
    top: Option<String>,
    /// Sort the records by these fields (~FIELD: descending).
    #[arg(long, value_name = "FIELD", help_heading = "Output")]
    sort: Vec<String>,
    /// Skip this many records.
    #[arg(long, default_value_t = 0, help_heading = "Output")]
    skip: u64,
    /// At most this many records (for --top: values, default 10; 0: no limit).
    #[arg(long, help_heading = "Output")]
    limit: Option<u64>,
    /// Print Nmap XML.
    #[arg(long = "nmap-xml", help_heading = "Output")]
    nmap_xml: bool,
    /// Print Nmap's grepable format.
    #[arg(long, help_heading = "Output")]
    gnmap: bool,
    /// Print the URLs of the HTTP(S) services.
    #[arg(long = "http-urls", help_heading = "Output")]
    http_urls: bool,
    /// With --http-urls: use the host names instead of the addresses.
    #[arg(long = "http-urls-names", help_heading = "Output")]
    http_urls_names: bool,
    /// With --http-urls: print "addr, URL".
    #[arg(long = "http-urls-full", help_heading = "Output")]
    http_urls_full: bool,
    /// Print CSV: ports (addr, port, state) or hops (addr, hop, ttl, rtt).
    #[arg(long, value_name = "ports|hops", value_parser = ["ports", "hops"], help_heading = "Output")]
    csv: Option<String>,
    /// CSV field separator.
    #[arg(long = "csv-separator", default_value = ",", help_heading = "Output")]
    csv_separator: String,
    /// CSV text for missing values.
    #[arg(long = "csv-na-str", default_value = "NA", help_heading = "Output")]
    csv_na_str: String,
    /// Print the query plan of the filter.
    #[arg(long, help_heading = "Output")]
    explain: bool,
    /// Delete the matching records (one transaction; asks on a terminal).
    #[arg(long, help_heading = "Actions")]
    delete: bool,
    /// Remove every scan record and import (asks on a terminal).
    #[arg(long, alias = "purgedb", help_heading = "Actions")]
    init: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y', help_heading = "Actions")]
    yes: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.common.init_logging();
    ivre_cli::run("ivre-scancli", || {
        let flt = cli.filter.to_filter()?;
        let mut client = cli.common.connect()?;
        let mut out = BufWriter::new(std::io::stdout().lock());
        if cli.init {
            if cli.yes || ivre_cli::confirm("This will remove every scan record. Continue?")? {
                query::purge(&mut client)?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(top) = &cli.top {
            let (field, least) = parse_top(top);
            let limit = cli.limit.unwrap_or(10);
            query::for_each_topvalue::<anyhow::Error>(
                &mut client,
                &flt,
                &field,
                limit,
                least,
                |v| {
                    Ok(writeln!(
                        out,
                        "{}: {}",
                        output::top_value_text(&v.value),
                        v.count
                    )?)
                },
            )?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        if cli.short {
            query::addresses::<anyhow::Error>(&mut client, &flt, |a| Ok(writeln!(out, "{a}")?))?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(field) = &cli.distinct {
            query::distinct::<anyhow::Error>(&mut client, &flt, field, |v| {
                Ok(writeln!(out, "{}", output::top_value_text(&v))?)
            })?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        if cli.explain {
            writeln!(out, "{}", query::explain(&mut client, &flt)?)?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        if cli.delete {
            let n = query::count(&mut client, &flt)?;
            if cli.yes || ivre_cli::confirm(&format!("This will delete {n} record(s). Continue?"))?
            {
                let n = query::delete(&mut client, &flt)?;
                log::info!("{n} record(s) deleted");
            }
            return Ok(ExitCode::SUCCESS);
        }
        if cli.count {
            writeln!(out, "{}", query::count(&mut client, &flt)?)?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        let opts = QueryOpts {
            sort: QueryOpts::parse_sort(&cli.sort),
            skip: cli.skip,
            limit: cli.limit.unwrap_or(0),
        };
        let tty = std::io::stdout().is_terminal();
        if cli.json && tty {
            // Indented for people, as IVRE does on a terminal.
            query::get::<anyhow::Error>(&mut client, &flt, &opts, |mut doc| {
                if cli.no_screenshots {
                    output::strip_screenshots(&mut doc);
                }
                serde_json::to_writer_pretty(&mut out, &doc)?;
                Ok(out.write_all(b"\n")?)
            })?;
        } else if cli.json && !cli.no_screenshots {
            // Fast path: the server's text, never parsed here.
            query::get_text::<anyhow::Error>(&mut client, &flt, &opts, |doc| {
                out.write_all(doc.as_bytes())?;
                Ok(out.write_all(b"\n")?)
            })?;
        } else if cli.json {
            query::get::<anyhow::Error>(&mut client, &flt, &opts, |mut doc| {
                output::strip_screenshots(&mut doc);
                serde_json::to_writer(&mut out, &doc)?;
                Ok(out.write_all(b"\n")?)
            })?;
        } else if cli.nmap_xml {
            output::nmap_xml_header(&mut out, "ivre-scancli --nmap-xml")?;
            let mut n = 0;
            query::get::<anyhow::Error>(&mut client, &flt, &opts, |doc| {
                n += 1;
                Ok(output::nmap_xml_host(&mut out, &doc)?)
            })?;
            output::nmap_xml_footer(&mut out, n)?;
        } else if cli.gnmap {
            query::get::<anyhow::Error>(&mut client, &flt, &opts, |doc| {
                Ok(output::gnmap_host(&mut out, &doc)?)
            })?;
        } else if cli.http_urls {
            query::get::<anyhow::Error>(&mut client, &flt, &opts, |doc| {
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
            query::get::<anyhow::Error>(&mut client, &flt, &opts, |doc| {
                for row in output::csv_rows(&doc, kind, &cli.csv_na_str) {
                    let row: Vec<String> = row.iter().map(|f| output::csv_field(f, sep)).collect();
                    writeln!(out, "{}", row.join(sep))?;
                }
                Ok(())
            })?;
        } else {
            query::get::<anyhow::Error>(&mut client, &flt, &opts, |doc| {
                Ok(output::human_host(&mut out, &doc)?)
            })?;
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
