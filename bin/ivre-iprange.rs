//! `ivre-iprange`: the addresses of a network, a range, a file, a country, an AS...

use clap::Parser;
use ivre_cli::iprange::{run, IprangeArgs};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-iprange",
    version,
    about = "List the addresses of one selector: a network, a range, a file, a country, an AS, a region or a city",
    after_help = "Exactly one selector. Several values of one selector (--country FR,DE) are a \
union. --asnum, --country, --registered-country, --region and --city read the MaxMind databases \
(ASN, Country, City; IPv4 only, as IVRE); --routable is the IPv4 space less the IANA \
special-purpose blocks.

Output: the fewest networks covering the addresses (default), --ranges (first-last), --count, \
--addrs, or --json ({\"count\", \"ranges\", \"cidrs\"}).

Examples:
  ivre-iprange --network 192.168.0.0/23 --ranges
  ivre-iprange --range 10.0.0.0 10.0.0.255
  ivre-iprange --country FR --count
  ivre-iprange --asnum AS3215 --json
  ivre-iprange --file targets.txt --addrs --limit 10

Exit status: 0 success, 1 an error (missing databases, unreadable file), 2 a bad option."
)]
struct Cli {
    #[command(flatten)]
    args: IprangeArgs,
}

fn main() -> ExitCode {
    run(&ivre_cli::parse_args::<Cli>().args)
}
