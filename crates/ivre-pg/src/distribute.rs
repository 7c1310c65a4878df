//! Scale-out on Citus: `ivre db distribute` turns the tables of a database
//! whose coordinator has the `citus` extension into distributed and
//! reference tables. The placement of every table is listed once, in
//! [`PLACEMENTS`]; a table of the schema that the list does not name stays
//! local and is reported (a new migration's table chooses its placement
//! here; the Citus-mode tests fail while one has not).
//!
//! - A host and its children live on one shard: `scan_host` is sharded by
//!   `id` and every `scan_*` child by `host_id`, co-located with it (the
//!   joins of the filters and the `ON DELETE CASCADE` stay on one node);
//!   the same for `view_*`, in the same co-location group.
//! - `passive` is sharded by `key_hash`, its identity (`addr` can be NULL).
//! - `scan_file` stays local on the coordinator, as the other small tables
//!   (see [`Placement::Local`]): as a reference table, its write at the
//!   start of each import is a write on every node, two imports started at
//!   once end in a distributed deadlock (instead of one waiting for the
//!   other), and the foreign key `scan_host.file_id` makes Citus run every
//!   import over one connection per node; nothing joins it with the hosts.
//!   So the foreign key is dropped (see [`ADAPTATIONS`]).
//! - No table is a reference table today; [`Placement::Reference`] is
//!   there for a small table that distributed ones will join.
//!
//! Citus wants the distribution column in every unique constraint; what
//! is adapted for that is listed in [`ADAPTATIONS`] (applied here, not in a
//! migration: a single-node database keeps its schema).
//!
//! Every step is idempotent: a table already placed is left alone, so the
//! command can be run again after a failure, after a migration, or after
//! `ivre-db2view --full` (which replaces the view tables by new local ones).

use crate::{with_causes, Error, Result};
use postgres::Client;

/// Where a table goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Sharded by `column`; co-located with `with` (`None`: the first
    /// table of its group).
    Distributed {
        column: &'static str,
        with: Option<&'static str>,
    },
    /// A copy on every node (small tables that distributed ones reference).
    Reference,
    /// Stays a plain table on the coordinator: read and written by the
    /// coordinator only, never joined with a distributed table (schema
    /// migrations, import provenance, view change tracking, web keys and
    /// audit log), or not distributable yet (flows, see [`PLACEMENTS`]).
    Local,
}

use Placement::{Distributed, Local, Reference};

const fn by_host(table: &'static str, parent: &'static str) -> (&'static str, Placement) {
    (
        table,
        Distributed {
            column: "host_id",
            with: Some(parent),
        },
    )
}

/// Every table of the schema and its placement, in the order they are
/// distributed (referenced tables first).
pub const PLACEMENTS: &[(&str, Placement)] = &[
    ("scan_file", Local),
    (
        "scan_host",
        Distributed {
            column: "id",
            with: None,
        },
    ),
    by_host("scan_port", "scan_host"),
    by_host("scan_script", "scan_host"),
    by_host("scan_hostname", "scan_host"),
    by_host("scan_hop", "scan_host"),
    by_host("scan_osmatch", "scan_host"),
    by_host("scan_osclass", "scan_host"),
    by_host("scan_cpe", "scan_host"),
    by_host("scan_tag", "scan_host"),
    (
        "view_host",
        Distributed {
            column: "id",
            with: Some("scan_host"),
        },
    ),
    by_host("view_port", "view_host"),
    by_host("view_script", "view_host"),
    by_host("view_hostname", "view_host"),
    by_host("view_hop", "view_host"),
    by_host("view_osmatch", "view_host"),
    by_host("view_osclass", "view_host"),
    by_host("view_cpe", "view_host"),
    by_host("view_tag", "view_host"),
    (
        "passive",
        Distributed {
            column: "key_hash",
            with: None,
        },
    ),
    // Updated once per batch by the importer: as a local table that is one
    // write on the coordinator, as a reference table a write on every node.
    ("passive_file", Local),
    // Read and written only by the coordinator (DDL reaches the workers
    // through Citus).
    ("ivre_schema_migrations", Local),
    ("view_pending", Local),
    ("view_build", Local),
    ("web_api_key", Local),
    ("web_audit", Local),
    // Flows: `flow_key` has a unique key over (src, dst, ...) and an
    // identity `id` that `flow.key_id` refers to; sharding both by one
    // column needs `flow` to carry `src` (a layout change of the flow
    // purpose). `flow` is range-partitioned by month, its partitions made
    // by the importer on demand. They stay local: the flow tools work on
    // the coordinator as on a single node.
    ("flow_key", Local),
    ("flow", Local),
    ("flow_file", Local),
    // RIR whois objects: a few million rows at most (every RIR's dumps
    // together), looked up by range on the coordinator, never joined with
    // the host tables.
    ("rir_file", Local),
    ("rir", Local),
];

