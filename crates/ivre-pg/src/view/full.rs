//! The full build: every address rebuilt into shadow tables, which then
//! replace the view's tables in one transaction.
//!
//! Why shadow tables: a raw insert into the view tables is bound by their
//! indexes (trigram and jsonb GIN indexes above all) and by the foreign
//! keys' per-row checks. The shadow tables (same names, in the schema
//! [`SHADOW`]) have neither while they are filled; their constraints and
//! indexes are then built in bulk, from the definitions the catalog holds
//! for the live tables (a later migration's index comes along), and the
//! swap is a `DROP` of the live tables and a `SET SCHEMA` of the shadow
//! ones. Readers see the old view until the swap commits, then the new
//! one, never a part of it; a build that stops leaves the old view (and
//! shadow tables that the next full build drops).
//!
//! Why it can run in parallel (`--jobs N`): each job has its own connection
//! and transaction, reads a disjoint address range of the sources and
//! writes its hosts into the shadow tables; all read the snapshot of the
//! coordinating transaction (`SET TRANSACTION SNAPSHOT`), the one that
//! empties `view_pending` and later swaps the tables. A change committed
//! after that snapshot stays marked for the next build. The hosts do not
//! depend on the number of jobs: an address is in exactly one range, and
//! its records are merged the same way whichever job reads them.

use super::build::{read, Build, BuildKind, Connect, Knowledge, Report, Restrict};
use super::write::ViewWriter;
use crate::{Error, Result};
use postgres::{Client, IsolationLevel, Transaction};
use std::net::IpAddr;

/// The schema of the shadow tables.
pub const SHADOW: &str = "view_next";

/// The tables of a view record, parents first.
const TABLES: [&str; 9] = [
    "view_host",
    "view_port",
    "view_script",
    "view_hostname",
    "view_hop",
    "view_osmatch",
    "view_osclass",
    "view_cpe",
    "view_tag",
];

/// Runs a full build (the build lock is held by the caller).
pub(super) fn run(
    client: &mut Client,
    build: &Build,
    know: Knowledge,
    connect: &Connect,
) -> Result<Report> {
    let live = create_shadow(client)?;
    let report = fill_and_swap(client, build, know, connect, &live);
    if report.is_err() {
        // Best effort: the next full build drops them anyway.
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {SHADOW} CASCADE"));
    }
    report
}

/// Drops the shadow tables a stopped build left and creates them empty,
/// without constraints (but `NOT NULL`) nor indexes. Returns the schema of
/// the live tables.
fn create_shadow(client: &mut Client) -> Result<String> {
    let live: String = client
        .query_one(
            "SELECT relnamespace::regnamespace::text FROM pg_class \
             WHERE oid = 'view_host'::regclass",
            &[],
        )?
        .get(0);
    let mut sql = format!("DROP SCHEMA IF EXISTS {SHADOW} CASCADE; CREATE SCHEMA {SHADOW};");
    for t in TABLES {
        sql.push_str(&format!(
            "CREATE TABLE {SHADOW}.{t} (LIKE {live}.{t} INCLUDING DEFAULTS INCLUDING STORAGE \
             INCLUDING COMMENTS);"
        ));
    }
    client.batch_execute(&sql)?;
    // On Citus, sharded as the live ones, before the jobs fill them.
    crate::distribute::place_shadow_view(client, SHADOW)?;
    Ok(live)
}

