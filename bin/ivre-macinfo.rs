//! `ivre-macinfo`: MAC addresses seen by the passive purpose, and their vendors.

use clap::Parser;
use ivre_cli::macinfo::{run, MacinfoArgs};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-macinfo",
    version,
    about = "MAC addresses seen on the wire (ARP, Wi-Fi) with their IP addresses, and MAC vendors",
    after_help = "Lists the MAC_ADDRESS records of the passive purpose (Zeek ARP logs, airodump-ng) \
as: MAC SOURCE ADDR on SENSOR (RECONTYPE N times, firstseen - lastseen). Wi-Fi records \
without an address show their ESSID, channel or BSSID instead.

Vendors come from the IEEE registry files installed by Debian's ieee-data package \
(apt-get install ieee-data), in --oui-dir.

Examples:
  ivre-macinfo 192.168.1.0/24               # MACs seen for a network
  ivre-macinfo -r 00:11:22:33:44:55         # addresses of a MAC, with its vendor
  ivre-macinfo '/^80:fb:06/' '!10.0.0.1'    # a regex on MACs, minus one address
  ivre-macinfo -c -s TAP1                   # how many records from sensor TAP1
  ivre-macinfo --vendor f4:f5:d8:00:00:01   # vendor only, no database
  cut -f2 arp.tsv | ivre-macinfo --vendor --json

Exit status: 0 success, 1 an error (a MAC that cannot be read with --vendor), 2 a bad argument."
)]
struct Cli {
    #[command(flatten)]
    args: MacinfoArgs,
}

fn main() -> ExitCode {
    run(&ivre_cli::parse_args::<Cli>().args)
}
