//! `ivre-db`: manage the private PostgreSQL cluster of the tools.

use clap::Parser;
use ivre_cli::db::{run, DbCommand};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-db",
    version,
    about = "Manage the private PostgreSQL cluster the tools create on first use \
             (when --db, IVRE_DB and the PG* variables name no other server)",
    after_help = "The cluster keeps running after the tools exit, listening on a unix socket \
                  only; it belongs to the user who created it (root: to the `postgres` account).\n\n\
                  Examples:\n  ivre db status\n  ivre db psql -c 'SELECT count(*) FROM scan_host'\n  \
                  ivre db stop\n  ivre db destroy --yes"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: DbCommand,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-db", || run(&cli.common, &cli.command))
}
