//! `ivre-flow2db`: import NetFlow (nfdump), Argus and iptables flows into the flow purpose.

use clap::Parser;
use ivre_cli::flow2db::{run_flow2db, Flow2dbArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-flow2db",
    version,
    about = "Import NetFlow captures (nfcapd files, through nfdump), Argus captures (through racluster), their text output, or iptables LOG lines into the flow purpose",
    after_help = "The type is found from the content (nfcapd, Argus, nfdump CSV, ra / racluster CSV, iptables LOG lines; -t forces it). nfdump and racluster must be on PATH for captures (Debian packages nfdump and argus-client). After the import, flows recorded in the wrong direction are turned back (unless -C).\n\nExamples:\n  ivre-flow2db /var/cache/nfdump/nfcapd.202401010000\n  ivre-flow2db -f 'port 53' capture.argus\n  nfdump -R /var/cache/nfdump -o csv | ivre-flow2db -t netflow\n  ivre-flow2db -t iptables --year 2024 /var/log/kern.log"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    args: Flow2dbArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-flow2db", || run_flow2db(&cli.common, &cli.args))
}
