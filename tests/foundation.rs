//! The foundation: database selection, the embedded cluster, migrations.

use crate::common::*;
use std::time::{Duration, Instant};

#[test]
fn unreachable_database_fails_fast_with_one_line() {
    let start = Instant::now();
    let out = run_tool(
        "ivre-scancli",
        &[
            "--db",
            "postgresql:///nonexistent?host=/nonexistent-dir",
            "--count",
        ],
        None,
        |_| {},
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("/nonexistent-dir") && err.contains("nonexistent"),
        "{err}"
    );

    // A TCP address that nobody answers on.
    let out = run_tool(
        "ivre-scancli",
        &["--db", "postgresql://127.0.0.1:1/scans", "--count"],
        None,
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("127.0.0.1 port 1") && err.contains("\"scans\""),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = run_tool("ivre-scancli", &["--no-such-flag"], None, |_| {});
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn concurrent_first_runs_apply_each_migration_once() {
    let db = TestDb::new();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                std::process::Command::new(bin("ivre-scancli"))
                    .args(["--count"])
                    .env("IVRE_DB", url)
                    .output()
                    .unwrap()
            })
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "0");
    }
    assert_eq!(
        db.scalar("SELECT count(*) - count(DISTINCT version) FROM ivre_schema_migrations"),
        0
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM ivre_schema_migrations"),
        ivre_pg::migrate::MIGRATIONS.len() as i64
    );
}

#[test]
fn every_table_and_column_is_documented() {
    let db = TestDb::new();
    let out = tool("ivre-scancli", &db, &["--count"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let undocumented_tables = db.scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p')
           AND obj_description(c.oid, 'pg_class') IS NULL",
    );
    assert_eq!(undocumented_tables, 0);
    let undocumented_columns = db.scalar(
        "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p')
           AND a.attnum > 0 AND NOT a.attisdropped
           AND col_description(c.oid, a.attnum) IS NULL",
    );
    assert_eq!(undocumented_columns, 0);
    assert!(db.scalar("SELECT count(*) FROM pg_class WHERE relname = 'scan_host'") == 1);
}

#[test]
fn newer_schema_is_refused() {
    let db = TestDb::new();
    assert!(tool("ivre-scancli", &db, &["--count"], None)
        .status
        .success());
    db.client()
        .batch_execute(
            "INSERT INTO ivre_schema_migrations (version, name) VALUES (9999, '9999_future')",
        )
        .unwrap();
    let out = tool("ivre-scancli", &db, &["--count"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("newer than this ivre knows"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn embedded_default_cluster_is_created_then_reused() {
    let home = tempfile::tempdir().unwrap();
    // The server may run as another account (when we are root): let it in.
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let xdg = home.path().to_string_lossy().into_owned();
    let run = || {
        run_tool("ivre-scancli", &["--count"], None, |cmd| {
            cmd.env("XDG_DATA_HOME", &xdg);
        })
    };
    let first = run();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("created and started"),
        "{}",
        stderr(&first)
    );
    assert_eq!(stdout(&first).trim(), "0");
    let second = run();
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(!stderr(&second).contains("created"), "{}", stderr(&second));
    // Socket only: no TCP listener configured.
    let conf = home.path().join("ivre/pg");
    assert!(conf.join(".s.PGSQL.5432").exists());
    let cluster = ivre_pg::cluster::LocalCluster::new(&conf).unwrap();
    let mut c =
        postgres::Client::connect(&cluster.connection_string("ivre"), postgres::NoTls).unwrap();
    let listen: String = c.query_one("SHOW listen_addresses", &[]).unwrap().get(0);
    assert_eq!(listen, "");
    drop(c);
    cluster.stop().unwrap();
}

#[test]
fn dispatcher_runs_tools_and_lists_them() {
    let out = run_tool("ivre", &["help"], None, |_| {});
    assert!(out.status.success());
    assert!(stdout(&out).contains("scancli"));
    let out = run_tool("ivre", &["--version"], None, |_| {});
    assert!(stdout(&out).starts_with("ivre "));
    let out = run_tool("ivre", &["scancli", "--help"], None, |_| {});
    assert!(out.status.success());
    assert!(stdout(&out).contains("--count"));
    let out = run_tool("ivre", &["nosuchtool"], None, |_| {});
    assert_eq!(out.status.code(), Some(2));
}