/// One change to a table's constraints that Citus needs before the table
/// can be distributed: `done` is a query answering whether it is already
/// made, `sql` makes it.
pub struct Adaptation {
    pub table: &'static str,
    pub why: &'static str,
    pub done: &'static str,
    pub sql: &'static str,
}

/// The constraints adapted for Citus.
pub const ADAPTATIONS: &[Adaptation] = &[
    Adaptation {
        table: "passive",
        why: "primary key (id) becomes (id, key_hash): a unique constraint must hold the \
              distribution column (key_hash stays unique on its own)",
        done: "SELECT array_length(conkey, 1) = 2 FROM pg_constraint \
               WHERE conrelid = 'passive'::regclass AND contype = 'p'",
        sql: "ALTER TABLE passive DROP CONSTRAINT passive_pkey; \
              ALTER TABLE passive ADD CONSTRAINT passive_pkey PRIMARY KEY (id, key_hash)",
    },
    Adaptation {
        table: "view_host",
        why: "the unique constraint on addr becomes a plain index: a unique constraint must \
              hold the distribution column (db2view keeps one host per address)",
        done: "SELECT NOT EXISTS (SELECT 1 FROM pg_constraint \
               WHERE conrelid = 'view_host'::regclass AND conname = 'view_host_addr_key')",
        sql: "ALTER TABLE view_host DROP CONSTRAINT view_host_addr_key; \
              CREATE INDEX IF NOT EXISTS view_host_addr_btree ON view_host (addr)",
    },
    Adaptation {
        table: "scan_host",
        why: "the foreign key file_id -> scan_file is dropped: a distributed table cannot \
              reference a local one",
        done: "SELECT NOT EXISTS (SELECT 1 FROM pg_constraint \
               WHERE conrelid = 'scan_host'::regclass AND conname = 'scan_host_file_id_fkey')",
        sql: "ALTER TABLE scan_host DROP CONSTRAINT scan_host_file_id_fkey",
    },
];

/// Options of [`distribute`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Shards per distributed table group (`None`: Citus's
    /// `citus.shard_count`, 32 by default). Only used for a group created
    /// now.
    pub shard_count: Option<i32>,
}

/// What [`distribute`] did, table by table.
#[derive(Debug, Default)]
pub struct Report {
    /// Tables made distributed or reference now.
    pub placed: Vec<(String, Placement)>,
    /// Tables that already were.
    pub already: Vec<String>,
    /// Adaptations made now (`table: why`).
    pub adapted: Vec<String>,
    /// Tables of the schema that [`PLACEMENTS`] does not name: left local.
    pub unplaced: Vec<String>,
    /// The active worker nodes.
    pub workers: i64,
}

/// Whether the database has the `citus` extension.
pub fn has_citus(client: &mut Client) -> Result<bool> {
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
            &[],
        )?
        .get(0))
}

/// The placement of `table` in [`PLACEMENTS`].
pub fn placement(table: &str) -> Option<Placement> {
    PLACEMENTS
        .iter()
        .find(|(t, _)| *t == table)
        .map(|(_, p)| *p)
}

