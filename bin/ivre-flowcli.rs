//! `ivre-flowcli`: query the flow purpose.

use clap::Parser;
use ivre_cli::flowcli::{run, FlowcliArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-flowcli",
    version,
    about = "Query the flows imported by ivre-zeek2db and ivre-flow2db",
    after_help = "Filters (-f / -n, each string ANDed; OR / || inside a string):\n  \
        FIELD, !FIELD            the field exists / does not\n  \
        FIELD OP VALUE           OP: = : == != < <= > >= =~ (regex; CIDR on addresses)\n  \
        ANY|ALL|NONE LIST OP V   on lists (sports, codes, times, meta.<log>.<key>)\n  \
        LEN LIST OP N            list length\n  \
        addr = IP                src.addr or dst.addr\n\
        Fields: ivre-flowcli --fields\n\n\
        Examples:\n  \
        ivre-flowcli --count -f 'dport = 80'\n  \
        ivre-flowcli --host 10.0.0.0/8 --tcp\n  \
        ivre-flowcli --top src.addr dst.addr --sum csbytes scbytes --limit 5\n  \
        ivre-flowcli -f 'ALL sports > 50000' --json\n  \
        ivre-flowcli --flow-daily --precision 3600"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    args: FlowcliArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-flowcli", || run(&cli.common, &cli.args))
}
