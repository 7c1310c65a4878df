//! The flow purpose through its tools: IVRE's oracles (NetFlow: 22 clients,
//! 55 servers, 65 flows; cleanup: 2 flows), exactly-once imports, the
//! external tools (nfdump, racluster) and their absence, Argus against
//! nfdump, the flowcli outputs, partitions. The fixtures are in
//! tests/data/flow (see its README). Tests that need nfdump or racluster
//! say so and pass when they are not installed (`.ci/run` installs them).

use crate::common::{data, run_tool, stderr, stdout, tool, TestDb};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Whether `tool` is on PATH.
pub fn installed(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

/// A directory holding Nmap's `nmap-services` (for the server-side guess
/// of NetFlow records), decompressed from the fixtures.
pub fn nmapdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(flow_data("nmap-services.gz")).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    std::fs::write(dir.path().join("nmap-services"), text).unwrap();
    dir
}

pub fn flow_data(rel: &str) -> PathBuf {
    data(&format!("flow/{rel}"))
}

pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs a tool on `db` with Nmap's port list from `nmap`.
pub fn flow_tool(
    name: &str,
    db: &TestDb,
    nmap: &Path,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> Output {
    run_tool(name, args, stdin, |cmd| {
        cmd.env("IVRE_DB", &db.url).env("NMAPDIR", nmap);
    })
}

/// `ivre-flowcli ARGS` on `db`, which must succeed; its stdout.
pub fn flowcli(db: &TestDb, args: &[&str]) -> String {
    let out = run_tool("ivre-flowcli", args, None, |cmd| {
        cmd.env("IVRE_DB", &db.url);
    });
    assert!(out.status.success(), "flowcli {args:?}: {}", stderr(&out));
    stdout(&out)
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "status {:?}: {}",
        out.status.code(),
        stderr(out)
    );
}

fn counts(c: u32, s: u32, f: u32) -> String {
    format!("{c} clients\n{s} servers\n{f} flows\n")
}

/// Every stored flow, as text, in a stable order (to compare databases).
pub fn snapshot(db: &TestDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT f::text FROM (SELECT src, dst, proto, dport, type, count, cspkts, scpkts,
                 csbytes, scbytes, firstseen, lastseen, sports, codes, times, meta
                 FROM flow_total) f ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn netflow_oracle_from_nfdump_text() {
    // The CSV nfdump writes for IVRE's capture, on stdin: no nfdump needed.
    let db = TestDb::new();
    let nmap = nmapdir();
    let csv = std::fs::read(flow_data("nfcapd.csv")).unwrap();
    let out = flow_tool("ivre-flow2db", &db, nmap.path(), &[], Some(&csv));
    ok(&out);
    assert_eq!(flowcli(&db, &["--count"]), counts(22, 55, 65));
    // Forced type, from a file.
    let db = TestDb::new();
    let f = flow_data("nfcapd.csv");
    ok(&flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &["-t", "netflow", path(&f)],
        None,
    ));
    assert_eq!(flowcli(&db, &["--count"]), counts(22, 55, 65));
}

#[test]
fn netflow_oracle_through_nfdump() {
    if !installed("nfdump") {
        eprintln!("nfdump not installed (Debian package nfdump): test skipped");
        return;
    }
    let db = TestDb::new();
    let nmap = nmapdir();
    let f = flow_data("nfcapd");
    let out = flow_tool("ivre-flow2db", &db, nmap.path(), &[path(&f)], None);
    ok(&out);
    assert_eq!(flowcli(&db, &["--count"]), counts(22, 55, 65));
    // The same flows as from nfdump's CSV text.
    let text = TestDb::new();
    let csv = std::fs::read(flow_data("nfcapd.csv")).unwrap();
    ok(&flow_tool(
        "ivre-flow2db",
        &text,
        nmap.path(),
        &[],
        Some(&csv),
    ));
    let keys = |db: &TestDb| {
        // nfdump aggregates records of one 5-tuple (-a): counts differ, traffic does not.
        flowcli(
            db,
            &[
                "-o", "src", "-s", ",", "--fields", "csbytes", "scbytes", "cspkts", "scpkts",
            ],
        )
        .lines()
        .map(str::to_owned)
        .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(keys(&db), keys(&text));
}

#[test]
fn missing_tools_name_their_package() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let empty = tempfile::tempdir().unwrap();
    for (file, package) in [
        (flow_data("nfcapd"), "nfdump"),
        (flow_data("argus/argus-http.argus"), "argus-client"),
    ] {
        let out = run_tool("ivre-flow2db", &[path(&file)], None, |cmd| {
            cmd.env("IVRE_DB", &db.url)
                .env("NMAPDIR", nmap.path())
                .env("PATH", empty.path());
        });
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("apt-get install {package}")),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(flowcli(&db, &["--count"]), counts(0, 0, 0));
}

