//! `ivre-zeek2db`: import Zeek logs (conn.log and protocol logs) into the flow purpose.

use clap::Parser;
use ivre_cli::flow2db::{run_zeek2db, FlowImportArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-zeek2db",
    version,
    about = "Import Zeek logs (conn.log, and dns, http, ssl, ssh, sip, snmp, modbus, rdp, arp logs as flow metadata; TSV or JSON) into the flow purpose",
    after_help = "Lines of other logs (files, weird, x509, ...) are skipped. After the import, flows recorded in the wrong direction are turned back (unless -C).\n\nExamples:\n  zeek -C -r capture.pcap && ivre-zeek2db *.log\n  ivre-zeek2db -r /var/log/zeek/2024-01-01/\n  zcat conn.log.gz | ivre-zeek2db"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    import: FlowImportArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-zeek2db", || run_zeek2db(&cli.common, &cli.import))
}
