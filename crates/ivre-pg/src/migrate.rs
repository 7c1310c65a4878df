//! Schema migrations: the numbered files of `sql/` (found by `build.rs`),
//! embedded in every binary, applied in order, each in the transaction that
//! records it in `ivre_schema_migrations`. An advisory lock makes concurrent
//! tools wait for each other instead of applying a migration twice.

use crate::{with_causes, Error, Result};
use postgres::{Client, Transaction};

/// One numbered migration.
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration this build knows, in order: the files `sql/NNNN_*.sql`.
pub const MIGRATIONS: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Arbitrary, fixed key of the advisory lock taken while migrating ("IVRE" in ASCII).
const MIGRATION_LOCK: i64 = 0x4956_5245;

/// The table that records applied migrations (created before the first one).
const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS ivre_schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now());
     COMMENT ON TABLE ivre_schema_migrations IS
         'Schema migrations applied to this database (files sql/NNNN_*.sql of ivre), one row each';
     COMMENT ON COLUMN ivre_schema_migrations.version IS 'Migration number (NNNN)';
     COMMENT ON COLUMN ivre_schema_migrations.name IS 'Migration file name without .sql';
     COMMENT ON COLUMN ivre_schema_migrations.applied_at IS 'When it was applied'";

/// The newest version this build knows.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the database to the latest schema; refuses a database that is
/// newer than this build. Cheap when nothing is pending (one query).
pub fn migrate(client: &mut Client) -> Result<()> {
    if current_state(client)? == Some((latest_version(), MIGRATIONS.len() as i64)) {
        return Ok(());
    }
    migrate_up_to(client, latest_version())
}

/// Applies the pending migrations numbered up to `last` (the schema an
/// older build made: upgrade tests start from it).
pub fn migrate_up_to(client: &mut Client, last: i32) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(MIGRATIONS_TABLE)?;
    let applied: Vec<i32> = tx
        .query("SELECT version FROM ivre_schema_migrations", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    check_not_newer(applied.iter().copied().max().unwrap_or(0))?;
    // By set, not by maximum: branches may land migrations out of order.
    let pending = MIGRATIONS
        .iter()
        .filter(|m| m.version <= last && !applied.contains(&m.version));
    for m in pending {
        apply(&mut tx, m)?;
        tx.execute(
            "INSERT INTO ivre_schema_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )?;
        log::info!("applied migration {}", m.name);
    }
    tx.commit()?;
    Ok(())
}

/// Creates the whole schema of this build, records table included, in the
/// first schema of the transaction's `search_path`, recording nothing (for
/// describing the schema: see [`crate::schema_doc`]).
pub(crate) fn create_all(tx: &mut Transaction) -> Result<()> {
    tx.batch_execute(MIGRATIONS_TABLE)?;
    MIGRATIONS.iter().try_for_each(|m| apply(tx, m))
}

fn apply(tx: &mut Transaction, m: &Migration) -> Result<()> {
    tx.batch_execute(m.sql)
        .map_err(|e| Error::Setup(format!("migration {} failed: {}", m.name, with_causes(&e))))
}

/// `(highest version, number of migrations)` applied, if any.
fn current_state(client: &mut Client) -> Result<Option<(i32, i64)>> {
    let row = client.query_one(
        "SELECT to_regclass('ivre_schema_migrations') IS NOT NULL",
        &[],
    )?;
    if !row.get::<_, bool>(0) {
        return Ok(None);
    }
    let row = client.query_one(
        "SELECT coalesce(max(version), 0), count(*) FROM ivre_schema_migrations",
        &[],
    )?;
    let (version, count): (i32, i64) = (row.get(0), row.get(1));
    check_not_newer(version)?;
    Ok(Some((version, count)))
}

fn check_not_newer(version: i32) -> Result<()> {
    if version > latest_version() {
        return Err(Error::Setup(format!(
            "the database schema is at version {version}, newer than this ivre knows \
             ({}): upgrade ivre, or use another database",
            latest_version()
        )));
    }
    Ok(())
}
