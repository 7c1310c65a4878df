//! `ivre-airodump2db`: import airodump-ng CSV files into the passive purpose.

use clap::Parser;
use ivre_cli::passive::{run_import, PassiveImportArgs};
use ivre_cli::CommonArgs;
use ivre_model::passive::airodump::AirodumpReader;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-airodump2db",
    version,
    about = "Import airodump-ng CSV files into the passive purpose",
    after_help = "Examples:\n  airodump-ng -w dump --output-format csv wlan0mon && ivre-airodump2db -s sensor1 dump-01.csv"
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
    ivre_cli::run("ivre-airodump2db", || {
        run_import(&cli.common, &cli.import, |input, args, _| {
            AirodumpReader::new(input.reader).with_sensor(args.sensor.clone())
        })
    })
}
