//! `ivre-passiverecon2db`: import Zeek passive_recon logs (TSV or JSON) into the passive purpose.

use clap::Parser;
use ivre_cli::passive::{run_import_with, zeek_infos, zeek_records, PassiveImportArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-passiverecon2db",
    version,
    about = "Import Zeek passive_recon logs (TSV or JSON) into the passive purpose",
    after_help = "Examples:\n  zeek -C -r capture.pcap ivre/passiverecon && ivre-passiverecon2db -s sensor1 passive_recon.log\n  zeek -i eth0 ivre/passiverecon … | ivre-passiverecon2db --follow -s sensor1"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    import: PassiveImportArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-passiverecon2db", || {
        run_import_with(&cli.common, &cli.import, zeek_records, zeek_infos)
    })
}
