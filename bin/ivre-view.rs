//! `ivre-view`: query the view, one record per address (built by ivre-db2view).

use clap::Parser;
use ivre_cli::view::{run, ViewArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-view",
    version,
    about = "Query the view: one record per address, the merge of its scan results and passive \
             observations (built by ivre-db2view). Takes every ivre-scancli filter and output.",
    after_help = "Examples:\n  ivre-view --count\n  ivre-view --country FR --port 443 --short\n  ivre-view --top country\n  ivre-view --asnum AS3215 --json\n  ivre-view --tag Honeypot --top tag.info"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    args: ViewArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-view", || run(&cli.common, &cli.args))
}
