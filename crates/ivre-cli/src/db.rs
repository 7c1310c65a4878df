//! `ivre-db`: the private PostgreSQL cluster the tools create on first use
//! when no other database is configured: where it is, whether it runs, and
//! how to start, stop, open or remove it.

use crate::{CommonArgs, UsageError};
use clap::Subcommand;
use ivre_pg::cluster::{LocalCluster, CLUSTER_USER};
use ivre_pg::config::embedded_dir;
use ivre_pg::{DbOrigin, DbTarget};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

/// What `ivre-db` does.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Where the private cluster lives, its size, whether it runs, and the
    /// connection string to give psql
    Status,
    /// Start the private cluster (creating it if it does not exist yet)
    Start,
    /// Stop the private cluster cleanly (the next tool that needs it starts it again)
    Stop,
    /// Open psql on the database the tools use (the private cluster, started
    /// if need be, unless --db, IVRE_DB or PGHOST name another)
    Psql {
        /// Arguments passed on to psql (e.g. -c 'SELECT count(*) FROM scan_host')
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "PSQL_ARGS"
        )]
        args: Vec<OsString>,
    },
    /// Stop the private cluster and delete it, with every record it holds
    Destroy {
        /// Do not ask for confirmation (required when stdin is not a terminal)
        #[arg(long)]
        yes: bool,
    },
}

/// Runs `ivre-db`.
pub fn run(common: &CommonArgs, command: &DbCommand) -> anyhow::Result<ExitCode> {
    let cluster = LocalCluster::new(embedded_dir())?;
    match command {
        DbCommand::Status => status(common, &cluster),
        DbCommand::Start => {
            match cluster.ensure_running()? {
                Some(done) => common.summary(&format!(
                    "private cluster {done} in {} (`ivre db stop` stops it)",
                    cluster.dir.display()
                )),
                None => common.summary(&format!(
                    "private cluster already running in {}",
                    cluster.dir.display()
                )),
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Stop => {
            if !cluster.is_initialized() {
                common.summary(&format!("no private cluster in {}", cluster.dir.display()));
            } else if !cluster.is_running() {
                common.summary(&format!(
                    "private cluster in {} is not running",
                    cluster.dir.display()
                ));
            } else {
                cluster.shutdown()?;
                common.summary(&format!(
                    "private cluster in {} stopped",
                    cluster.dir.display()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Psql { args } => psql(common, &cluster, args),
        DbCommand::Destroy { yes } => destroy(common, &cluster, *yes),
    }
}

fn status(common: &CommonArgs, cluster: &LocalCluster) -> anyhow::Result<ExitCode> {
    println!("cluster:   {}", cluster.dir.display());
    if !cluster.is_initialized() {
        println!("state:     not created (the first tool that needs a database creates it, or `ivre db start`)");
    } else {
        let size = human_bytes(cluster.disk_usage());
        match cluster.server_pid() {
            Some(pid) => println!("state:     running (pid {pid}), {size}"),
            None => {
                println!("state:     stopped, {size} (`ivre db start`, or any tool, starts it)")
            }
        }
        println!(
            "psql:      psql \"{}\"   (or `ivre db psql`)",
            cluster.connection_string(CLUSTER_USER)
        );
    }
    let target = DbTarget::resolve(common.db.as_deref())?;
    let source = match target.origin {
        DbOrigin::Embedded(_) => None,
        DbOrigin::Flag => Some("--db"),
        DbOrigin::IvreDbVar => Some("IVRE_DB"),
        DbOrigin::LibpqEnv => Some("the PG* environment variables"),
    };
    match source {
        None => println!("tools use: this cluster"),
        Some(source) => println!(
            "tools use: {} (from {source}), not this cluster",
            target.describe()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Replaces this process with psql on the database the tools use.
fn psql(
    common: &CommonArgs,
    cluster: &LocalCluster,
    args: &[OsString],
) -> anyhow::Result<ExitCode> {
    let mut cmd = Command::new(cluster.psql_program());
    // The connection as the tools get it: the same string, or libpq's own
    // environment, which psql reads itself.
    let ivre_db = std::env::var("IVRE_DB").ok().filter(|v| !v.is_empty());
    match DbTarget::resolve(common.db.as_deref())?.origin {
        DbOrigin::Embedded(_) => {
            if let Some(done) = cluster.ensure_running()? {
                common.summary(&format!(
                    "private cluster {done} in {} (`ivre db stop` stops it)",
                    cluster.dir.display()
                ));
            }
            cmd.arg("-d").arg(cluster.connection_string(CLUSTER_USER));
        }
        DbOrigin::Flag => {
            cmd.arg("-d").arg(common.db.as_deref().unwrap_or_default());
        }
        DbOrigin::IvreDbVar => {
            cmd.arg("-d").arg(ivre_db.unwrap_or_default());
        }
        DbOrigin::LibpqEnv => {}
    }
    let err = cmd.args(args).exec();
    Err(anyhow::anyhow!(
        "cannot run {}: {err}",
        cluster.psql_program().display()
    ))
}

fn destroy(common: &CommonArgs, cluster: &LocalCluster, yes: bool) -> anyhow::Result<ExitCode> {
    use std::io::{IsTerminal, Write};
    if !cluster.dir.exists() {
        common.summary(&format!("no private cluster in {}", cluster.dir.display()));
        return Ok(ExitCode::SUCCESS);
    }
    let what = format!(
        "the private cluster in {} ({}) and every record it holds",
        cluster.dir.display(),
        human_bytes(cluster.disk_usage())
    );
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(UsageError(format!(
                "destroy deletes {what}: confirm with --yes (stdin is not a terminal to ask on)"
            ))
            .into());
        }
        eprint!("Delete {what}? [y/N] ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            common.summary("nothing deleted");
            return Ok(ExitCode::from(1));
        }
    }
    cluster.destroy()?;
    common.summary(&format!("deleted {what}"));
    Ok(ExitCode::SUCCESS)
}

/// `47.1 MiB`: one decimal, binary units (as `du -h`).
pub fn human_bytes(bytes: u64) -> String {
    let mut value = bytes as f64;
    for unit in ["B", "KiB", "MiB", "GiB"] {
        if value < 1024.0 {
            return if unit == "B" {
                format!("{bytes} B")
            } else {
                format!("{value:.1} {unit}")
            };
        }
        value /= 1024.0;
    }
    format!("{value:.1} TiB")
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_as_du_prints_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(40 * 1024 * 1024 + 100 * 1024), "40.1 MiB");
        assert_eq!(human_bytes(3 << 40), "3.0 TiB");
    }
}