#[test]
fn cleanup_oracle() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let log = flow_data("mongo_conn.log");
    ok(&flow_tool(
        "ivre-zeek2db",
        &db,
        nmap.path(),
        &["-C", path(&log)],
        None,
    ));
    assert_eq!(flowcli(&db, &["--count"]), counts(3, 3, 12));
    let before: i64 = db.scalar("SELECT sum(count)::int8 FROM flow_total");
    assert_eq!(before, 70);
    flowcli(&db, &["--cleanup"]);
    assert_eq!(flowcli(&db, &["--count"]), counts(2, 2, 2));
    // Reversed, not multiplied: every connection counted once.
    assert_eq!(db.scalar("SELECT sum(count)::int8 FROM flow_total"), 70);
    assert_eq!(
        flowcli(&db, &["-o", "src"]),
        "192.168.4.1                   | udp/138   | 192.168.4.255\n\
         192.168.4.11                  | tcp/27017 | 192.168.4.10\n"
    );
    // zeek2db cleans up by itself.
    let db = TestDb::new();
    ok(&flow_tool(
        "ivre-zeek2db",
        &db,
        nmap.path(),
        &[path(&log)],
        None,
    ));
    assert_eq!(flowcli(&db, &["--count"]), counts(2, 2, 2));
}

#[test]
fn importing_a_file_twice_changes_nothing() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let log = flow_data("mongo_conn.log");
    let csv = flow_data("nfcapd.csv");
    let args = [path(&log), path(&csv)];
    ok(&flow_tool(
        "ivre-zeek2db",
        &db,
        nmap.path(),
        &args[..1],
        None,
    ));
    ok(&flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &args[1..],
        None,
    ));
    let first = snapshot(&db);
    assert_eq!(first.len(), 2 + 65);
    let again = flow_tool("ivre-zeek2db", &db, nmap.path(), &args[..1], None);
    ok(&again);
    assert!(
        stderr(&again).contains("already imported"),
        "{}",
        stderr(&again)
    );
    ok(&flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &args[1..],
        None,
    ));
    assert_eq!(snapshot(&db), first);
    assert_eq!(
        db.scalar("SELECT count(*) FROM flow_file WHERE finished"),
        2
    );
    // The same content compressed is the same file.
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("conn.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &std::fs::read(&log).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    ok(&flow_tool(
        "ivre-zeek2db",
        &db,
        nmap.path(),
        &[path(&gz)],
        None,
    ));
    assert_eq!(snapshot(&db), first);
    // --force imports it again: counters double, sets stay sets.
    ok(&flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &["--force", path(&csv)],
        None,
    ));
    assert_eq!(db.scalar("SELECT count(*) FROM flow_total"), 67);
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM flow_total
             WHERE cardinality(sports) <> (SELECT count(DISTINCT s) FROM unnest(sports) s)"
        ),
        0
    );
}

#[test]
fn concurrent_imports_of_one_file_import_it_once() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let csv = flow_data("nfcapd.csv");
    // Small batches: many commits for the two runs to interleave.
    let args = ["--batch-size", "5", path(&csv)];
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (db_url, nmap) = (db.url.clone(), nmap.path().to_owned());
            let args = args.map(str::to_owned);
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run_tool("ivre-flow2db", &args, None, |cmd| {
                    cmd.env("IVRE_DB", &db_url).env("NMAPDIR", &nmap);
                })
            })
        })
        .collect();
    for r in runs {
        ok(&r.join().unwrap());
    }
    assert_eq!(flowcli(&db, &["--count"]), counts(22, 55, 65));
    let single = TestDb::new();
    ok(&flow_tool(
        "ivre-flow2db",
        &single,
        nmap.path(),
        &[path(&csv)],
        None,
    ));
    assert_eq!(snapshot(&db), snapshot(&single));
}

