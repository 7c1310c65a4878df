//! Binary captures that nfdump / racluster cannot read themselves:
//! compressed files and captures on stdin are decompressed into a
//! temporary file first, and give the flows of the plain capture. Skipped
//! (with a message) when nfdump or racluster is not installed.

use crate::common::{run_tool, TestDb};
use crate::flow::{flow_data, flow_tool, flowcli, installed, nmapdir, path, snapshot};
use std::io::Write;
use std::path::Path;
use std::process::Output;

/// `ivre-flow2db ARGS` with its temporary files in `tmp`.
fn flow2db_in(db: &TestDb, nmap: &Path, tmp: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_tool("ivre-flow2db", args, stdin, |cmd| {
        cmd.env("IVRE_DB", &db.url)
            .env("NMAPDIR", nmap)
            .env("TMPDIR", tmp);
    })
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "status {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn compressed_nfcapd_and_stdin() {
    if !installed("nfdump") {
        eprintln!("nfdump not installed (Debian package nfdump): test skipped");
        return;
    }
    let nmap = nmapdir();
    let raw = std::fs::read(flow_data("nfcapd")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("nfcapd.gz");
    std::fs::write(&gz, gzip(&raw)).unwrap();
    let oracle = "22 clients\n55 servers\n65 flows\n";
    // A gzipped capture file.
    let db = TestDb::new();
    success(&flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &[path(&gz)],
        None,
    ));
    assert_eq!(flowcli(&db, &["--count"]), oracle);
    // The plain capture on stdin, then the gzipped one.
    let tmp = tempfile::tempdir().unwrap();
    let plain_stdin = TestDb::new();
    success(&flow2db_in(
        &plain_stdin,
        nmap.path(),
        tmp.path(),
        &["-"],
        Some(&raw),
    ));
    assert_eq!(flowcli(&plain_stdin, &["--count"]), oracle);
    assert_eq!(snapshot(&plain_stdin), snapshot(&db));
    let gz_stdin = TestDb::new();
    success(&flow2db_in(
        &gz_stdin,
        nmap.path(),
        tmp.path(),
        &[],
        Some(&gzip(&raw)),
    ));
    assert_eq!(snapshot(&gz_stdin), snapshot(&db));
    // The temporary copies are gone.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    // The gzipped file is known by its content: importing the plain
    // capture afterwards changes nothing.
    success(&flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &[path(&flow_data("nfcapd"))],
        None,
    ));
    assert_eq!(snapshot(&db), snapshot(&plain_stdin));
}

#[test]
fn compressed_argus_capture() {
    if !installed("racluster") {
        eprintln!("racluster not installed (Debian package argus-client): test skipped");
        return;
    }
    let nmap = nmapdir();
    let capture = flow_data("argus/argus-http.argus");
    let plain = TestDb::new();
    success(&flow_tool(
        "ivre-flow2db",
        &plain,
        nmap.path(),
        &[path(&capture)],
        None,
    ));
    let expected = snapshot(&plain);
    assert!(!expected.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("argus-http.argus.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&capture).unwrap())).unwrap();
    let db = TestDb::new();
    success(&flow_tool(
        "ivre-flow2db",
        &db,
        nmap.path(),
        &[path(&gz)],
        None,
    ));
    assert_eq!(snapshot(&db), expected);
}
