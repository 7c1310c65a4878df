//! `ivre-p0f2db`: import p0f v3 logs into the passive purpose.

use clap::Parser;
use ivre_cli::passive::{run_import, PassiveImportArgs};
use ivre_cli::CommonArgs;
use ivre_model::passive::p0f::P0fReader;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-p0f2db",
    version,
    about = "Import p0f v3 logs into the passive purpose",
    after_help = "Examples:\n  p0f -r capture.pcap -o p0f.log && ivre-p0f2db -s sensor1 p0f.log\n  ivre-p0f2db -s sensor1 --follow /var/log/p0f.log"
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
    ivre_cli::run("ivre-p0f2db", || {
        run_import(&cli.common, &cli.import, |input, args, _| {
            P0fReader::new(input.reader).with_sensor(args.sensor.clone())
        })
    })
}
