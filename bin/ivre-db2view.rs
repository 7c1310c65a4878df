//! `ivre-db2view`: build the view from the scan results and passive observations.

use clap::Parser;
use ivre_cli::db2view::{run, Db2viewArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-db2view",
    version,
    // `ivre-db2view 10.0.0.0/8 nmap`: the addresses stop at the subcommand.
    subcommand_precedence_over_arg = true,
    about = "Build the view: one record per address, merging its scan results and passive \
             observations, enriched with MaxMind data and automatic tags",
    long_about = "Build the view: one record per address, merging its scan results and passive \
                  observations, enriched with MaxMind data (when the .mmdb files are found) and \
                  automatic tags.\n\nWithout a purpose or filter, the build is incremental: the \
                  importers record the addresses whose records changed, and only those are rebuilt, \
                  from all their records (an address with no record left leaves the view); the \
                  first build, and --full, rebuild everything. Safe to run from cron: a second run \
                  while one is going exits at once, and a run with nothing to do prints one line.\n\n\
                  With a purpose (nmap, passive) or filters, the chosen records are merged into the \
                  view records of their addresses, as IVRE's db2view does.",
    after_help = "Examples:\n  ivre-db2view                       # incremental (cron)\n  ivre-db2view --full\n  ivre-db2view --test nmap --source scan-2024 | head\n  ivre-db2view --view-category PASSIVE passive --sensor TAP1"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    args: Db2viewArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-db2view", || run(&cli.common, &cli.args))
}
