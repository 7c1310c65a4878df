//! PostgreSQL storage for IVRE: where the database is ([`config`]), the
//! embedded private cluster ([`cluster`]), the schema ([`migrate`]) and the
//! per-purpose stores.

pub mod cluster;
pub mod config;
pub mod copy;
pub mod distribute;
pub mod error;
pub mod flow;
pub mod migrate;
pub mod moduli;
pub mod passive;
pub mod provenance;
pub mod query;
pub mod rir;
pub mod scan;
pub mod schema_doc;
pub mod sql;
pub mod view;
pub mod web;

pub use config::{DbOrigin, DbTarget};
pub use error::{Error, ErrorClass, Result};

use postgres::{Client, NoTls};

/// Connects to the database chosen by `--db` / the environment, starting the
/// embedded cluster when that is the choice, and applies pending migrations.
pub fn connect(db_flag: Option<&str>) -> Result<Client> {
    let target = DbTarget::resolve(db_flag)?;
    connect_to(&target)
}

/// Connects to a resolved target (see [`connect`]).
pub fn connect_to(target: &DbTarget) -> Result<Client> {
    let mut client = connect_without_migrating(target)?;
    migrate::migrate(&mut client)?;
    Ok(client)
}

/// Connects to a resolved target, starting the embedded cluster when that is
/// the target, and leaves the schema alone.
pub fn connect_without_migrating(target: &DbTarget) -> Result<Client> {
    if let DbOrigin::Embedded(dir) = &target.origin {
        let cluster = cluster::LocalCluster::new(dir)?;
        if let Some(done) = cluster.ensure_running()? {
            eprintln!(
                "ivre: private PostgreSQL cluster {done} in {} (it keeps running: `ivre db stop` stops it, `ivre db status` tells more)",
                cluster.dir.display()
            );
        }
    }
    target.config.connect(NoTls).map_err(|e| {
        // One line: the cause chain of a connection error spans several.
        let cause = std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_default();
        Error::Connect {
            target: target.describe(),
            reason: if cause.is_empty() || e.to_string().contains(&cause) {
                e.to_string()
            } else {
                format!("{e}: {cause}")
            },
        }
    })
}

/// `error: cause: cause ...`, as the tools print an error chain, for
/// messages of [`Error::Setup`] that wrap a foreign error.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