fn fill_and_swap(
    client: &mut Client,
    build: &Build,
    know: Knowledge,
    connect: &Connect,
    live: &str,
) -> Result<Report> {
    let mut tx = client.transaction()?;
    // Citus: the swap below (schema commands) must follow the index builds
    // over the same connection per node.
    crate::distribute::sequential_if_citus(&mut tx)?;
    // The marks are removed before the snapshot is taken: a change that
    // commits in between is both built now and marked for the next build.
    tx.batch_execute("DELETE FROM view_pending")?;
    let snapshot: String = tx.query_one("SELECT pg_export_snapshot()", &[])?.get(0);
    if !snapshot.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(Error::InvalidRecord(format!(
            "unexpected snapshot id {snapshot:?}"
        )));
    }
    let started = std::time::Instant::now();
    let ranges = split(&mut tx, build.jobs.max(1))?;
    let results: Vec<Result<(u64, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|range| s.spawn(|| job(connect, &snapshot, build, know, *range)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::InvalidRecord("a db2view job panicked".into())))
            })
            .collect()
    });
    let (mut records, mut written) = (0, 0);
    for r in results {
        let (r, w) = r?;
        records += r;
        written += w;
    }
    log::debug!("shadow tables filled in {:.2?}", started.elapsed());
    // Index builds sort in memory up to this much (the default, 64 MB,
    // spills the GIN indexes of a large view to disk); this transaction
    // only.
    tx.batch_execute("SET LOCAL maintenance_work_mem = '256MB'")?;
    index_shadow(&mut tx, live)?;
    log::debug!("shadow tables indexed in {:.2?}", started.elapsed());
    // One statement at a time (Citus refuses several DDL commands in one).
    let mut swap = vec![format!("DROP TABLE {}", qualified(live))];
    for t in TABLES {
        swap.push(format!("ALTER TABLE {SHADOW}.{t} SET SCHEMA {live}"));
    }
    swap.push(format!("DROP SCHEMA {SHADOW}"));
    swap.push(format!("ANALYZE {}", qualified(live)));
    for statement in &swap {
        tx.batch_execute(statement)?;
    }
    log::debug!("tables swapped and analysed in {:.2?}", started.elapsed());
    tx.execute(
        "INSERT INTO view_build (kind, started_at, finished_at, records_read, hosts_written, \
         hosts_removed) VALUES ('full', now(), clock_timestamp(), $1, $2, 0)",
        &[&(records as i64), &(written as i64)],
    )?;
    tx.commit()?;
    Ok(Report {
        kind: BuildKind::Full,
        records_read: records,
        hosts_written: written,
        hosts_removed: 0,
    })
}

