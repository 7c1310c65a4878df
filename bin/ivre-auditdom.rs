//! `ivre-auditdom`: DNS audit of domains (zone transfers, name server
//! consistency, mail exchangers, TLS-RPT), as Nmap-like XML or IVRE JSON.

use clap::Parser;
use ivre_cli::auditdom::{run, AuditdomArgs};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-auditdom",
    version,
    about = "Audit DNS domains through their name servers; write the results as Nmap-like XML \
(scanner \"ivre auditdom\") or IVRE JSON, to import with ivre-scan2db",
    after_help = "Checks, for each DOMAIN: its name servers (NS records, from the resolver) and their \
addresses (A and AAAA, or only one with -4 / -6); then against each name server address:
  - a zone transfer (AXFR over TCP): when it succeeds, the server gets a dns-zone-transfer \
script on tcp/53 with every record, and each A / AAAA record of the zone gives a host record;
  - the NS, MX and _smtp._tls TXT answers, compared across the servers: a server that \
answers differently from most gets a dns-check-consistency script (udp/53);
  - dns-domains (udp/53): the server is authoritative for DOMAIN;
  - dns-tls-rpt (udp/53): the TLS-RPT record (RFC 8460) the server gives, with warnings;
and each mail exchanger address gets a dns-domains-mx script on tcp/25 (with its priority).
A server that refuses, fails or sends a malformed, cut-short or too large answer is reported \
on stderr (naming the domain and the server) and the audit goes on.

Examples:
  ivre-auditdom example.com > example.xml && ivre-scan2db -s MySource example.xml
  ivre-auditdom -j example.com example.org | ivre-scan2db -
  ivre-auditdom -4 --nameserver 192.0.2.53 example.com

Exit status: 0 success, 1 a domain could not be audited (no name server found), 2 a bad option."
)]
struct Cli {
    #[command(flatten)]
    args: AuditdomArgs,
}

fn main() -> ExitCode {
    run(&ivre_cli::parse_args::<Cli>().args)
}
