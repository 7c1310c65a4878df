//! `ivre-scan2db`: import scan results into the "nmap" purpose.

use clap::Parser;
use ivre_cli::scan::{run_scan2db, Scan2dbArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-scan2db",
    version,
    about = "Import Nmap / Masscan scan results and IVRE JSON into the database",
    after_help = "Examples:\n  nmap -oX - 192.0.2.0/24 | ivre-scan2db -c LAN -s scanner1\n  \
                  ivre-scan2db -r --port -c ROUTABLE -s masscan1 scans/\n  \
                  ivre-scancli --json | ivre-scan2db --force --db postgresql:///other"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    scan2db: Scan2dbArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-scan2db", || run_scan2db(&cli.common, &cli.scan2db))
}
