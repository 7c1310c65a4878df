//! Scale-out on Citus (`ivre db distribute`): the tables really are
//! distributed, and the tools give on the coordinator what they give on a
//! single node. The tests that need a Citus cluster run in Citus mode
//! (`IVRE_TEST_CITUS=1`, see `common`); the others in both modes.

use crate::common::{self, citus_mode, stderr, stdout, tool, TestDb};
use ivre_pg::distribute::{Placement, PLACEMENTS};

/// In single-node mode, says why a Citus-only test does nothing.
fn needs_citus() -> bool {
    if !citus_mode() {
        eprintln!("runs in Citus mode only (IVRE_TEST_CITUS=1 and Citus installed)");
    }
    citus_mode()
}

/// Every table of [`PLACEMENTS`] is what it says in `pg_dist_partition`,
/// children co-located with their host table, and no table of the schema
/// lacks a placement.
fn check_placements(db: &TestDb) {
    let mut c = db.client();
    assert_eq!(
        ivre_pg::distribute::unplaced_tables(&mut c).unwrap(),
        Vec::<String>::new(),
        "tables without a placement in PLACEMENTS"
    );
    for (table, placement) in PLACEMENTS {
        let row = c
            .query_opt(
                "SELECT partmethod::text, \
                        coalesce(column_to_column_name(logicalrelid, partkey), ''), \
                        colocationid \
                 FROM pg_dist_partition WHERE logicalrelid = $1::text::regclass",
                &[table],
            )
            .unwrap();
        let colocation = |t: &str| -> i32 {
            c_colocation(&mut db.client(), t).unwrap_or_else(|| panic!("{t} is not a Citus table"))
        };
        match (placement, row) {
            (Placement::Local, None) => {}
            (Placement::Reference, Some(r)) => {
                assert_eq!(r.get::<_, String>(0), "n", "{table} is a reference table");
            }
            (Placement::Distributed { column, with }, Some(r)) => {
                assert_eq!(r.get::<_, String>(0), "h", "{table} is hash-distributed");
                assert_eq!(
                    r.get::<_, String>(1),
                    *column,
                    "{table}'s distribution column"
                );
                if let Some(parent) = with {
                    assert_eq!(
                        r.get::<_, i32>(2),
                        colocation(parent),
                        "{table} is co-located with {parent}"
                    );
                }
            }
            (p, r) => panic!(
                "{table} should be {p:?}, pg_dist_partition says {:?}",
                r.map(|r| r.get::<_, String>(0))
            ),
        }
    }
    // The shards are on the workers, not only on the coordinator.
    let nodes: i64 = c
        .query_one(
            "SELECT count(DISTINCT nodename) FROM citus_shards \
             WHERE table_name = 'scan_host'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(nodes, 2, "scan_host's shards are on both workers");
}

fn c_colocation(c: &mut postgres::Client, table: &str) -> Option<i32> {
    c.query_opt(
        "SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = $1::text::regclass",
        &[&table],
    )
    .unwrap()
    .map(|r| r.get(0))
}

#[test]
fn the_test_databases_are_distributed() {
    if !needs_citus() {
        return;
    }
    check_placements(&TestDb::new());
}

/// The README's path: a database filled on one node, then distributed
/// with `ivre db distribute` (twice: it is idempotent), keeps its records.
#[test]
fn an_existing_database_is_distributed_with_its_records() {
    if !needs_citus() {
        return;
    }
    let db = TestDb::citus_without_schema();
    let out = common::import_samples(&db);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = stdout(&tool("ivre-scancli", &db, &["--count"], None));
    let out = tool("ivre-db", &db, &["distribute", "--shard-count", "4"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("scan_host: distributed by id"),
        "{}",
        stderr(&out)
    );
    check_placements(&db);
    let out = tool("ivre-db", &db, &["distribute"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 table(s) distributed now, 19 already"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        stdout(&tool("ivre-scancli", &db, &["--count"], None)),
        before
    );
    assert_eq!(before.trim(), "945");
    // The rows are on the shards, and the coordinator's local copy is gone.
    let local: i64 = db.scalar(
        "SELECT pg_relation_size('scan_host') + pg_relation_size('scan_script') \
         + pg_relation_size('scan_port')",
    );
    assert_eq!(local, 0, "the coordinator keeps no local copy of the rows");
}

#[test]
fn distribute_without_citus_says_what_to_do() {
    let db = TestDb::plain();
    let out = tool("ivre-db", &db, &["distribute"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("ivre-db: error: the citus extension is"),
        "{err}"
    );
    assert!(err.contains("CREATE EXTENSION citus"), "{err}");
    // Nothing was changed: the schema of a single node.
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_constraint WHERE conname = 'scan_host_file_id_fkey'"),
        1
    );
}

/// Sorted lines (an export lists hosts in no guaranteed order).
fn sorted(text: String) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// The same command on both databases gives the same output.
fn same(tool_name: &str, single: &TestDb, citus: &TestDb, args: &[&str], order: bool) {
    let a = tool(tool_name, single, args, None);
    let b = tool(tool_name, citus, args, None);
    assert!(a.status.success(), "{tool_name} {args:?}: {}", stderr(&a));
    assert!(
        b.status.success(),
        "{tool_name} {args:?} on Citus: {}",
        stderr(&b)
    );
    assert!(
        !stdout(&a).is_empty(),
        "{tool_name} {args:?} printed nothing"
    );
    if order {
        assert_eq!(stdout(&a), stdout(&b), "{tool_name} {args:?}");
    } else {
        assert_eq!(
            sorted(stdout(&a)),
            sorted(stdout(&b)),
            "{tool_name} {args:?}"
        );
    }
}

#[test]
fn scan_results_equal_single_node_results() {
    if !needs_citus() {
        return;
    }
    let (single, citus) = (TestDb::plain(), TestDb::new());
    for db in [&single, &citus] {
        let out = common::import_samples(db);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let s = |args: &[&str]| same("ivre-scancli", &single, &citus, args, true);
    s(&["--count"]);
    s(&["--count", "--port", "80"]);
    s(&["--count", "--service", "http"]);
    s(&["--count", "--script", "ntlm-info"]);
    s(&["--count", "--net", "10.0.0.0/8"]);
    s(&["--top", "service"]);
    s(&["--top", "port"]);
    s(&["--top", "product"]);
    s(&["--top", "country"]);
    s(&["--distinct", "service"]);
    same("ivre-scancli", &single, &citus, &["--json"], false);
    same(
        "ivre-scancli",
        &single,
        &citus,
        &["--json", "--service", "http"],
        false,
    );
}

#[test]
fn passive_results_equal_single_node_results() {
    if !needs_citus() {
        return;
    }
    let (single, citus) = (TestDb::plain(), TestDb::new());
    let log = common::data("passive/zeek/passive_recon.log");
    let log = log.to_str().unwrap();
    for db in [&single, &citus] {
        for _ in 0..2 {
            // The second import is skipped (exactly-once) on both.
            let out = tool("ivre-passiverecon2db", db, &[log], None);
            assert!(out.status.success(), "{}", stderr(&out));
        }
    }
    let s = |args: &[&str]| same("ivre-ipinfo", &single, &citus, args, true);
    s(&["--count"]);
    s(&["--top", "recontype"]);
    same("ivre-ipinfo", &single, &citus, &["--json"], false);
}
