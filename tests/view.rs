//! `ivre-db2view` and `ivre-view`: IVRE's view expectations (spec §2.11)
//! that our data allows, and what IVRE lacks: incremental builds that
//! follow deletions, idempotent runs, a view independent of import order.
//!
//! Data: IVRE's ten sample scans (tests/data/ivre-samples), the Zeek log
//! derived from IVRE's passive test records (tests/data/passive/zeek), and
//! the MaxMind test databases (tests/data/geoip) for the enrichment.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

fn db2view(db: &TestDb, args: &[&str]) -> Output {
    let out = tool("ivre-db2view", db, args, None);
    assert!(
        out.status.success(),
        "ivre-db2view {args:?} failed: {}",
        stderr(&out)
    );
    out
}

fn view(db: &TestDb, args: &[&str]) -> String {
    let out = tool("ivre-view", db, args, None);
    assert!(
        out.status.success(),
        "ivre-view {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

fn view_count(db: &TestDb, args: &[&str]) -> i64 {
    let mut a = vec!["--count"];
    a.extend_from_slice(args);
    view(db, &a).trim().parse().expect("a number")
}

/// The hosts `ivre-db2view --test` prints, by address.
fn test_hosts(db: &TestDb, args: &[&str]) -> BTreeMap<String, Value> {
    let mut a = vec!["--test"];
    a.extend_from_slice(args);
    by_addr(&stdout(&db2view(db, &a)))
}

/// The stored view, by address.
fn stored(db: &TestDb) -> BTreeMap<String, Value> {
    by_addr(&view(db, &["--json"]))
}

fn by_addr(lines: &str) -> BTreeMap<String, Value> {
    let mut hosts = BTreeMap::new();
    for line in lines.lines() {
        let host: Value = serde_json::from_str(line).expect("one JSON host per line");
        let addr = host["addr"].as_str().expect("addr").to_string();
        assert!(
            hosts.insert(addr.clone(), host).is_none(),
            "{addr} twice: one record per address"
        );
    }
    hosts
}

fn import_passive(db: &TestDb) {
    let log = data("passive/zeek/passive_recon.log");
    let out = tool(
        "ivre-passiverecon2db",
        db,
        &["-s", "TEST", log.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

fn import_scan(db: &TestDb, args: &[&str]) {
    let out = tool("ivre-scan2db", db, args, None);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Distinct addresses of the scan and passive records (`extra`: an SQL
/// condition on `addr`).
fn distinct_addrs(db: &TestDb, extra: &str) -> i64 {
    db.scalar(&format!(
        "SELECT count(*) FROM (SELECT addr FROM scan_host UNION SELECT addr FROM passive \
         WHERE addr IS NOT NULL) a WHERE {extra}"
    ))
}

#[test]
fn nmap_samples_give_one_host_per_address() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    assert_eq!(view_count(&db, &[]), 0);
    // IVRE: one --test line per host, as many as then stored (926).
    let tested = test_hosts(&db, &["nmap"]);
    assert_eq!(tested.len(), 926);
    let out = db2view(&db, &[]);
    assert!(
        stderr(&out).contains("full build: 926 host(s)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(view_count(&db, &[]), 926);
    assert_eq!(view(&db, &["--short"]).lines().count(), 926);
    assert_eq!(stored(&db), tested);
    assert_eq!(view_count(&db, &["--category", "TEST"]), 926);
    assert_eq!(view_count(&db, &["--source", "SOURCE"]), 926);
    // The scan filters read the view's tables.
    assert_eq!(
        view_count(&db, &["--port", "502"]),
        db.scalar(
            "SELECT count(DISTINCT h.addr) FROM scan_host h JOIN scan_port p ON p.host_id = h.id \
             WHERE p.port = 502 AND p.state = 'open' AND p.protocol = 'tcp'"
        )
    );
    // A second run has nothing to do, and says so in one line.
    let again = db2view(&db, &[]);
    assert_eq!(
        stderr(&again).trim(),
        "ivre-db2view: the view is up to date (no record changed since the last build)"
    );
    assert!(stdout(&again).is_empty());
    // A full rebuild gives the same records.
    db2view(&db, &["--full"]);
    assert_eq!(stored(&db), tested);
    assert_eq!(db.scalar("SELECT count(*) FROM view_build"), 2);
}

#[test]
fn restricted_test_builds() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    import_passive(&db);
    let net = distinct_addrs(&db, "addr <<= '192.168.0.0/16'");
    assert!(net > 0);
    let by_net = test_hosts(&db, &["--net", "192.168.0.0/16"]);
    assert_eq!(by_net.len() as i64, net);
    let by_range = test_hosts(&db, &["--range", "192.168.0.0", "192.168.255.255"]);
    assert_eq!(by_range, by_net);
    let one = test_hosts(&db, &["--host", by_net.keys().next().unwrap()]);
    assert_eq!(one.len(), 1);
    // --test writes nothing.
    assert_eq!(db.scalar("SELECT count(*) FROM view_host"), 0);
    assert!(db.scalar("SELECT count(*) FROM view_pending") > 0);
}

#[test]
fn passive_and_nmap_builds_merged_with_a_category() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    import_passive(&db);
    let passive = db.scalar("SELECT count(DISTINCT addr) FROM passive");
    assert_eq!(test_hosts(&db, &["passive"]).len() as i64, passive);
    db2view(&db, &["passive"]);
    assert_eq!(view_count(&db, &[]), passive);
    // Without a terminal, --init wants --yes; then it says what it removed.
    let out = tool("ivre-view", &db, &["--init"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(view_count(&db, &[]), passive);
    let out = tool("ivre-view", &db, &["--init", "--yes"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("ivre-view: {passive} view records deleted\n")
    );
    assert_eq!(view_count(&db, &[]), 0);
    db2view(&db, &["nmap"]);
    assert_eq!(view_count(&db, &[]), 926);
    db2view(&db, &["--view-category", "PASSIVE", "passive"]);
    let both = distinct_addrs(&db, "true");
    assert!(both < 926 + passive, "some addresses are in both");
    assert_eq!(view_count(&db, &[]), both);
    assert_eq!(view_count(&db, &["--category", "PASSIVE"]), passive);
    // The merged hosts carry both purposes' sources and categories.
    let merged = view_count(&db, &["--category", "PASSIVE", "--source", "SOURCE"]);
    assert_eq!(merged, 926 + passive - both);
    // As in IVRE's test (926 + 150 passive hosts give 1069).
    assert_eq!(merged, 7);
    assert_eq!(
        view_count(&db, &["--category", "TEST", "--category", "PASSIVE"]),
        merged
    );
    // --no-merge: the passive hosts replace the records of their address.
    db2view(&db, &["--no-merge", "passive"]);
    assert_eq!(view_count(&db, &[]), both);
    assert_eq!(view_count(&db, &["--source", "SOURCE"]), 926 - merged);
    assert_eq!(view_count(&db, &["--category", "PASSIVE"]), 0);
    db2view(&db, &["--view-category", "PASSIVE", "nmap"]);
    assert_eq!(view_count(&db, &["--category", "PASSIVE"]), 926);
    assert_eq!(
        view_count(&db, &["--source", "SOURCE", "--source", "TEST"]),
        merged
    );
    // DNS answers alone do not make a host up: --gnmap lists the up ones.
    let up = db.scalar("SELECT count(*) FROM view_host WHERE state = 'up'");
    assert!(up < both);
    let gnmap = view(&db, &["--gnmap"]);
    assert_eq!(
        gnmap.lines().filter(|l| l.contains("Status: Up")).count() as i64,
        up
    );
}

#[test]
fn outputs() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    db2view(&db, &[]);
    let json = view(&db, &["--json"]);
    assert_eq!(json.lines().count(), 926);
    let xml = view(&db, &["--nmap-xml", "--port", "102"]);
    assert_eq!(
        xml.matches("</host>").count() as i64,
        view_count(&db, &["--port", "102"])
    );
    let csv = view(&db, &["--csv", "ports", "--port", "22"]);
    assert_eq!(csv.lines().next(), Some("addr,port,state"));
    let top = view(&db, &["--top", "source"]);
    assert_eq!(top.trim(), "SOURCE: 926");
    let distinct = view(&db, &["--distinct", "source"]);
    assert_eq!(distinct.trim(), "SOURCE");
    let tags = view(&db, &["--top", "tag"]);
    assert!(tags.contains("Reserved address"), "{tags}");
    let reserved: i64 = tags
        .lines()
        .find_map(|l| l.strip_prefix("Reserved address: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(view_count(&db, &["--tag", "Reserved address"]), reserved);
    // Deleting from the view leaves the scan results alone.
    view(&db, &["--delete", "--yes", "--port", "102"]);
    assert_eq!(view_count(&db, &["--port", "102"]), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 945);
}

/// A directory like geoipupdate's with the GeoLite2 test databases.
fn geoip_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ASN", "Country", "City"] {
        std::fs::copy(
            data(&format!("geoip/GeoLite2-{kind}-Test.mmdb")),
            dir.path().join(format!("GeoLite2-{kind}.mmdb")),
        )
        .unwrap();
    }
    dir
}

/// Hosts at addresses the MaxMind test databases know.
fn geo_scan(dir: &Path) -> String {
    let hosts = [
        ("81.2.69.142", 80),    // GB, London
        ("2.125.160.217", 22),  // GB, Boxford
        ("89.160.20.115", 443), // SE, Linköping, AS29518
        ("216.160.83.58", 25),  // US, Milton, AS209
        ("175.16.199.5", 8080), // CN, Changchun
        ("192.0.2.9", 80),      // documentation range: not in the databases
    ];
    let lines: Vec<String> = hosts
        .iter()
        .map(|(addr, port)| {
            serde_json::json!({
                "addr": addr, "state": "up", "schema_version": 22,
                "starttime": "2024-01-02 03:04:05", "endtime": "2024-01-02 03:05:05",
                "ports": [{"protocol": "tcp", "port": port, "state_state": "open"}],
            })
            .to_string()
        })
        .collect();
    let path = dir.join("geo.json");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn country_and_as_filters_on_enriched_hosts() {
    let db = TestDb::new();
    let geoip = geoip_dir();
    import_scan(&db, &["-s", "GEO", &geo_scan(geoip.path())]);
    db2view(&db, &["--geoip-dir", geoip.path().to_str().unwrap()]);
    assert_eq!(view_count(&db, &[]), 6);
    assert_eq!(view_count(&db, &["--country", "EU,GB,CH,NO"]), 3);
    assert_eq!(view_count(&db, &["--country", "UK"]), 2);
    assert_eq!(view_count(&db, &["--country", "GB"]), 2);
    assert_eq!(view_count(&db, &["--country", "!UK"]), 4);
    assert_eq!(view_count(&db, &["--country", "/^(C|U)/"]), 2);
    assert_eq!(view_count(&db, &["--city", "London"]), 1);
    assert_eq!(view_count(&db, &["--asnum", "AS29518,209"]), 2);
    assert_eq!(view_count(&db, &["--asnum", "-29518"]), 5);
    assert_eq!(view_count(&db, &["--asname", "/bredband/i"]), 1);
    assert_eq!(view_count(&db, &["--country", "SE", "--port", "443"]), 1);
    let top = view(&db, &["--top", "country"]);
    assert_eq!(top.lines().next(), Some("GB / United Kingdom: 2"), "{top}");
    let top = view(&db, &["--top", "asnum"]);
    assert_eq!(top, "209: 1\n29518: 1\n");
    let top = view(&db, &["--top", "city", "--limit", "1"]);
    assert_eq!(top, "CN / Changchun: 1\n");
    let csv = view(
        &db,
        &[
            "--csv",
            "ports",
            "--csv-add-infos",
            "--host",
            "89.160.20.115",
        ],
    );
    assert_eq!(
        csv,
        "addr,port,state,country_code,as_num\n89.160.20.115,443,open,SE,29518\n"
    );
    // Coordinates of the London host: IVRE's [latitude, longitude].
    let london = by_addr(&view(&db, &["--json", "--city", "London"]));
    let coords = &london["81.2.69.142"]["infos"]["coordinates"];
    assert!((coords[0].as_f64().unwrap() - 51.5).abs() < 0.1, "{coords}");
    // The reserved documentation address is tagged, with no infos.
    let doc = &by_addr(&view(&db, &["--json", "--host", "192.0.2.9"]))["192.0.2.9"];
    assert!(doc.get("infos").is_none(), "{doc}");
    assert_eq!(view_count(&db, &["--tag", "Reserved address"]), 1);
    // Without GeoIP files, the view is built, without infos.
    let empty = tempfile::tempdir().unwrap();
    let out = run_tool("ivre-db2view", &["--full"], None, |cmd| {
        cmd.env("IVRE_DB", &db.url)
            .env("IVRE_GEOIP_DIR", empty.path());
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no MaxMind database found"),
        "{}",
        stderr(&out)
    );
    assert_eq!(view_count(&db, &[]), 6);
    assert_eq!(view_count(&db, &["--country", "GB"]), 0);
}

#[test]
fn deleting_a_scan_removes_what_only_it_contributed() {
    let db = TestDb::new();
    let t22 = sample("test-T22.xml.bz2");
    let t443 = sample("test-T443.xml.bz2");
    import_scan(&db, &["-s", "A", &t22]);
    import_scan(&db, &["-s", "B", "--force", &t22, &t443]);
    db2view(&db, &[]);
    let t22_hosts = db.scalar("SELECT count(DISTINCT addr) FROM scan_host WHERE source = 'A'");
    let all = distinct_addrs(&db, "true");
    assert_eq!(view_count(&db, &[]), all);
    assert_eq!(
        view_count(&db, &["--source", "A", "--source", "B"]),
        t22_hosts
    );
    let out = tool(
        "ivre-scancli",
        &db,
        &["--delete", "--yes", "--source", "B"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = db2view(&db, &[]);
    let removed = all - t22_hosts;
    assert!(
        stderr(&out).contains(&format!("{t22_hosts} host(s) written, {removed} removed")),
        "{}",
        stderr(&out)
    );
    assert_eq!(view_count(&db, &[]), t22_hosts);
    assert_eq!(view_count(&db, &["--source", "B"]), 0);
    assert_eq!(
        view_count(&db, &["--port", "443"]),
        db.scalar(
            "SELECT count(DISTINCT h.addr) FROM scan_host h JOIN scan_port p ON p.host_id = h.id \
                   WHERE p.port = 443 AND p.state = 'open'"
        )
    );
    // The view is what a build from the records left gives.
    assert_eq!(stored(&db), test_hosts(&db, &[]));
}

#[test]
fn incremental_builds_follow_imports_and_passive_deletions() {
    let db = TestDb::new();
    import_scan(&db, &["-s", "A", &sample("test-T22.xml.bz2")]);
    db2view(&db, &[]);
    import_passive(&db);
    let pending = db.scalar("SELECT count(*) FROM view_pending");
    assert_eq!(
        pending,
        db.scalar("SELECT count(DISTINCT addr) FROM passive")
    );
    let out = db2view(&db, &[]);
    assert!(
        stderr(&out).contains("incremental build"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stored(&db), test_hosts(&db, &[]));
    assert_eq!(db.scalar("SELECT count(*) FROM view_pending"), 0);
    let out = tool(
        "ivre-ipinfo",
        &db,
        &["--delete", "--yes", "--recontype", "DNS_ANSWER"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(db.scalar("SELECT count(*) FROM view_pending") > 0);
    db2view(&db, &[]);
    assert_eq!(stored(&db), test_hosts(&db, &[]));
    assert_eq!(view_count(&db, &[]), distinct_addrs(&db, "true"));
}

#[test]
fn import_order_does_not_change_the_view() {
    let files = [
        sample("nmap-ntlm-all.xml.bz2"),
        sample("nmap-ntlm-smb.xml.bz2"),
        sample("masscan-ntlm-smb.xml.bz2"),
    ];
    let build = |order: &[usize]| {
        let db = TestDb::new();
        for &i in order {
            import_scan(&db, &["-s", &format!("S{i}"), &files[i]]);
        }
        import_passive(&db);
        db2view(&db, &[]);
        stored(&db)
    };
    let forward = build(&[0, 1, 2]);
    assert!(forward.len() > 1);
    assert_eq!(build(&[2, 1, 0]), forward);
}

#[test]
fn a_second_build_at_the_same_time_does_nothing() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    let mut holder = db.client();
    ivre_pg::migrate::migrate(&mut holder).unwrap();
    // The lock a build holds ("VIEW", 0).
    holder
        .execute("SELECT pg_advisory_lock(1447642455, 0)", &[])
        .unwrap();
    let out = db2view(&db, &[]);
    assert_eq!(
        stderr(&out).trim().lines().last(),
        Some("ivre-db2view: another ivre-db2view is running; nothing done")
    );
    assert_eq!(view_count(&db, &[]), 0);
    drop(holder);
    db2view(&db, &[]);
    assert_eq!(view_count(&db, &[]), 926);
}

#[test]
fn importers_update_the_view_when_asked() {
    let db = TestDb::new();
    import_scan(
        &db,
        &["--update-view", "-s", "A", &sample("test-T22.xml.bz2")],
    );
    assert_eq!(
        view_count(&db, &[]),
        db.scalar("SELECT count(DISTINCT addr) FROM scan_host")
    );
    let log = data("passive/zeek/passive_recon.log");
    let out = tool(
        "ivre-passiverecon2db",
        &db,
        &["--update-view", "-s", "TEST", log.to_str().unwrap()],
        None,
    );
    assert!(
        stderr(&out).contains("incremental build"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM view_pending"), 0);
    assert_eq!(stored(&db), test_hosts(&db, &[]));
}

#[test]
fn arguments() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    import_scan(&db, &["-s", "GEO", &geo_scan(dir.path())]);
    // Positional addresses stop at the purpose.
    let hosts = test_hosts(&db, &["81.2.69.142", "192.0.2.0/24", "nmap"]);
    assert_eq!(
        hosts.keys().collect::<Vec<_>>(),
        ["192.0.2.9", "81.2.69.142"]
    );
    let out = tool("ivre-db2view", &db, &["--full", "nmap"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = tool("ivre-db2view", &db, &["--test", "--full"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(db.scalar("SELECT count(*) FROM view_build"), 0);
}
