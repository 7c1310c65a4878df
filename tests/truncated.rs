//! Every importer on a damaged compressed file (cut at 60 % of its bytes, as
//! an interrupted copy leaves it): it ends, keeps the complete records before
//! the damage, names the file and exits with status 1.

use crate::common::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long an importer may take on a small damaged file.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug)]
enum Compression {
    Gzip,
    Bzip2,
}

/// `text` compressed, then cut at 60 % of the compressed bytes. Bzip2
/// decompresses nothing of a block until the block is whole: the text is
/// compressed as four streams (as pbzip2 writes it), so that the cut falls
/// after the first ones.
fn damaged(text: &[u8], compression: Compression) -> Vec<u8> {
    let whole = match compression {
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(text).unwrap();
            enc.finish().unwrap()
        }
        Compression::Bzip2 => {
            let mut out = Vec::new();
            for chunk in line_chunks(text, 4) {
                let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
                enc.write_all(chunk).unwrap();
                out.extend(enc.finish().unwrap());
            }
            out
        }
    };
    whole[..whole.len() * 6 / 10].to_vec()
}

/// `text` in `n` parts of about the same size, each ending at a line end.
fn line_chunks(text: &[u8], n: usize) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    let mut rest = text;
    for i in (1..=n).rev() {
        let target = rest.len() / i;
        let end = match rest[target..].iter().position(|&b| b == b'\n') {
            Some(p) if i > 1 => target + p + 1,
            _ => rest.len(),
        };
        let (chunk, tail) = rest.split_at(end);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// Runs `tool` on `files` against `db`; kills it and fails the test when it
/// does not end within [`TIMEOUT`]. Returns the exit status and stderr.
fn run_with_timeout(tool: &str, db: &TestDb, args: &[&str]) -> (ExitStatus, String) {
    let mut stderr_file = tempfile::tempfile().unwrap();
    let mut cmd = tool_command(tool, Some(db));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr_file.try_clone().unwrap());
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{tool} {args:?} still running after {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    use std::io::Seek;
    stderr_file.rewind().unwrap();
    stderr_file.read_to_string(&mut stderr).unwrap();
    (status, stderr)
}

/// Imports `text` whole, then damaged (gzip and bzip2), each into a
/// database of its own; `count` tells the rows stored.
fn check(tool: &str, extra_args: &[&str], text: &[u8], file_name: &str, count: &str) {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join(file_name);
    std::fs::write(&whole, text).unwrap();
    let full_db = TestDb::new();
    let mut args = extra_args.to_vec();
    args.push(whole.to_str().unwrap());
    let (status, stderr) = run_with_timeout(tool, &full_db, &args);
    assert!(status.success(), "{tool} on the whole file: {stderr}");
    let full = full_db.scalar(count);
    assert!(full > 0);

    for compression in [Compression::Gzip, Compression::Bzip2] {
        let ext = match compression {
            Compression::Gzip => "gz",
            Compression::Bzip2 => "bz2",
        };
        let path = dir.path().join(format!("{file_name}.{ext}"));
        std::fs::write(&path, damaged(text, compression)).unwrap();
        let db = TestDb::new();
        let mut args = extra_args.to_vec();
        args.push(path.to_str().unwrap());
        let (status, stderr) = run_with_timeout(tool, &db, &args);
        let what = format!("{tool} on {compression:?}, damaged: {stderr}");
        assert_eq!(status.code(), Some(1), "{what}");
        assert!(stderr.contains(path.to_str().unwrap()), "{what}");
        let stored = db.scalar(count);
        assert!(stored > 0 && stored <= full, "{what}: {stored} of {full}");
    }
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap()
}

#[test]
fn scan2db() {
    let mut xml = Vec::new();
    let f = std::fs::File::open(Path::new(&sample("test-T22.xml.bz2"))).unwrap();
    bzip2::read::BzDecoder::new(f)
        .read_to_end(&mut xml)
        .unwrap();
    check(
        "ivre-scan2db",
        &[],
        &xml,
        "scan.xml",
        "SELECT count(*) FROM scan_host",
    );
}

#[test]
fn passiverecon2db() {
    check(
        "ivre-passiverecon2db",
        &["-s", "TEST"],
        &fixture("passive/zeek/passive_recon.log"),
        "passive_recon.log",
        "SELECT count(*) FROM passive",
    );
}

#[test]
fn p0f2db() {
    check(
        "ivre-p0f2db",
        &["-s", "TEST"],
        &fixture("passive/p0f/p0f-banners.log"),
        "p0f.log",
        "SELECT count(*) FROM passive",
    );
}

#[test]
fn airodump2db() {
    check(
        "ivre-airodump2db",
        &["-s", "TEST"],
        &fixture("passive/airodump/airodump-01.csv"),
        "airodump.csv",
        "SELECT count(*) FROM passive",
    );
}
