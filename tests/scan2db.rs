//! ivre-scan2db against a real database: the sample corpus, stdin, bad input.

use crate::common::*;

fn decompressed(name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    bzip2::read::MultiBzDecoder::new(std::fs::File::open(sample(name)).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Everything stored, to check that a failure changed nothing.
fn snapshot(db: &TestDb) -> (i64, i64, i64, i64) {
    (
        db.scalar("SELECT count(*) FROM scan_host"),
        db.scalar("SELECT count(*) FROM scan_file"),
        db.scalar("SELECT count(*) FROM scan_port"),
        db.scalar("SELECT count(*) FROM scan_script"),
    )
}

#[test]
fn sample_corpus_gives_ivres_counts_and_is_imported_once() {
    let db = TestDb::new();
    let out = import_samples(&db);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "10 files: 945 host records (926 addresses: one record per host per scan) in "
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 945);
    assert_eq!(db.scalar("SELECT count(DISTINCT addr) FROM scan_host"), 926);
    assert_eq!(db.scalar("SELECT count(*) FROM scan_file"), 10);
    assert_eq!(
        db.scalar("SELECT sum(host_count)::bigint FROM scan_file"),
        945
    );
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM scan_host WHERE categories = '{TEST}' AND source = 'SOURCE'"
        ),
        945
    );
    // Each file's format: XML is Masscan's when its <nmaprun> says so.
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_file WHERE format = 'masscan-xml'"),
        6
    );
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM scan_file WHERE format LIKE '%-xml' AND format <> scanner || '-xml'"
        ),
        0
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_file WHERE format = 'ivre-json'"),
        1
    );
    // The scancli view agrees.
    let count = tool("ivre-scancli", &db, &["--count"], None);
    assert_eq!(stdout(&count).trim(), "945");
    let short = tool("ivre-scancli", &db, &["--short"], None);
    assert_eq!(stdout(&short).lines().count(), 926);
    // Again: nothing new, exit status 0, a message per file.
    let again = import_samples(&db);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already imported"),
        "{}",
        stderr(&again)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 945);
    assert_eq!(db.scalar("SELECT count(*) FROM scan_file"), 10);
}

#[test]
fn typed_tables_hold_what_people_filter_on() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    // A Masscan SSH banner fingerprinted with Nmap's probes (as IVRE stores it).
    let product: String = db
        .client()
        .query_one(
            "SELECT service_product || ' ' || service_version FROM scan_port p
             JOIN scan_host h ON h.id = p.host_id
             WHERE h.addr = '178.32.164.34' AND p.port = 22",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(product, "OpenSSH 5.9p1 Debian 5ubuntu1.4");
    assert!(
        db.scalar("SELECT count(*) FROM scan_script WHERE name = 'ssl-cert' AND data ? 'ssl-cert'")
            > 0
    );
    assert!(db.scalar("SELECT count(*) FROM scan_hop") > 0);
    assert!(db.scalar("SELECT count(*) FROM scan_osmatch") > 0);
    assert!(db.scalar("SELECT count(*) FROM scan_cpe") > 0);
    assert!(db.scalar("SELECT count(*) FROM scan_hostname WHERE 'com' = ANY(domains)") > 0);
    // The whole record is kept in doc.
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_host WHERE doc->>'addr' = host(addr)"),
        945
    );
}

#[test]
fn stdin_import_and_dedup() {
    let db = TestDb::new();
    let xml = decompressed("nmap-ntlm-all.xml.bz2");
    let out = tool("ivre-scan2db", &db, &["-c", "LAN", "-"], Some(&xml));
    assert!(out.status.success(), "{}", stderr(&out));
    let hosts = db.scalar("SELECT count(*) FROM scan_host");
    assert!(hosts > 0);
    let name: String = db
        .client()
        .query_one("SELECT name FROM scan_file", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, "<stdin>");
    let again = tool("ivre-scan2db", &db, &["-c", "LAN"], Some(&xml));
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already imported"),
        "{}",
        stderr(&again)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), hosts);
    let forced = tool("ivre-scan2db", &db, &["--force", "-"], Some(&xml));
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 2 * hosts);
}

#[test]
fn json_export_round_trips_through_a_second_database() {
    let first = TestDb::new();
    assert!(import_samples(&first).status.success());
    let export = tool("ivre-scancli", &first, &["--json"], None);
    assert!(export.status.success());
    let second = TestDb::new();
    let load = tool(
        "ivre-scan2db",
        &second,
        &["--force", "-"],
        Some(&export.stdout),
    );
    assert!(load.status.success(), "{}", stderr(&load));
    let again = tool("ivre-scancli", &second, &["--json"], None);
    let parse = |out: &[u8]| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (a, b) = (parse(&export.stdout), parse(&again.stdout));
    assert_eq!(a.len(), 945);
    assert_eq!(a, b);
}

