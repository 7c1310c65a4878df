//! `ivre-db2view --full` builds into shadow tables and swaps them in: the
//! view it leaves has the same rows, constraints, indexes and comments as a
//! view built in place, and is the same whatever the number of jobs.

use crate::common::*;

fn db2view(db: &TestDb, args: &[&str]) -> String {
    let out = tool("ivre-db2view", db, args, None);
    assert!(
        out.status.success(),
        "ivre-db2view {args:?} failed: {}",
        stderr(&out)
    );
    stderr(&out)
}

/// Every row of the view tables, by address and without the record ids
/// (which depend on the order hosts are written in), sorted.
fn dump(db: &TestDb) -> Vec<String> {
    let mut client = db.client();
    let mut rows = Vec::new();
    for table in [
        "view_port",
        "view_script",
        "view_hostname",
        "view_hop",
        "view_osmatch",
        "view_osclass",
        "view_cpe",
        "view_tag",
    ] {
        let sql = format!(
            "SELECT '{table} ' || h.addr || ' ' || (to_jsonb(c) - 'host_id')::text \
             FROM {table} c JOIN view_host h ON h.id = c.host_id"
        );
        for r in client.query(sql.as_str(), &[]).unwrap() {
            rows.push(r.get::<_, String>(0));
        }
    }
    let hosts = "SELECT 'view_host ' || (to_jsonb(h) - 'id' - 'built_at')::text FROM view_host h";
    for r in client.query(hosts, &[]).unwrap() {
        rows.push(r.get::<_, String>(0));
    }
    rows.sort();
    rows
}

/// The constraints, indexes and comments of the view tables.
fn schema(db: &TestDb) -> Vec<String> {
    let mut client = db.client();
    let sql = "SELECT c.relname || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '-') || ' ' \
               || (SELECT count(*) FROM pg_description d WHERE d.objoid = c.oid AND d.objsubid > 0) \
               FROM pg_class c WHERE c.relname LIKE 'view\\_%' AND c.relkind = 'r' \
               UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
               WHERE conrelid::regclass::text LIKE 'view\\_%' \
               UNION ALL SELECT indexdef FROM pg_indexes WHERE tablename LIKE 'view\\_%'";
    let mut rows: Vec<String> = client
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    rows.sort();
    rows
}

#[test]
fn parallel_full_builds_give_the_same_view() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    let log = data("passive/zeek/passive_recon.log");
    let out = tool(
        "ivre-passiverecon2db",
        &db,
        &["-s", "TEST", log.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut client = db.client();
    ivre_pg::migrate::migrate(&mut client).unwrap();
    let before = schema(&db);
    assert!(before.len() > 40, "{before:?}");
    assert!(db2view(&db, &["--full"]).contains("full build"));
    let one = dump(&db);
    assert!(one.len() > 1000, "{}", one.len());
    // The swapped-in tables are the migration's: same constraints (with the
    // foreign keys to view_host), indexes and comments.
    assert_eq!(schema(&db), before);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'view_next'"),
        0
    );
    assert_eq!(db.scalar("SELECT count(*) FROM view_pending"), 0);
    for jobs in ["2", "3", "7"] {
        db2view(&db, &["--full", "--jobs", jobs]);
        assert_eq!(dump(&db), one, "--jobs {jobs}");
    }
    assert_eq!(schema(&db), before);
    // An incremental build after the swap works on the new tables.
    let out = tool(
        "ivre-scancli",
        &db,
        &["--delete", "--yes", "--source", "SOURCE"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(db2view(&db, &[]).contains("incremental build"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM view_host"),
        db.scalar("SELECT count(DISTINCT addr) FROM passive")
    );
    // Deleting a host's record cascades to its rows (the foreign keys hold).
    let ports = db.scalar("SELECT count(*) FROM view_port");
    let gone = client
        .execute(
            "DELETE FROM view_host WHERE id = (SELECT min(host_id) FROM view_port)",
            &[],
        )
        .unwrap();
    assert_eq!(gone, 1);
    assert!(db.scalar("SELECT count(*) FROM view_port") < ports);
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM view_port p WHERE NOT EXISTS \
             (SELECT 1 FROM view_host h WHERE h.id = p.host_id)"
        ),
        0
    );
}

#[test]
fn a_failed_full_build_leaves_the_old_view() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    db2view(&db, &["--full"]);
    let hosts = db.scalar("SELECT count(*) FROM view_host");
    assert_eq!(hosts, 926);
    // A leftover shadow schema (a build that was killed) is replaced.
    let mut client = db.client();
    client
        .batch_execute("CREATE SCHEMA view_next; CREATE TABLE view_next.junk (x int)")
        .unwrap();
    db2view(&db, &["--full", "--jobs", "2"]);
    assert_eq!(db.scalar("SELECT count(*) FROM view_host"), hosts);
    // A build that fails (here: a stored scan record it cannot read) keeps
    // the old view and drops its shadow tables.
    client
        .batch_execute(
            "UPDATE scan_host SET doc = '{\"addr\": 5}' WHERE id = (SELECT max(id) FROM scan_host)",
        )
        .unwrap();
    let out = tool("ivre-db2view", &db, &["--full", "--jobs", "2"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("unreadable"), "{}", stderr(&out));
    assert_eq!(db.scalar("SELECT count(*) FROM view_host"), hosts);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'view_next'"),
        0
    );
    assert_eq!(db.scalar("SELECT count(*) FROM view_build"), 2);
}