#[test]
fn an_interrupted_import_resumes() {
    // An import that stopped after its first batches: the provenance row
    // says how many lines are committed; the same command completes it.
    let db = TestDb::new();
    let nmap = nmapdir();
    let csv = flow_data("nfcapd.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let head = dir.path().join("head.csv");
    // The first 100 lines (header and 99 records), imported as the real file.
    let first: String = text.lines().take(100).map(|l| format!("{l}\n")).collect();
    std::fs::write(&head, &first).unwrap();
    ok(&flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &["-C", path(&head)],
        None,
    ));
    let full_sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    // Make that import the unfinished one of the whole file.
    db.client()
        .execute(
            "UPDATE flow_file SET sha256 = $1, finished = false, finished_at = NULL",
            &[&full_sha],
        )
        .unwrap();
    let out = flow_tool("ivre-flow2db", &db, nmap.path(), &[path(&csv)], None);
    ok(&out);
    assert!(
        stderr(&out).contains("resuming after line 100"),
        "{}",
        stderr(&out)
    );
    let single = TestDb::new();
    ok(&flow_tool(
        "ivre-flow2db",
        &single,
        nmap.path(),
        &[path(&csv)],
        None,
    ));
    assert_eq!(snapshot(&db), snapshot(&single));
}

#[test]
fn argus_and_nfdump_of_one_capture_agree() {
    if !installed("racluster") || !installed("nfdump") {
        eprintln!("racluster or nfdump not installed (argus-client, nfdump): test skipped");
        return;
    }
    let nmap = nmapdir();
    let argus = TestDb::new();
    let f = flow_data("argus/argus-http.argus");
    ok(&flow_tool(
        "ivre-flow2db",
        &argus,
        nmap.path(),
        &[path(&f)],
        None,
    ));
    let nf = TestDb::new();
    let dir = flow_data("nfdump-captures");
    ok(&flow_tool(
        "ivre-flow2db",
        &nf,
        nmap.path(),
        &["-r", path(&dir)],
        None,
    ));
    let keys = |db: &TestDb| -> Vec<String> {
        db.client()
            .query(
                "SELECT concat_ws(' ', src, dst, proto, dport) FROM flow_total
                 WHERE proto IN ('tcp', 'udp') ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let k = keys(&argus);
    assert!(!k.is_empty());
    assert_eq!(k, keys(&nf));
    // The packets the two tools saw for the same capture.
    let packets = |db: &TestDb| {
        db.scalar("SELECT sum(cspkts + scpkts)::int8 FROM flow_total WHERE proto IN ('tcp', 'udp')")
    };
    assert_eq!(packets(&argus), packets(&nf));
    // Through racluster's CSV text on stdin, the same.
    let text = TestDb::new();
    let csv = std::fs::read(flow_data("argus/racluster-http.csv")).unwrap();
    ok(&flow_tool(
        "ivre-flow2db",
        &text,
        nmap.path(),
        &["-t", "argus"],
        Some(&csv),
    ));
    assert_eq!(snapshot(&text), snapshot(&argus));
}

#[test]
fn iptables_lines_with_a_year() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let f = flow_data("iptables.log");
    // A file of no known type is skipped with a warning.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "hello\n").unwrap();
    let out = flow_tool("ivre-flow2db", &db, nmap.path(), &[path(&junk)], None);
    ok(&out);
    assert!(
        stderr(&out).contains("unknown file type"),
        "{}",
        stderr(&out)
    );
    let out = flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &["-t", "iptables", "--year", "2020", path(&f)],
        None,
    );
    ok(&out);
    assert_eq!(db.scalar("SELECT sum(count)::int8 FROM flow_total"), 40);
    assert_eq!(
        db.scalar("SELECT count(*) FROM flow_total WHERE extract(year FROM firstseen) <> 2020"),
        0
    );
    // The year is part of how the file is read: another year is another import.
    let out = flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &["-t", "iptables", "--year", "2021", path(&f)],
        None,
    );
    ok(&out);
    assert_eq!(db.scalar("SELECT sum(count)::int8 FROM flow_total"), 80);
}

