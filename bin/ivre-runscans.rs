//! `ivre-runscans`: run Nmap over networks, ranges, files or random routable addresses.

use clap::Parser;
use ivre_cli::runscans::{run, RunscansArgs};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-runscans",
    version,
    about = "Run Nmap over targets (networks, ranges, files, random routable addresses), \
N processes at once, and store the results",
    after_help = "Each address is scanned by its own Nmap process (--processes at once) with \
IVRE's default template (SYN scan, OS detection, traceroute, default/discovery/auth scripts), \
or --nmap-args. Results go to --output-dir as ADDR.xml once Nmap is done; --import stores \
each with ivre-scan2db as soon as it completes.

Examples:
  ivre-runscans --routable --limit 1000 --output ListAll     # dry run: 1000 random addresses
  ivre-runscans --network 192.0.2.0/28 --output CommandLine  # dry run: the Nmap commands
  ivre-runscans --file targets.txt --processes 10 --import -c LAN -s scanner1
  ivre-runscans --range 127.0.0.1 127.0.0.3 --nmap-args '-sT -p 22,80 -n'

Exit status: 0 success, 1 a scan or import that failed, 2 a bad option or target."
)]
struct Cli {
    #[command(flatten)]
    args: RunscansArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    let common = ivre_cli::CommonArgs {
        db: None,
        verbose: 0,
        quiet: false,
    };
    common.init_logging();
    run(&cli.args)
}
