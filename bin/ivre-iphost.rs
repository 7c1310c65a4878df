//! `ivre-iphost`: passive DNS — names seen for an address, addresses seen for a name.

use clap::Parser;
use ivre_cli::iphost::{run, IphostArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-iphost",
    version,
    about = "Passive DNS: names seen for an address, addresses seen for a name",
    after_help = "Examples:\n  ivre-iphost www.example.com\n  ivre-iphost 192.0.2.1 192.0.2.0/24\n  ivre-iphost --sub example.com\n  ivre-iphost --reverse --type CNAME cdn.example.net\n  ivre-iphost --cof /^mail\\./\n  ivre-iphost --count --sub example.com\n\nExit status: 0 on success, also when a VALUE has no record (a line on stderr says\n\"no record found\"); 1 on error; 2 on a usage error (e.g. an invalid VALUE)."
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    args: IphostArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-iphost", || run(&cli.common, &cli.args))
}