#[test]
fn months_are_partitions() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let f = flow_data("iptables.log");
    for year in ["2020", "2021"] {
        ok(&flow_tool(
            "ivre-flow2db",
            &db,
            nmap.path(),
            &["-C", "-t", "iptables", "--year", year, path(&f)],
            None,
        ));
    }
    let partitions: Vec<String> = db
        .client()
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'flow'::regclass ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        partitions.iter().any(|p| p.starts_with("flow_y2020m")),
        "{partitions:?}"
    );
    assert!(
        partitions.iter().any(|p| p.starts_with("flow_y2021m")),
        "{partitions:?}"
    );
    let total = flowcli(&db, &["--count"]);
    // Every flow has rows in both years.
    let flows = db.scalar("SELECT count(*) FROM flow_total");
    for year in ["2020", "2021"] {
        assert_eq!(
            db.scalar(&format!(
                "SELECT count(DISTINCT key_id) FROM flow WHERE extract(year FROM period) = {year}"
            )),
            flows
        );
    }
    // Forgetting 2020 is detaching its partitions (flow_forget_month, or
    // by hand and then flow_refresh_totals); the flows stay, with 2021 only.
    let mut c = db.client();
    let mut by_hand = true;
    for p in partitions.iter().filter(|p| p.starts_with("flow_y2020m")) {
        if by_hand {
            c.batch_execute(&format!(
                "ALTER TABLE flow DETACH PARTITION {p}; DROP TABLE {p}; SELECT flow_refresh_totals()"
            ))
            .unwrap();
            by_hand = false;
            continue;
        }
        let month: i32 = p["flow_y2020m".len()..].parse().unwrap();
        let forgot: bool = c
            .query_one(
                "SELECT flow_forget_month(make_date(2020, $1, 1))",
                &[&month],
            )
            .unwrap()
            .get(0);
        assert!(forgot, "{p}");
    }
    let forgot: bool = c
        .query_one("SELECT flow_forget_month('1999-01-01')", &[])
        .unwrap()
        .get(0);
    assert!(!forgot);
    assert_eq!(flowcli(&db, &["--count"]), total);
    assert_eq!(db.scalar("SELECT sum(count)::int8 FROM flow_total"), 40);
    assert_eq!(
        db.scalar("SELECT count(*) FROM flow_total WHERE extract(year FROM firstseen) <> 2021"),
        0
    );
    // --init drops every partition; without a terminal it wants --yes, and
    // it says how many flows it removed.
    let flows = db.scalar("SELECT count(*) FROM flow_key");
    let out = tool("ivre-flowcli", &db, &["--init"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(db.scalar("SELECT count(*) FROM flow_key"), flows);
    let out = tool("ivre-flowcli", &db, &["--init", "--yes"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("ivre-flowcli: {flows} flows deleted\n")
    );
    assert_eq!(flowcli(&db, &["--count"]), counts(0, 0, 0));
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = 'flow'::regclass"),
        0
    );
}

#[test]
fn zeek_protocol_logs_add_metadata() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let logs: Vec<PathBuf> = ["dns-head", "ssl-head", "rdp-head"]
        .iter()
        .map(|n| flow_data(&format!("zeek/{n}.log.gz")))
        .chain(
            ["snmp", "ssh", "modbus"]
                .iter()
                .map(|n| flow_data(&format!("zeek/{n}.log.gz"))),
        )
        .collect();
    let args: Vec<&str> = logs.iter().map(|p| path(p)).collect();
    ok(&flow_tool("ivre-zeek2db", &db, nmap.path(), &args, None));
    for log in ["dns", "ssl", "rdp", "snmp", "ssh", "modbus"] {
        let n: i64 = flowcli(&db, &["--count", "-f", &format!("meta.{log}")])
            .lines()
            .nth(2)
            .and_then(|l| l.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(n > 0, "meta.{log}");
    }
    // Only protocol logs: no counters.
    assert_eq!(flowcli(&db, &["--count", "-f", "count"]), counts(0, 0, 0));
    // The metadata values are sets, and meta.<log>.count counts entries.
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM flow_total f, jsonb_each(f.meta) l(log, m), jsonb_each(l.m) k(key, v)
             WHERE jsonb_typeof(k.v) = 'array'
               AND jsonb_array_length(k.v) <> (SELECT count(DISTINCT e) FROM jsonb_array_elements(k.v) e)"
        ),
        0
    );
    let entries = db.scalar("SELECT sum((meta -> 'dns' ->> 'count')::int8)::int8 FROM flow_total");
    assert!(entries > 0 && entries <= 400, "{entries}");
    let out = flowcli(&db, &["--count", "-f", "meta.dns.query =~ com$"]);
    assert!(!out.starts_with("0 clients"), "{out}");
}
