//! `ivre-scancli`: query the scan results (the "nmap" purpose).

use clap::Parser;
use ivre_cli::scancli::{run, ScancliArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-scancli",
    version,
    about = "Query the host records imported by ivre-scan2db",
    after_help = "Examples:\n  ivre-scancli --count --port 80\n  ivre-scancli --top service --limit 5\n  ivre-scancli --service http --domain example.com --json\n  ivre-scancli --script 'http-title:/admin/i' --short"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    args: ScancliArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-scancli", || run(&cli.common, &cli.args))
}
