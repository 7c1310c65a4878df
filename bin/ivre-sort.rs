//! `ivre-sort`: sort lines by IP address.

use clap::Parser;
use ivre_cli::sort::{run, SortArgs};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-sort",
    version,
    about = "Sort lines by the IP address they hold, numerically (10.0.0.9 before 10.0.0.10)",
    after_help = "The key of a line is its first word (or field N of -k, split on -t): an \
address, or a network or range sorted as its first address. IPv4 comes before IPv6; lines \
whose key is no address come last, in text order. Equal keys keep text order.

Examples:
  ivre-sort hosts.txt
  ivre-scancli --distinct addr | ivre-sort -u
  ivre-sort -t , -k 2 -r results.csv.gz

Exit status: 0 success, 1 a file that cannot be read, 2 a bad option."
)]
struct Cli {
    #[command(flatten)]
    args: SortArgs,
}

fn main() -> ExitCode {
    run(&ivre_cli::parse_args::<Cli>().args)
}
