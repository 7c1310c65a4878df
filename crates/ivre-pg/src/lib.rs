//! PostgreSQL storage for IVRE: where the database is ([`config`]), the
//! embedded private cluster ([`cluster`]), the schema ([`migrate`]) and the
//! per-purpose stores.

pub mod cluster;
pub mod config;
pub mod copy;
pub mod error;
pub mod migrate;
pub mod passive;
pub mod query;
pub mod scan;
pub mod sql;

pub use config::{DbOrigin, DbTarget};
pub use error::{Error, ErrorClass, Result};

use anyhow::anyhow;
use postgres::{Client, NoTls};

/// Connects to the database chosen by `--db` / the environment, starting the
/// embedded cluster when that is the choice, and applies pending migrations.
pub fn connect(db_flag: Option<&str>) -> anyhow::Result<Client> {
    let target = DbTarget::resolve(db_flag)?;
    connect_to(&target)
}

/// Connects to a resolved target (see [`connect`]).
pub fn connect_to(target: &DbTarget) -> anyhow::Result<Client> {
    if let DbOrigin::Embedded(dir) = &target.origin {
        let cluster = cluster::LocalCluster::new(dir)?;
        if let Some(done) = cluster.ensure_running()? {
            eprintln!(
                "ivre: local PostgreSQL cluster {done} in {}",
                cluster.dir.display()
            );
        }
    }
    let mut client = target.config.connect(NoTls).map_err(|e| {
        // One line: the cause chain of a connection error spans several.
        let cause = std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_default();
        anyhow!(
            "cannot connect to PostgreSQL at {}: {e}{}",
            target.describe(),
            if cause.is_empty() || e.to_string().contains(&cause) {
                String::new()
            } else {
                format!(": {cause}")
            }
        )
    })?;
    migrate::migrate(&mut client)?;
    Ok(client)
}
