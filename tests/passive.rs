//! The passive import tools against a real database.

use crate::common::*;
use std::collections::HashMap;

fn p0f_logs() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(data("passive/p0f"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 12);
    files
}

/// (addr, recontype, port, signature) -> lines, counted straight from the
/// logs with plain string handling, independently of the parser.
fn expected_p0f_counts(files: &[String]) -> HashMap<(String, String, Option<i32>, String), i64> {
    let mut counts = HashMap::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let Some((_, rest)) = line.split_once("] ") else {
                continue;
            };
            let kv: HashMap<&str, &str> =
                rest.split('|').filter_map(|p| p.split_once('=')).collect();
            let recontype = match kv.get("mod") {
                Some(&"syn") => "P0FV3_SYN",
                Some(&"syn+ack") => "P0FV3_SYN+ACK",
                _ => continue,
            };
            let subj = kv["subj"];
            let (ip, _) = kv[subj].rsplit_once('/').unwrap();
            // The server port on server (SYN+ACK) records only: a client's
            // signature is one record whatever server it connects to (IVRE 0.9.20).
            let port =
                (subj == "srv").then(|| kv["srv"].rsplit_once('/').unwrap().1.parse().unwrap());
            *counts
                .entry((
                    canonical(ip),
                    recontype.to_string(),
                    port,
                    kv["raw_sig"].to_string(),
                ))
                .or_insert(0) += 1;
        }
    }
    counts
}

fn canonical(ip: &str) -> String {
    ip.parse::<std::net::IpAddr>().unwrap().to_string()
}

fn stored_p0f_counts(db: &TestDb) -> HashMap<(String, String, Option<i32>, String), i64> {
    db.client()
        .query(
            "SELECT host(addr), recontype, port, value, count FROM passive WHERE sensor = 'TEST'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1), r.get(2), r.get(3)), r.get(4)))
        .collect()
}

#[test]
fn p0f_one_record_per_distinct_observation_with_line_counts() {
    let db = TestDb::new();
    let files = p0f_logs();
    let mut args = vec!["-s", "TEST"];
    args.extend(files.iter().map(String::as_str));
    let out = tool("ivre-p0f2db", &db, &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = expected_p0f_counts(&files);
    assert!(expected.len() > 50, "{}", expected.len());
    assert_eq!(stored_p0f_counts(&db), expected);
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM passive WHERE recontype NOT IN ('P0FV3_SYN', 'P0FV3_SYN+ACK')"
        ),
        0
    );
}