#[test]
fn syntax_error_rejects_the_file_and_keeps_the_others() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let xml = decompressed("nmap-ntlm-all.xml.bz2");
    // A mismatched end tag in the middle of the file.
    let text = String::from_utf8(xml).unwrap();
    let at = text.len() / 2 + text[text.len() / 2..].find("</port>").unwrap();
    let xml = format!("{}</prot>{}", &text[..at], &text[at + 7..]);
    let bad = dir.path().join("broken.xml");
    std::fs::write(&bad, &xml).unwrap();
    let good = sample("ipv6_all.xml");
    let out = tool("ivre-scan2db", &db, &[bad.to_str().unwrap(), &good], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("broken.xml") && err.contains("line ") && err.contains("column "),
        "{err}"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM scan_file"), 1);
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_file WHERE name LIKE '%ipv6_all.xml'"),
        1
    );
}

#[test]
fn truncated_file_keeps_complete_hosts_and_warns() {
    let db = TestDb::new();
    let xml = decompressed("nmap-ntlm-all.xml.bz2");
    let text = String::from_utf8_lossy(&xml);
    let complete = text.matches("</host>").count();
    assert!(complete >= 2);
    // Cut inside the last host.
    let cut = text.rfind("</host>").unwrap() - 10;
    let out = tool("ivre-scan2db", &db, &["-"], Some(&xml[..cut]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warn"), "{}", stderr(&out));
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_host"),
        complete as i64 - 1
    );
}

#[test]
fn bad_inputs_give_clear_errors_and_store_nothing() {
    let db = TestDb::new();
    assert!(tool("ivre-scan2db", &db, &[&sample("ipv6_all.xml")], None)
        .status
        .success());
    let before = snapshot(&db);
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<nmaprun scanner="nmap"><host><address addr="192.0.2.1" addrtype="ipv4"/><hostnames><hostname name="&lol2;"/></hostnames></host></nmaprun>"#;
    let mut junk = vec![0u8; 4096];
    for (i, b) in junk.iter_mut().enumerate() {
        *b = (i * 7919 % 251) as u8;
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("entity bomb", bomb.to_vec()),
        ("binary junk", junk),
        (
            "wrong format",
            b"Starting Nmap 7.94 ( https://nmap.org )\nNmap scan report for x\n".to_vec(),
        ),
        ("unknown JSON", b"{\"foo\": 1}\n".to_vec()),
        ("broken JSON", b"{\"addr\": \"192.0.2.1\", \n".to_vec()),
    ];
    for (what, input) in cases {
        let out = tool("ivre-scan2db", &db, &["-"], Some(&input));
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("<stdin>") && err.lines().count() <= 3,
            "{what}: {err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert_eq!(snapshot(&db), before, "{what}");
    }
    // An empty file is not an error; it is not recorded as imported.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.xml");
    std::fs::write(&empty, b"").unwrap();
    for (file, input) in [(empty.to_str().unwrap(), None), ("-", Some(&b" \n"[..]))] {
        let out = tool("ivre-scan2db", &db, &[file], input);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
        assert_eq!(snapshot(&db), before, "{file}");
    }
    // A missing file is an error; the run goes on.
    let out = tool("ivre-scan2db", &db, &["/nonexistent/scan.xml"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/nonexistent/scan.xml"));
}

#[test]
fn deep_nesting_is_refused_with_its_place_not_a_crash() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    // 40,000 nested tables in a script overflowed the stack (exit 134).
    let levels = 40_000;
    let script = format!(
        "<script id=\"x\" output=\"y\">{}<elem>1</elem>{}</script>",
        "<table>".repeat(levels),
        "</table>".repeat(levels)
    );
    let prefix = "<host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"80\">";
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\">\n{prefix}{script}</port></ports></host>\n</nmaprun>\n"
    );
    let deep = dir.path().join("deep.xml");
    std::fs::write(&deep, &xml).unwrap();
    let out = tool("ivre-scan2db", &db, &[deep.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    // The first refused element is the 96th table (depth 101).
    let column = prefix.len() + r#"<script id="x" output="y">"#.len() + 95 * "<table>".len() + 1;
    assert!(
        err.contains("deep.xml")
            && err.contains(&format!("line 3, column {column}"))
            && err.contains("nested more than"),
        "{err}"
    );
    assert!(!err.contains("overflow"), "{err}");
    assert_eq!(db.scalar("SELECT count(*) FROM scan_file"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 0);
}

#[test]
fn live_nmap_from_stdin() {
    let Ok(nmap) = std::process::Command::new("nmap")
        .args(["-oX", "-", "-Pn", "-n", "-p", "1,9", "127.0.0.1"])
        .output()
    else {
        eprintln!("nmap is not installed: skipping the live nmap test");
        return;
    };
    assert!(nmap.status.success());
    let db = TestDb::new();
    let out = tool(
        "ivre-scan2db",
        &db,
        &["-c", "LIVE", "-s", "test"],
        Some(&nmap.stdout),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_host WHERE addr = '127.0.0.1'"),
        1
    );
    let scanner: String = db
        .client()
        .query_one("SELECT scanner FROM scan_file", &[])
        .unwrap()
        .get(0);
    assert_eq!(scanner, "nmap");
}
