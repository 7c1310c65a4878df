//! Faults around the tools: concurrent imports of one file, a database
//! session killed mid-import, missing rights, bad connection strings.

use crate::common::*;
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn decompressed(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    bzip2::read::MultiBzDecoder::new(std::fs::File::open(sample(name)).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn the_same_file_imported_at_once_is_stored_once() {
    let db = TestDb::new();
    // The schema first, so that the importers race on the file, not on migrations.
    assert!(tool("ivre-scan2db", &db, &[&sample("ipv6_all.xml")], None)
        .status
        .success());
    let file = sample("nmap-ntlm-all.xml.bz2");
    let xml = decompressed("nmap-ntlm-all.xml.bz2");
    // Two imports of the file and two of its content on stdin, all at once.
    let outs: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = [Some(&file), None, Some(&file), None]
            .into_iter()
            .map(|file| {
                let xml = &xml;
                let db = &db;
                s.spawn(move || match file {
                    Some(file) => tool("ivre-scan2db", db, &[file], None),
                    None => tool("ivre-scan2db", db, &["-"], Some(xml)),
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in &outs {
        assert!(out.status.success(), "{}", stderr(out));
    }
    let skipped = outs
        .iter()
        .filter(|out| stderr(out).contains("already imported"))
        .count();
    assert_eq!(
        skipped,
        3,
        "{:?}",
        outs.iter().map(stderr).collect::<Vec<_>>()
    );
    assert_eq!(db.scalar("SELECT count(*) FROM scan_file"), 2);
    assert_eq!(
        db.scalar("SELECT count(*) FROM (SELECT DISTINCT sha256 FROM scan_file) f"),
        2
    );
    let hosts =
        db.scalar("SELECT host_count FROM scan_file WHERE id = (SELECT max(id) FROM scan_file)");
    assert!(hosts > 0);
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), hosts + 1);
    // --force still stores the same content again, on purpose.
    let forced = tool("ivre-scan2db", &db, &["--force", &file], None);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 2 * hosts + 1);
}

/// Runs `ivre-scan2db -` on `db`, its stdin left open for the caller.
fn spawn_scan2db_on_stdin(db: &TestDb) -> std::process::Child {
    tool_command("ivre-scan2db", Some(db))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ivre-scan2db")
}

#[test]
fn a_killed_session_stores_nothing_and_says_a_rerun_is_safe() {
    let db = TestDb::new();
    let xml = decompressed("nmap-ntlm-all.xml.bz2");
    let mut child = spawn_scan2db_on_stdin(&db);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&xml[..xml.len() / 2]).unwrap();
    stdin.flush().unwrap();
    // Wait for the import's transaction to record the file, then end its session.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut admin = db.client();
    let terminated = loop {
        let importer: Option<i32> = admin
            .query_opt(
                "SELECT pid FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND application_name = 'ivre' AND state = 'idle in transaction'
                   AND (query LIKE 'INSERT INTO scan_file%' OR query LIKE '%scan_host_id_block%')",
                &[],
            )
            .unwrap()
            .map(|row| row.get(0));
        if let Some(pid) = importer {
            admin
                .execute("SELECT pg_terminate_backend($1)", &[&pid])
                .unwrap();
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(terminated, "the import never opened its transaction");
    // The rest of the file: the importer finds its session gone.
    let _ = stdin.write_all(&xml[xml.len() / 2..]);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("<stdin>")
            && err.contains("the file was not stored")
            && err.contains("running the same command again is safe"),
        "{err}"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM scan_file"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 0);
    // And it is: the same command stores the file whole.
    let again = tool("ivre-scan2db", &db, &["-"], Some(&xml));
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(db.scalar("SELECT count(*) FROM scan_file"), 1);
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_host"),
        db.scalar("SELECT host_count FROM scan_file")
    );
}

#[test]
fn an_import_refused_by_the_database_or_the_file_system_names_the_file() {
    let db = TestDb::new();
    let file = sample("ipv6_all.xml");
    assert!(
        tool("ivre-scan2db", &db, &[&sample("test-T22.xml.bz2")], None)
            .status
            .success()
    );
    // A role that may only read.
    let role = format!("{}_reader", db.name);
    db.client()
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\" LOGIN;
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{role}\";"
        ))
        .unwrap();
    let reader_url = format!("{} user={role}", db.url);
    let out = run_tool("ivre-scan2db", &[&file], None, |cmd| {
        cmd.env("IVRE_DB", &reader_url);
    });
    db.client()
        .batch_execute(&format!(
            "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \"{role}\";
             DROP ROLE \"{role}\";"
        ))
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{file}: cannot start; the file was not stored"))
            && err.contains("permission denied"),
        "{err}"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM scan_file"), 1);
    // A file we may not read (not testable as root, who reads anything).
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked.xml");
    std::fs::copy(&file, &locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&locked).is_err() {
        let out = tool("ivre-scan2db", &db, &[locked.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("locked.xml"), "{}", stderr(&out));
    }
}

#[test]
fn passwords_never_appear_in_messages() {
    let cases = [
        // Fails to parse.
        "postgresql://ivre:secretpw@[db.example/scans",
        "postgresql://ivre:secretpw@db.example:port/scans",
        "host=db.example port=nan user=ivre password=secretpw",
        "host=db.example user=ivre password='secretpw",
        // Parses, nobody listens.
        "postgresql://ivre:secretpw@127.0.0.1:1/scans",
        "host=127.0.0.1 port=1 user=ivre password=secretpw dbname=scans",
    ];
    for url in cases {
        for via_flag in [true, false] {
            let out = run_tool("ivre-scancli", &["--count"], None, |cmd| {
                if via_flag {
                    cmd.args(["--db", url]);
                } else {
                    cmd.env("IVRE_DB", url);
                }
            });
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{url}: {err}");
            assert!(
                err.contains("connection string") || err.contains("cannot connect"),
                "{url}: {err}"
            );
            assert!(!err.contains("secretpw"), "{url}: {err}");
        }
    }
}

#[test]
fn a_bad_regular_expression_is_said_once() {
    let db = TestDb::new();
    assert!(tool("ivre-scan2db", &db, &[&sample("ipv6_all.xml")], None)
        .status
        .success());
    let log = data("passive/zeek/passive_recon.log");
    assert!(
        tool("ivre-passiverecon2db", &db, &[log.to_str().unwrap()], None)
            .status
            .success()
    );
    for (tool_name, args) in [
        ("ivre-scancli", &["--count", "--hostname", "/(/"][..]),
        ("ivre-ipinfo", &["--count", "--dns", "/[/"][..]),
        ("ivre-iphost", &["/(/"][..]),
    ] {
        let out = tool(tool_name, &db, args, None);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{tool_name}: {err}");
        assert_eq!(
            err.matches("invalid regular expression").count(),
            1,
            "{tool_name}: {err}"
        );
        assert!(err.contains("not balanced"), "{tool_name}: {err}");
    }
}

#[test]
fn limits_beyond_sql_bigint_are_usage_errors() {
    let db = TestDb::new();
    for flag in ["--limit", "--skip"] {
        let out = tool("ivre-scancli", &db, &[flag, "9223372036854775808"], None);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(flag), "{}", stderr(&out));
    }
}