/// Distributes the tables of the (migrated) database as [`PLACEMENTS`]
/// says. Fails, before changing anything, when the `citus` extension is
/// missing or the database has no schema yet.
pub fn distribute(client: &mut Client, opts: &Options) -> Result<Report> {
    if !has_citus(client)? {
        let available: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'citus')",
                &[],
            )?
            .get(0);
        return Err(Error::Setup(if available {
            "the citus extension is not created in this database: run `CREATE EXTENSION citus` \
             on the coordinator (with shared_preload_libraries = 'citus'), add the worker nodes \
             (SELECT citus_add_node(host, port)), then run this again"
                .into()
        } else {
            "the citus extension is not installed on this PostgreSQL server: install Citus \
             (packages from citusdata.com, or build it from source), set \
             shared_preload_libraries = 'citus', restart, `CREATE EXTENSION citus`, add the \
             worker nodes, then run this again"
                .into()
        }));
    }
    let unplaced = unplaced_tables(client)?;
    let mut report = Report {
        workers: client
            .query_one("SELECT count(*) FROM citus_get_active_worker_nodes()", &[])?
            .get(0),
        unplaced,
        ..Report::default()
    };
    let mut todo = Vec::new();
    for &(table, placement) in PLACEMENTS {
        match (placement, current(client, table)?) {
            (Local, _) => {}
            (_, Some(method)) => {
                check_same(table, placement, &method)?;
                report.already.push(table.to_string());
            }
            (_, None) => todo.push((table, placement)),
        }
    }
    if todo.is_empty() {
        return Ok(report);
    }
    // One transaction: a failure leaves the database as it was.
    let mut tx = client.transaction()?;
    for a in ADAPTATIONS {
        if !todo.iter().any(|(t, _)| *t == a.table) {
            continue;
        }
        let done: bool = tx.query_one(a.done, &[])?.get(0);
        if !done {
            tx.batch_execute(a.sql).map_err(|e| failed(a.table, &e))?;
            report.adapted.push(format!("{}: {}", a.table, a.why));
        }
    }
    // A table referenced by a local table cannot be distributed, nor can a
    // table referencing a local one: the foreign keys of the tables placed
    // now are dropped, and made again once every table is placed.
    let names: Vec<&str> = todo.iter().map(|(t, _)| *t).collect();
    let fks: Vec<(String, String, String)> = tx
        .query(
            "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE contype = 'f' \
               AND (conrelid::regclass::text = ANY($1) OR confrelid::regclass::text = ANY($1)) \
             ORDER BY 1, 2",
            &[&names],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    for (table, name, _) in &fks {
        // Names from the catalog, quoted as identifiers.
        tx.batch_execute(&format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            ident(table),
            ident(name)
        ))?;
    }
    for &(table, placement) in &todo {
        match placement {
            Reference => tx.execute(
                "SELECT create_reference_table($1::text::regclass)",
                &[&table],
            ),
            Distributed { column, with } => match (with, opts.shard_count) {
                (None, Some(n)) => tx.execute(
                    "SELECT create_distributed_table($1::text::regclass, $2, shard_count => $3)",
                    &[&table, &column, &n],
                ),
                (with, _) => tx.execute(
                    "SELECT create_distributed_table($1::text::regclass, $2, colocate_with => $3)",
                    &[&table, &column, &with.unwrap_or("default")],
                ),
            },
            Local => continue,
        }
        .map_err(|e| failed(table, &e))?;
        report.placed.push((table.to_string(), placement));
    }
    for (table, name, def) in &fks {
        tx.batch_execute(&format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {def}",
            ident(table),
            ident(name)
        ))
        .map_err(|e| failed(table, &e))?;
    }
    tx.commit()?;
    // Distributing a table that holds rows copies them to the shards and
    // leaves the local copy behind (invisible, but on disk): remove it.
    for &(table, _) in &todo {
        client
            .execute(
                "SELECT truncate_local_data_after_distributing_table($1::text::regclass)",
                &[&table],
            )
            .map_err(|e| failed(table, &e))?;
    }
    Ok(report)
}

