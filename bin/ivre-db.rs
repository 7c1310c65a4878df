//! `ivre-db`: manage the private PostgreSQL cluster of the tools, and
//! distribute a database on a Citus cluster.

use clap::{Parser, Subcommand};
use ivre_cli::db::{run, DbCommand};
use ivre_cli::CommonArgs;
use ivre_pg::distribute::{self, Placement};
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
                  ivre db stop\n  ivre db destroy --yes\n  \
                  ivre db --db 'host=coordinator dbname=ivre' distribute"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Cluster(DbCommand),
    /// Shard the database (--db) over its Citus cluster: host tables become
    /// distributed tables (a host and its ports, scripts, ... on one node),
    /// small shared ones reference tables; needs the citus extension on the
    /// coordinator and its worker nodes added; can be run again
    Distribute {
        /// Shards per table group created now (default: the server's
        /// citus.shard_count, 32)
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
        shard_count: Option<i32>,
    },
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-db", || match &cli.command {
        Command::Cluster(command) => run(&cli.common, command),
        Command::Distribute { shard_count } => {
            let mut client = cli.common.connect()?;
            let opts = distribute::Options {
                shard_count: *shard_count,
            };
            let report = distribute::distribute(&mut client, &opts)?;
            for line in &report.adapted {
                cli.common.summary(&format!("adapted {line}"));
            }
            for (table, placement) in &report.placed {
                let what = match placement {
                    Placement::Distributed { column, with } => format!(
                        "distributed by {column}{}",
                        with.map(|w| format!(", co-located with {w}"))
                            .unwrap_or_default()
                    ),
                    _ => "reference table".to_string(),
                };
                cli.common.summary(&format!("{table}: {what}"));
            }
            for table in &report.unplaced {
                log::warn!("{table}: no placement known, left on the coordinator");
            }
            cli.common.summary(&format!(
                "{} table(s) distributed now, {} already; {} worker node(s)",
                report.placed.len(),
                report.already.len(),
                report.workers
            ));
            Ok(ExitCode::SUCCESS)
        }
    })
}
