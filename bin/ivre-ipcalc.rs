//! `ivre-ipcalc`: conversions between addresses, ranges, networks and integers.

use clap::Parser;
use ivre_cli::ipcalc::{run, IpcalcArgs};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-ipcalc",
    version,
    about = "Convert between IP addresses, ranges, networks (CIDR) and integers",
    after_help = "Each request gives:
  ADDR/PREFIX      its first and last address: first-last
  A-B, or A - B    the fewest networks covering the range exactly, one per line
                   (A and B are addresses or integers)
  ADDR             its integer (IPv4 on 32 bits, IPv6 on 128)
  INTEGER          its address (IPv6 above 4294967295)

Examples:
  ivre-ipcalc 192.168.0.0/16             # 192.168.0.0-192.168.255.255
  ivre-ipcalc 10.0.0.0-10.255.255.255    # 10.0.0.0/8
  ivre-ipcalc :: - ::ff                  # ::/120
  ivre-ipcalc 8.8.8.8                    # 134744072
  cut -f1 ranges.tsv | ivre-ipcalc       # one request per line on stdin

Exit status: 0 success, 1 a bad line on stdin (named on stderr), 2 a bad argument."
)]
struct Cli {
    #[command(flatten)]
    args: IpcalcArgs,
}

fn main() -> ExitCode {
    run(&ivre_cli::parse_args::<Cli>().args)
}