/// The view tables in `schema`, comma-separated.
fn qualified(schema: &str) -> String {
    TABLES
        .iter()
        .map(|t| format!("{schema}.{t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One job: the hosts of the addresses of `range`, read in the snapshot
/// `snapshot` and written into the shadow tables, in a transaction of its
/// own. Returns the records read and the hosts written.
fn job(
    connect: &Connect,
    snapshot: &str,
    build: &Build,
    know: Knowledge,
    range: AddrRange,
) -> Result<(u64, u64)> {
    let mut client = connect()?;
    // The shadow tables first: the view's COPY statements name them
    // unqualified.
    let path = current_schemas(&mut client)?;
    client.batch_execute(&format!("SET search_path = {SHADOW}, {path}"))?;
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .start()?;
    // The id was checked to be hex digits and dashes.
    tx.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'"))?;
    let mut writer = ViewWriter::new();
    let records = read(&mut tx, build, Restrict::Range(range), know, |tx, host| {
        writer.add(tx, &host)
    })?;
    let written = writer.finish(&mut tx)?;
    tx.commit()?;
    log::debug!("job {range:?}: {records} records, {written} hosts");
    Ok((records, written))
}

/// The schemas of the connection's search path, as a search path.
fn current_schemas(client: &mut Client) -> Result<String> {
    Ok(client
        .query_one(
            "SELECT coalesce(string_agg(quote_ident(s), ', '), 'public') \
             FROM unnest(current_schemas(false)) s",
            &[],
        )?
        .get(0))
}

/// A range of addresses: from (included) and to (excluded); `None`: no
/// bound.
pub(super) type AddrRange = (Option<IpAddr>, Option<IpAddr>);

/// `jobs` disjoint ranges that cover every address, with about as many
/// records each (boundaries from a sample of the sources' addresses).
fn split(tx: &mut Transaction, jobs: usize) -> Result<Vec<AddrRange>> {
    if jobs <= 1 {
        return Ok(vec![(None, None)]);
    }
    let fractions: Vec<f64> = (1..jobs).map(|i| i as f64 / jobs as f64).collect();
    // About 100 000 addresses sampled, whatever the size of the sources.
    let row = tx.query_one(
        "WITH n AS (SELECT greatest(sum(reltuples), 1) AS n FROM pg_class \
                    WHERE oid IN ('scan_host'::regclass, 'passive'::regclass)), \
              p AS (SELECT least(100, 100 * 100000 / n)::float4 AS p FROM n) \
         SELECT percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY addr) FROM ( \
             SELECT addr FROM scan_host TABLESAMPLE SYSTEM ((SELECT p FROM p)) \
             UNION ALL \
             SELECT addr FROM passive TABLESAMPLE SYSTEM ((SELECT p FROM p)) \
             WHERE addr IS NOT NULL) a",
        &[&fractions],
    )?;
    let bounds: Option<Vec<Option<IpAddr>>> = row.get(0);
    let mut bounds: Vec<IpAddr> = bounds.unwrap_or_default().into_iter().flatten().collect();
    bounds.dedup();
    let mut ranges = Vec::with_capacity(bounds.len() + 1);
    let mut from = None;
    for b in bounds {
        ranges.push((from, Some(b)));
        from = Some(b);
    }
    ranges.push((from, None));
    Ok(ranges)
}

/// Builds the constraints and indexes of the live tables on the filled
/// shadow tables (same names: they are in another schema), and copies the
/// live tables' privileges.
fn index_shadow(tx: &mut Transaction, live: &str) -> Result<()> {
    // One statement at a time: Citus refuses DDL on distributed tables
    // sent as several commands in one query string.
    let mut sql: Vec<String> = Vec::new();
    for t in TABLES {
        let table = format!("{live}.{t}");
        // Primary keys and unique constraints first (the foreign keys need
        // view_host's), foreign keys last. Printed with the live schema out
        // of the search path, references are schema-qualified.
        let constraints = tx.query(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = $1::text::regclass AND contype IN ('p', 'u', 'f') \
             ORDER BY contype = 'f', conname",
            &[&table],
        )?;
        for c in constraints {
            let name: String = c.get(0);
            let def: String = c.get(1);
            let def = def.replace(
                &format!("REFERENCES {live}.view_host("),
                &format!("REFERENCES {SHADOW}.view_host("),
            );
            let def = def.replace(
                "REFERENCES view_host(",
                &format!("REFERENCES {SHADOW}.view_host("),
            );
            sql.push(format!(
                "ALTER TABLE {SHADOW}.{t} ADD CONSTRAINT {} {def}",
                quote_ident(&name)
            ));
        }
        let indexes = tx.query(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i \
             WHERE i.indrelid = $1::text::regclass \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid \
                             AND c.conrelid = i.indrelid) \
             ORDER BY 1",
            &[&table],
        )?;
        for i in indexes {
            let def: String = i.get(0);
            sql.push(retarget_index(&def, t)?);
        }
        let comment: Option<String> = tx
            .query_one(
                "SELECT format('COMMENT ON TABLE %s.%I IS %L', $2::text, $3::text, \
                 obj_description($1::text::regclass, 'pg_class'))",
                &[&table, &SHADOW, &t],
            )?
            .get(0);
        if let Some(comment) = comment {
            sql.push(comment);
        }
        let grants = tx.query(
            "SELECT format('GRANT %s ON %s.%I TO %s', a.privilege_type, $2::text, $3::text, \
             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END) \
             FROM pg_class c, aclexplode(c.relacl) a \
             WHERE c.oid = $1::text::regclass AND a.grantee <> c.relowner",
            &[&table, &SHADOW, &t],
        )?;
        for g in grants {
            sql.push(g.get(0));
        }
    }
    for statement in &sql {
        tx.batch_execute(statement)?;
    }
    Ok(())
}

/// `CREATE [UNIQUE] INDEX name ON schema.table USING ...` on the shadow
/// table instead.
fn retarget_index(def: &str, table: &str) -> Result<String> {
    let on = def.find(" ON ");
    let using = def.find(" USING ");
    match (on, using) {
        (Some(on), Some(using)) if on < using => Ok(format!(
            "{} ON {SHADOW}.{table}{}",
            &def[..on],
            &def[using..]
        )),
        _ => Err(Error::InvalidRecord(format!(
            "unexpected index definition {def:?}"
        ))),
    }
}

/// An identifier quoted for SQL (catalog names of ours).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_moved_to_the_shadow_table() {
        assert_eq!(
            retarget_index(
                "CREATE INDEX view_host_addr ON public.view_host USING gist (addr inet_ops)",
                "view_host"
            )
            .unwrap(),
            "CREATE INDEX view_host_addr ON view_next.view_host USING gist (addr inet_ops)"
        );
        assert!(retarget_index("CREATE INDEX x", "view_host").is_err());
    }
}
