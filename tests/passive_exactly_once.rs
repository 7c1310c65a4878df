//! Passive imports are exactly-once (issue 10, item 7): a file imported
//! again is skipped, an import killed mid-file resumes after its last
//! committed line, and two imports of one file at once import it once.

use crate::common::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Sum of counts and distinct observations: what one clean import gives.
fn totals(db: &TestDb) -> (i64, i64) {
    (
        db.scalar("SELECT coalesce(sum(count), 0)::bigint FROM passive"),
        db.scalar("SELECT count(*) FROM passive"),
    )
}

/// A Zeek log of `copies` times the fixture's records (one header), big
/// enough with a small --batch-size for an import to commit many batches.
fn big_log(dir: &std::path::Path, copies: usize) -> String {
    let text = std::fs::read_to_string(data("passive/zeek/passive_recon.log")).unwrap();
    let (header, body): (Vec<&str>, Vec<&str>) = text
        .lines()
        .filter(|l| !l.starts_with("#close"))
        .partition(|l| l.starts_with('#'));
    let mut out = header.join("\n");
    out.push('\n');
    for _ in 0..copies {
        for line in &body {
            out.push_str(line);
            out.push('\n');
        }
    }
    let path = dir.join("big_passive_recon.log");
    std::fs::write(&path, out).unwrap();
    path.to_string_lossy().into_owned()
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ivre_exactly_once_{tag}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_file_imported_again_is_skipped_unless_forced() {
    let db = TestDb::new();
    let log = data("passive/zeek/passive_recon.log");
    let log = log.to_str().unwrap();
    let first = tool("ivre-passiverecon2db", &db, &["-s", "S", log], None);
    assert!(first.status.success(), "{}", stderr(&first));
    let once = totals(&db);
    assert!(once.0 > 0);
    assert_eq!(
        db.scalar("SELECT count(*) FROM passive_file WHERE finished AND sensor = 'S'"),
        1
    );
    let again = tool("ivre-passiverecon2db", &db, &["-s", "S", log], None);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already imported"),
        "{}",
        stderr(&again)
    );
    assert_eq!(totals(&db), once);
    // Another sensor is other observations: imported.
    let other = tool("ivre-passiverecon2db", &db, &["-s", "T", log], None);
    assert!(other.status.success(), "{}", stderr(&other));
    assert_eq!(totals(&db), (2 * once.0, 2 * once.1));
    // --force counts the same file once more, on purpose.
    let forced = tool(
        "ivre-passiverecon2db",
        &db,
        &["--force", "-s", "S", log],
        None,
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(totals(&db), (3 * once.0, 2 * once.1));
    assert_eq!(db.scalar("SELECT count(*) FROM passive_file"), 3);
}

/// Runs the import of `log` and kills it (SIGKILL) as soon as it has
/// committed more than `lines` lines; the lines committed then, or `None`
/// if it finished first.
fn kill_after_a_commit(db: &TestDb, log: &str, lines: i64) -> Option<i64> {
    let mut child = tool_command("ivre-passiverecon2db", Some(db))
        .args(["--batch-size", "50", log])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut admin = db.client();
    let committed = loop {
        let row = admin
            .query_opt(
                "SELECT lines, finished FROM passive_file WHERE lines > $1 OR finished",
                &[&lines],
            )
            .ok()
            .flatten();
        if let Some(row) = row {
            let finished: bool = row.get(1);
            break (!finished).then(|| row.get::<_, i64>(0));
        }
        assert!(Instant::now() < deadline, "no batch committed within 60 s");
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    committed
}

#[test]
fn an_import_killed_mid_file_resumes_after_its_last_commit() {
    let dir = temp_dir("kill");
    let log = big_log(&dir, 40);
    let clean = TestDb::new();
    let out = tool(
        "ivre-passiverecon2db",
        &clean,
        &["--batch-size", "50", &log],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = totals(&clean);

    let db = TestDb::new();
    let first = kill_after_a_commit(&db, &log, 0).expect("finished before it could be killed");
    let partial = totals(&db);
    assert!(
        partial.0 > 0 && partial.0 < expected.0,
        "{partial:?} {expected:?}"
    );
    // Killed again while resuming (unless it finished first): still exact.
    let second = kill_after_a_commit(&db, &log, first);

    let rerun = tool(
        "ivre-passiverecon2db",
        &db,
        &["--batch-size", "50", &log],
        None,
    );
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    let said = if second.is_some() {
        "resuming after line"
    } else {
        "already imported"
    };
    assert!(stderr(&rerun).contains(said), "{}", stderr(&rerun));
    assert_eq!(totals(&db), expected);
    assert_eq!(
        db.scalar("SELECT count(*) FROM passive_file WHERE finished"),
        1
    );
    // The same rows, count for count.
    let rows = |db: &TestDb| {
        let mut rows: Vec<(Vec<u8>, i64)> = db
            .client()
            .query("SELECT key_hash, count FROM passive", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(rows(&db), rows(&clean));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_imports_of_one_file_at_once_import_it_once() {
    let dir = temp_dir("concurrent");
    let log = big_log(&dir, 10);
    let clean = TestDb::new();
    let out = tool(
        "ivre-passiverecon2db",
        &clean,
        &["--batch-size", "100", &log],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = totals(&clean);

    let db = TestDb::new();
    let outputs: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    tool(
                        "ivre-passiverecon2db",
                        &db,
                        &["--batch-size", "100", &log],
                        None,
                    )
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
    }
    // One imports it; the other waits for it (or comes after it) and skips.
    let skipped = outputs
        .iter()
        .filter(|out| stderr(out).contains("already imported"))
        .count();
    assert_eq!(skipped, 1);
    assert_eq!(totals(&db), expected);
    assert_eq!(db.scalar("SELECT count(*) FROM passive_file"), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn stdin_is_imported_but_not_resumable() {
    let db = TestDb::new();
    let text = std::fs::read(data("passive/zeek/passive_recon.log")).unwrap();
    let out = tool("ivre-passiverecon2db", &db, &["-v", "-"], Some(&text));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("not resumable"), "{}", stderr(&out));
    assert!(totals(&db).0 > 0);
    assert_eq!(db.scalar("SELECT count(*) FROM passive_file"), 0);
}

#[test]
fn every_passive_importer_skips_a_file_already_imported() {
    for (tool_name, file) in [
        ("ivre-p0f2db", "passive/p0f/p0f-http.log"),
        ("ivre-airodump2db", "passive/airodump/airodump-01.csv"),
    ] {
        let db = TestDb::new();
        let path = data(file);
        let path = path.to_str().unwrap();
        let first = tool(tool_name, &db, &[path], None);
        assert!(first.status.success(), "{tool_name}: {}", stderr(&first));
        let once = totals(&db);
        assert!(once.0 > 0, "{tool_name}");
        let again = tool(tool_name, &db, &[path], None);
        assert!(again.status.success(), "{tool_name}: {}", stderr(&again));
        assert!(stderr(&again).contains("already imported"), "{tool_name}");
        assert_eq!(totals(&db), once, "{tool_name}");
    }
}

#[test]
fn an_empty_passive_file_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, b"").unwrap();
    let blank = dir.path().join("blank.log");
    std::fs::write(&blank, b"\n \r\n\t\n").unwrap();
    let gz = dir.path().join("empty.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, b"").unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for tool_name in ["ivre-passiverecon2db", "ivre-p0f2db", "ivre-airodump2db"] {
        let db = TestDb::new();
        for file in [&empty, &blank, &gz] {
            let file = file.to_str().unwrap();
            let out = tool(tool_name, &db, &[file], None);
            assert!(out.status.success(), "{tool_name}: {}", stderr(&out));
            assert!(
                stderr(&out).contains(&format!("{file}: empty (no data); nothing recorded")),
                "{tool_name}: {}",
                stderr(&out)
            );
        }
        let out = tool(tool_name, &db, &["-"], Some(b""));
        assert!(out.status.success(), "{tool_name}: {}", stderr(&out));
        assert!(stderr(&out).contains("empty (no data)"), "{tool_name}");
        assert_eq!(
            db.scalar("SELECT count(*) FROM passive_file"),
            0,
            "{tool_name}"
        );
        assert_eq!(db.scalar("SELECT count(*) FROM passive"), 0, "{tool_name}");
    }
    // Still imported once it has data.
    let db = TestDb::new();
    let log = dir.path().join("empty.log");
    std::fs::copy(data("passive/p0f/p0f-http.log"), &log).unwrap();
    let out = tool("ivre-p0f2db", &db, &[log.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        db.scalar("SELECT count(*) FROM passive_file WHERE finished"),
        1
    );
}
