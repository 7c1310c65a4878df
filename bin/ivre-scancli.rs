//! `ivre-scancli`: query the scan results (the "nmap" purpose).

use clap::Parser;
use ivre_cli::CommonArgs;
use ivre_pg::scan::read;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-scancli",
    version,
    about = "Query the host records imported by ivre-scan2db",
    after_help = "Examples:\n  ivre-scancli --count\n  ivre-scancli --short\n  ivre-scancli --json > backup.ndjson"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Print the number of matching records.
    #[arg(long)]
    count: bool,
    /// Print the distinct addresses, one per line.
    #[arg(long)]
    short: bool,
    /// Print the records as JSON, one per line (what ivre-scan2db reads back).
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.common.init_logging();
    ivre_cli::run("ivre-scancli", || {
        let mut client = cli.common.connect()?;
        let mut out = BufWriter::new(std::io::stdout().lock());
        if cli.count {
            writeln!(out, "{}", read::count(&mut client)?)?;
        } else if cli.short {
            read::for_each_address(&mut client, |a| Ok(writeln!(out, "{a}")?))?;
        } else if cli.json {
            read::for_each_doc(&mut client, |doc| {
                serde_json::to_writer(&mut out, &doc)?;
                Ok(out.write_all(b"\n")?)
            })?;
        } else {
            read::for_each_address(&mut client, |a| Ok(writeln!(out, "{a}")?))?;
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