/// A catalog name as an SQL identifier (`regclass::text` is already
/// quoted when it needs to be).
fn ident(name: &str) -> String {
    if name.starts_with('"') {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Citus: distributes the (empty) view tables of `schema` as the live ones
/// are, when they are (`ivre-db2view --full` fills such shadow tables, then
/// swaps them in for the live ones). Does nothing on a single node.
pub(crate) fn place_shadow_view(client: &mut Client, schema: &str) -> Result<()> {
    if !has_citus(client)? || current(client, "view_host")?.is_none() {
        return Ok(());
    }
    for &(table, placement) in PLACEMENTS {
        let Distributed { column, with } = placement else {
            continue;
        };
        if !table.starts_with("view_") {
            continue;
        }
        let with = match with {
            Some(w) if w.starts_with("view_") => format!("{schema}.{w}"),
            Some(w) => w.to_string(),
            None => "default".to_string(),
        };
        client
            .execute(
                "SELECT create_distributed_table($1::text::regclass, $2, colocate_with => $3)",
                &[&format!("{schema}.{table}"), &column, &with],
            )
            .map_err(|e| failed(table, &e))?;
    }
    Ok(())
}

/// Citus: makes the transaction run its distributed statements over one
/// connection per node (needed when schema commands follow other
/// distributed DDL or writes in one transaction). Does nothing on a single
/// node.
pub(crate) fn sequential_if_citus(tx: &mut postgres::Transaction) -> Result<()> {
    let citus: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
            &[],
        )?
        .get(0);
    if citus {
        tx.batch_execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")?;
    }
    Ok(())
}

/// The Citus partition method of `table` (`h` hash, `n` reference), if it
/// is a Citus table.
fn current(client: &mut Client, table: &str) -> Result<Option<String>> {
    let row = client.query_opt(
        "SELECT partmethod::text FROM pg_dist_partition WHERE logicalrelid = $1::text::regclass",
        &[&table],
    )?;
    Ok(row.map(|r| r.get(0)))
}

fn check_same(table: &str, placement: Placement, method: &str) -> Result<()> {
    let expected = match placement {
        Distributed { .. } => "h",
        Reference => "n",
        Local => return Ok(()),
    };
    if method == expected {
        return Ok(());
    }
    Err(Error::Setup(format!(
        "{table} is already a Citus table of another kind (partition method {method:?}, \
         expected {expected:?}): undistribute it (SELECT undistribute_table('{table}')) and \
         run this again"
    )))
}

fn failed(table: &str, e: &postgres::Error) -> Error {
    Error::Setup(format!("cannot distribute {table}: {}", with_causes(e)))
}

/// The tables of the schema that [`PLACEMENTS`] does not name; refuses a
/// database without the schema.
pub fn unplaced_tables(client: &mut Client) -> Result<Vec<String>> {
    // Ordinary and partitioned tables of the schema, not the partitions
    // (they follow their parent).
    let rows = client.query(
        "SELECT c.relname::text FROM pg_class c \
         WHERE c.relnamespace = current_schema()::regnamespace \
           AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
         ORDER BY 1",
        &[],
    )?;
    let tables: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    if !tables.iter().any(|t| t == "scan_host") {
        return Err(Error::Setup(
            "the database has no ivre schema yet: run any tool on it first".into(),
        ));
    }
    Ok(tables
        .into_iter()
        .filter(|t| placement(t).is_none())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn co_located_tables_follow_a_table_placed_before_them() {
        for (i, (table, p)) in PLACEMENTS.iter().enumerate() {
            if let Distributed {
                with: Some(parent), ..
            } = p
            {
                let j = PLACEMENTS.iter().position(|(t, _)| t == parent);
                assert!(
                    j.is_some_and(|j| j < i),
                    "{table} is co-located with {parent}, which must come first"
                );
            }
        }
    }

    #[test]
    fn every_table_is_listed_once() {
        for (table, _) in PLACEMENTS {
            assert_eq!(
                PLACEMENTS.iter().filter(|(t, _)| t == table).count(),
                1,
                "{table}"
            );
        }
    }
}