#[test]
fn importing_twice_doubles_counts_and_changes_nothing_else() {
    let db = TestDb::new();
    let files = p0f_logs();
    let mut args = vec!["-s", "TEST"];
    args.extend(files.iter().map(String::as_str));
    let snapshot = |db: &TestDb| -> Vec<String> {
        db.client()
            .query(
                "SELECT concat_ws('|', host(addr), sensor, recontype, source, port, value, targetval,
                        firstseen, lastseen, infos::text, count) FROM passive ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert!(tool("ivre-p0f2db", &db, &args, None).status.success());
    let once = snapshot(&db);
    let total_once = db.scalar("SELECT sum(count)::bigint FROM passive");
    // The same files again are already imported (issue 10, item 7): only
    // --force imports them a second time.
    assert!(tool("ivre-p0f2db", &db, &args, None).status.success());
    assert_eq!(snapshot(&db), once);
    args.insert(0, "--force");
    assert!(tool("ivre-p0f2db", &db, &args, None).status.success());
    let twice = snapshot(&db);
    assert_eq!(
        db.scalar("SELECT sum(count)::bigint FROM passive"),
        2 * total_once
    );
    assert_eq!(once.len(), twice.len());
    let strip_count = |rows: &[String]| -> Vec<String> {
        rows.iter()
            .map(|r| r.rsplit_once('|').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(strip_count(&once), strip_count(&twice));
}

#[test]
fn malformed_line_is_reported_with_file_and_line_and_skipped() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.log");
    let good = std::fs::read_to_string(data("passive/p0f/p0f-http.log")).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(
        1,
        "[2004/05/13 10:17:07] mod=syn|cli=999.1.2.3/12|srv=1.2.3.4/80|subj=cli|raw_sig=4:1",
    );
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let out = tool(
        "ivre-p0f2db",
        &db,
        &["-s", "TEST", bad.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("bad.log") && err.contains("line 2"), "{err}");
    // The good lines were stored.
    let expected = expected_p0f_counts(&[data("passive/p0f/p0f-http.log")
        .to_string_lossy()
        .into_owned()]);
    assert_eq!(stored_p0f_counts(&db), expected);
}

#[test]
fn dry_run_prints_aggregated_records_and_touches_no_database() {
    let log = std::fs::read(data("passive/p0f/p0f-http.log")).unwrap();
    let out = run_tool(
        "ivre-p0f2db",
        &["-t", "-s", "TEST", "--db", "postgresql://127.0.0.1:1/none"],
        Some(&log),
        |_| {},
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected = expected_p0f_counts(&[data("passive/p0f/p0f-http.log")
        .to_string_lossy()
        .into_owned()]);
    assert_eq!(records.len(), expected.len());
    let total: i64 = records.iter().map(|r| r["count"].as_i64().unwrap()).sum();
    assert_eq!(total, expected.values().sum::<i64>());
}

#[test]
fn zeek_fixture_gives_the_golden_recontypes() {
    use std::io::Read;
    let db = TestDb::new();
    let log = data("passive/zeek/passive_recon.log");
    let out = tool(
        "ivre-passiverecon2db",
        &db,
        &[
            "-s",
            "TEST",
            "--dnsbl-zone",
            "dnsbl.ivre.rocks",
            log.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(data("golden/ivre-passive-records.jsonl.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let mut golden: HashMap<String, i64> = HashMap::new();
    for line in text.lines() {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        let rt = rec["recontype"].as_str().unwrap();
        if !rt.starts_with("P0F") {
            *golden.entry(rt.to_string()).or_default() += 1;
        }
    }
    let stored: HashMap<String, i64> = db
        .client()
        .query("SELECT recontype, count(*) FROM passive GROUP BY 1", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(stored, golden);
    // Name-only DNS records keep their target, and infos are stored.
    assert!(
        db.scalar("SELECT count(*) FROM passive WHERE addr IS NULL AND targetval IS NOT NULL") > 0
    );
    assert!(db.scalar("SELECT count(*) FROM passive WHERE infos ? 'domain'") > 0);
    // Banners and Server headers identified with Nmap's probes (IVRE's
    // expected ssh / imap / http counts for these captures).
    for (service, n) in [("ssh", 4), ("imap", 1), ("http", 21)] {
        let out = tool("ivre-ipinfo", &db, &["--count", "--service", service], None);
        assert_eq!(
            stdout(&out).trim(),
            n.to_string(),
            "{service}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn follow_mode_commits_while_the_feed_pauses() {
    use std::io::Write;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let db = TestDb::new();
    // The schema exists before the tool starts, so that polling the table
    // does not depend on how fast a loaded machine runs the migrations.
    ivre_pg::connect(Some(&db.url)).unwrap();
    let log = std::fs::read_to_string(data("passive/zeek/passive_recon.log")).unwrap();
    let head: String = log.lines().take(300).map(|l| format!("{l}\n")).collect();
    let mut child = tool_command("ivre-passiverecon2db", Some(&db))
        .args(["-s", "LIVE", "--follow", "--flush-seconds", "1"])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(head.as_bytes()).unwrap();
    stdin.flush().unwrap();
    // The pipe stays open: the rows must show up anyway.
    let start = Instant::now();
    let mut stored = 0;
    while stored == 0 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
        stored = db.scalar("SELECT count(*) FROM passive");
    }
    assert!(stored > 0, "nothing committed while the feed was open");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the tool must still be reading"
    );
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
