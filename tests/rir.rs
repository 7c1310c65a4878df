//! `ivre-rirlookup` end to end on an excerpt of the RIPE whois server's
//! test database (tests/data/rir/README): import exactly once, narrowest
//! range lookups, the output forms, searches and errors.

use crate::common::{data, stderr, stdout, tool, TestDb};
use sha2::{Digest, Sha256};
use std::io::Write;

const SAMPLE: &str = "rir/ripe-whois-TEST.db";

fn sample() -> String {
    data(SAMPLE).to_string_lossy().into_owned()
}

/// The objects of the sample the rir purpose keeps, by class (counted
/// from the file itself).
fn objects_in_sample() -> usize {
    std::fs::read_to_string(data(SAMPLE))
        .unwrap()
        .lines()
        .filter(|l| {
            l.starts_with("inetnum:") || l.starts_with("inet6num:") || l.starts_with("aut-num:")
        })
        .count()
}

fn rirlookup(db: &TestDb, args: &[&str]) -> std::process::Output {
    tool("ivre-rirlookup", db, args, None)
}

fn loaded() -> TestDb {
    let db = TestDb::new();
    let out = rirlookup(&db, &["--insert", &sample()]);
    assert!(out.status.success(), "{}", stderr(&out));
    db
}

#[test]
fn insert_once_by_content() {
    let db = TestDb::new();
    let n = objects_in_sample();
    let out = rirlookup(&db, &["--insert", &sample()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{n} RIR objects imported")),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM rir") as usize, n);
    assert_eq!(db.scalar("SELECT count(*) FROM rir_file"), 1);
    // Again, and the same content compressed: skipped.
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("ripe.db.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&std::fs::read(data(SAMPLE)).unwrap())
        .unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for file in [sample(), gz.to_string_lossy().into_owned()] {
        let out = rirlookup(&db, &["--insert", &file]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("already imported"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(db.scalar("SELECT count(*) FROM rir") as usize, n);
    // The provenance: hash of the content, on the file row and every record.
    let sha = hex::encode(Sha256::digest(std::fs::read(data(SAMPLE)).unwrap()));
    let mut c = db.client();
    let row = c
        .query_one("SELECT sha256, objects FROM rir_file", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), sha);
    assert_eq!(row.get::<_, i64>(1) as usize, n);
    let hashes: i64 = c
        .query_one("SELECT count(*) FROM rir WHERE source_hash = $1 AND source_file = 'ripe-whois-TEST.db'", &[&sha])
        .unwrap()
        .get(0);
    assert_eq!(hashes as usize, n);
    // --init empties the purpose; without --yes and no terminal, refused.
    let out = rirlookup(&db, &["--init"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(db.scalar("SELECT count(*) FROM rir") as usize, n);
    let out = rirlookup(&db, &["--init", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(db.scalar("SELECT count(*) FROM rir"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM rir_file"), 0);
}

#[test]
fn the_narrowest_range_is_printed_in_full() {
    let db = loaded();
    // 10.11.11.0/24 lies in 10.0.0.0/8, itself in 0.0.0.0/0.
    let out = rirlookup(&db, &["10.11.11.7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("inetnum: 10.11.11.0/24\nnetname: Example-Network\n"),
        "{text}"
    );
    // Repeated keys joined, later lines indented under the value.
    assert!(
        text.contains(
            "descr: This is a fictitious assignment for the\n       End-User called \"Example\"\n"
        ),
        "{text}"
    );
    assert!(text.contains("country: GB\n"), "{text}");
    for (addr, header) in [
        ("10.1.2.3", "inetnum: 10.0.0.0/8\n"),
        ("10.11.12.0", "inetnum: 10.0.0.0/8\n"),
        ("8.8.8.8", "inetnum: 0.0.0.0/0\n"),
        ("172.16.60.255", "inetnum: 172.16.60.0/24\n"),
        ("2001:db8:60::1", "inet6num: 2001:db8:60::/48\n"),
        ("2001:db8:61::1", "inet6num: ::/0\n"),
    ] {
        let out = rirlookup(&db, &[addr]);
        assert!(stdout(&out).starts_with(header), "{addr}: {}", stdout(&out));
    }
    // A continuation line starting with tabs (the person object) does not
    // leak into the stored objects; aut-num objects never hold addresses.
    assert_eq!(
        db.scalar("SELECT count(*) FROM rir WHERE kind = 'aut-num' AND net IS NOT NULL"),
        0
    );
}

#[test]
fn short_and_json_forms() {
    let db = loaded();
    let out = rirlookup(&db, &["--short", "10.11.11.7", "2001:db8:60::1"]);
    assert_eq!(
        stdout(&out),
        "10.11.11.0/24: Example-Network - GB\n2001:db8:60::/48: NL-RIPENCC-TS1-20120101 - EU\n"
    );
    let out = rirlookup(&db, &["-j", "10.11.11.7"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["start"], "10.11.11.0");
    assert_eq!(v["stop"], "10.11.11.255");
    assert_eq!(v["size"], 256);
    assert_eq!(v["netname"], "Example-Network");
    assert_eq!(
        v["descr"],
        "This is a fictitious assignment for the\nEnd-User called \"Example\""
    );
    assert_eq!(v["source_file"], "ripe-whois-TEST.db");
    // ::/0 holds 2^128 addresses: more than a JSON number keeps exactly.
    let out = rirlookup(&db, &["--json", "2001:db8:61::1"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["size"], "340282366920938463463374607431768211456");
    // aut-num records: the AS number as an integer.
    let out = rirlookup(&db, &["--kind", "aut-num", "--json"]);
    let asns: Vec<i64> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["aut-num"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(asns, [101, 201, 601, 101111]);
    // An address no range holds: a warning, no output.
    let empty = TestDb::new();
    let out = rirlookup(&empty, &["10.0.0.1"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("10.0.0.1: no registered range"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn search_count_distinct() {
    let db = loaded();
    let out = rirlookup(&db, &["--search", "Training Services", "--short"]);
    assert_eq!(
        stdout(&out),
        "172.16.60.0/24: NL-RIPENCC-TS1-20120101 - EU\n2001:db8:60::/48: NL-RIPENCC-TS1-20120101 - EU\n"
    );
    let out = rirlookup(
        &db,
        &["--search", "training", "--kind", "aut-num", "--count"],
    );
    assert_eq!(stdout(&out), "0\n");
    let out = rirlookup(&db, &["--count", "--country", "gb"]);
    assert_eq!(stdout(&out), "2\n");
    let out = rirlookup(&db, &["--count"]);
    assert_eq!(stdout(&out), format!("{}\n", objects_in_sample()));
    let out = rirlookup(&db, &["--distinct", "country"]);
    assert_eq!(stdout(&out), "EU\n\nGB\n");
    let out = rirlookup(&db, &["--distinct", "status", "--kind", "inetnum", "-j"]);
    let first: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["value"], "ALLOCATED UNSPECIFIED");
    assert_eq!(first["count"], 2);
    let out = rirlookup(&db, &["--search", "example", "--limit", "1", "--short"]);
    assert_eq!(stdout(&out).lines().count(), 1);
}

#[test]
fn usage_errors_exit_2() {
    let db = TestDb::new();
    for args in [
        &["--distinct", "bogus"][..],
        &[],
        &["not-an-address"],
        &["--short", "--json", "1.2.3.4"],
        &["--insert", "-"],
        &["--count", "1.2.3.4"],
    ] {
        let out = rirlookup(&db, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("ivre-rirlookup: error: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn malformed_objects_and_broken_files() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    // A malformed object is skipped, named by file and line; the rest stays.
    let bad = dir.path().join("bad.db");
    std::fs::write(
        &bad,
        "inetnum: 10.0.0.0 - 9.255.255.255\nnetname: REVERSED\n\ninetnum: 10.0.0.0 - 10.0.0.255\nnetname: GOOD\n",
    )
    .unwrap();
    let out = rirlookup(&db, &["--insert", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("bad.db, line 1: inetnum"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM rir"), 1);
    // A fatal error (a line of more than 1 MiB) aborts the file: nothing of
    // it is kept, and a later run tries it again.
    let huge = dir.path().join("huge.db");
    let mut text = b"inetnum: 192.0.2.0 - 192.0.2.255\nnetname: FIRST\n\ninetnum: 198.51.100.0 - 198.51.100.255\ndescr: ".to_vec();
    text.resize(text.len() + (2 << 20), b'x');
    text.push(b'\n');
    std::fs::write(&huge, text).unwrap();
    let out = rirlookup(&db, &["--insert", &huge.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("huge.db, line 5: line longer"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM rir"), 1);
    assert_eq!(db.scalar("SELECT count(*) FROM rir_file"), 1);
    // Binary garbage: no panic, an error or nothing stored.
    let junk = dir.path().join("junk.db");
    std::fs::write(
        &junk,
        (0..=255u8).cycle().take(100_000).collect::<Vec<u8>>(),
    )
    .unwrap();
    let out = rirlookup(&db, &["--insert", &junk.to_string_lossy()]);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// A one-file HTTP server on 127.0.0.1 answering `requests` requests:
/// 200 with a Last-Modified date, or 304 when the request has
/// If-Modified-Since; any other path is 404. Returns its base URL and the
/// request heads it saw.
fn serve(body: Vec<u8>, requests: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut heads = Vec::new();
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let reply: Vec<u8> = if !head.starts_with("GET /dumps/ripe.db.inetnum.gz ") {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            } else if head.to_ascii_lowercase().contains("if-modified-since:") {
                b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n".to_vec()
            } else {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            };
            stream.write_all(&reply).unwrap();
            heads.push(head);
        }
        heads
    });
    (base, handle)
}

#[test]
fn download_is_a_conditional_get() {
    let dump = std::fs::read(data(SAMPLE)).unwrap();
    let (base, server) = serve(dump.clone(), 3);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let url = format!("{base}/dumps/ripe.db.inetnum.gz");
    let db = TestDb::new();
    let out = rirlookup(&db, &["--download", "--rir-dir", &d, "--url", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = dir.path().join("ripe.db.inetnum.gz");
    assert_eq!(std::fs::read(&file).unwrap(), dump);
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    assert_eq!(
        mtime
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        1_445_412_480
    );
    // Again: the server answers 304 and the file stays.
    let out = rirlookup(&db, &["--download", "--rir-dir", &d, "--url", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("up to date"), "{}", stderr(&out));
    // A missing dump: exit 1, the URL named.
    let out = rirlookup(
        &db,
        &[
            "--download",
            "--rir-dir",
            &d,
            "--url",
            &format!("{base}/nope.gz"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nope.gz: HTTP 404"),
        "{}",
        stderr(&out)
    );
    let heads = server.join().unwrap();
    assert!(
        heads[1].contains("If-Modified-Since: Wed, 21 Oct 2015 07:28:00 GMT"),
        "{heads:?}"
    );
    // The downloaded dump imports.
    let out = rirlookup(&db, &["--insert", &file.to_string_lossy()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        db.scalar("SELECT count(*) FROM rir") as usize,
        objects_in_sample()
    );
}

/// An aut-num listing tens of thousands of policies (real ones list
/// thousands) imports: its full-text index is cut before the 1 MB limit of
/// a tsvector.
#[test]
fn a_huge_aut_num_imports() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.db");
    let mut text = String::from("aut-num: AS65000\nas-name: BIG-AS\n");
    for i in 0..60_000 {
        text.push_str(&format!("import: from AS{i} accept AS-SET{i}x{i}\n"));
    }
    std::fs::write(&f, text).unwrap();
    let out = rirlookup(&db, &["--insert", &f.to_string_lossy()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = rirlookup(&db, &["--search", "big-as", "--short"]);
    assert_eq!(stdout(&out), "AS65000: BIG-AS\n");
    let out = rirlookup(&db, &["--json", "--kind", "aut-num"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["import"].as_str().unwrap().lines().count(), 60_000);
}

/// The storage API the web routes are to call: lookup, search, count.
#[test]
fn storage_api_for_the_web() {
    use ivre_pg::rir::{rir_count, rir_lookup, rir_search, RirQuery};
    let db = loaded();
    let mut c = db.client();
    let r = rir_lookup(&mut c, "10.11.11.7".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(r.netname.as_deref(), Some("Example-Network"));
    assert_eq!(r.size.as_deref(), Some("256"));
    assert_eq!(r.to_json()["inetnum"], "10.11.11.0 - 10.11.11.255");
    assert!(rir_lookup(&mut c, "2001:db9::1".parse().unwrap())
        .unwrap()
        .is_some());
    let q = RirQuery {
        countries: vec!["gb".into()],
        ..RirQuery::default()
    };
    assert_eq!(rir_count(&mut c, &q).unwrap(), 2);
    let found = rir_search(&mut c, &q, Some(1)).unwrap();
    assert_eq!(found.len(), 1);
    // Narrowest first, then the later start (10.11.13.0 before 10.11.11.0).
    assert_eq!(found[0].netname.as_deref(), Some("Example-Network-2"));
    assert_eq!(
        rir_count(&mut c, &RirQuery::default()).unwrap() as usize,
        objects_in_sample()
    );
}
