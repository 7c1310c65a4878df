//! `ivre-ipinfo`: query the passive purpose.

use clap::Parser;
use ivre_cli::ipinfo::{run, IpinfoArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-ipinfo",
    version,
    about = "Query the passive records imported by ivre-passiverecon2db, ivre-p0f2db and ivre-airodump2db",
    after_help = "Examples:\n  ivre-ipinfo 192.0.2.1\n  ivre-ipinfo --count --recontype DNS_ANSWER\n  ivre-ipinfo --top domains:com --limit 5\n  ivre-ipinfo --useragent /curl/ --json"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    args: IpinfoArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-ipinfo", || run(&cli.common, &cli.args))
}
