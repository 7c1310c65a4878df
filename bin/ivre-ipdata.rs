//! `ivre-ipdata`: what is known about IP addresses (AS, country, city, tags),
//! from the MaxMind databases.

use clap::Parser;
use ivre_cli::ipdata::{run, IpdataArgs};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-ipdata",
    version,
    about = "Print what is known about IP addresses: AS, country, city, address tags",
    after_help = "Databases: GeoLite2/GeoIP2 ASN, Country and City .mmdb files, from --geoip-dir, \
else $IVRE_GEOIP_DIR, else /var/lib/GeoIP, /usr/share/GeoIP, /usr/local/share/GeoIP \
(where geoipupdate writes them).

Examples:
  ivre-ipdata 8.8.8.8 2001:4860:4860::8888
  ivre-ipdata --json 134744072            # integer form of 8.8.8.8
  ivre-ipdata --json < addresses.txt > infos.ndjson
  ivre-ipdata --json < addresses.txt.gz     # gzip, bzip2, xz, zstd: recognised
  cut -f1 hosts.tsv | ivre-ipdata --geoip-dir ~/GeoIP --json -"
)]
struct Cli {
    #[command(flatten)]
    args: IpdataArgs,
}

fn main() -> ExitCode {
    run(&ivre_cli::parse_args::<Cli>().args)
}
