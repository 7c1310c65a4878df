//! `ivre-rirlookup`: whois data of the RIRs (RPSL dumps) in PostgreSQL.

use clap::Parser;
use ivre_cli::rirlookup::{run, RirlookupArgs};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-rirlookup",
    version,
    about = "Import the RIRs' whois dumps (RPSL) and find the registered range of addresses",
    after_help = "Dumps: the RPSL bulk files of RIPE (ripe.db.inetnum.gz, ripe.db.inet6num.gz, \
ripe.db.aut-num.gz), APNIC, AFRINIC and LACNIC; inetnum, inet6num and aut-num objects are kept, \
with every attribute. A dump whose content was imported before is skipped.

Each address gives the narrowest range holding it, printed in full (`key: value`), with \
--short (`network: netname - country`) or --json. Without addresses, --search, --country, \
--source-file and --kind select records to list, --count or --distinct.

Examples:
  ivre-rirlookup --insert ripe.db.inetnum.gz ripe.db.inet6num.gz
  ivre-rirlookup 193.0.6.139 2001:67c:2e8::1
  ivre-rirlookup --short 8.8.8.8
  ivre-rirlookup --search 'ripe ncc' --country NL --json
  ivre-rirlookup --distinct country

Exit status: 0 success, 1 an error (a dump that could not be imported), 2 a bad option."
)]
struct Cli {
    #[command(flatten)]
    args: RirlookupArgs,
}

fn main() -> ExitCode {
    run(&ivre_cli::parse_args::<Cli>().args)
}
