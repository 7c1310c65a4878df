//! `ivre-ipdata` end to end, with MaxMind's test databases installed under
//! the file names MaxMind ships.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ivre-ipdata");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/geoip");

/// A directory like geoipupdate's, holding the GeoLite2 test databases.
fn geoip_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ASN", "Country", "City"] {
        std::fs::copy(
            Path::new(DATA).join(format!("GeoLite2-{kind}-Test.mmdb")),
            dir.path().join(format!("GeoLite2-{kind}.mmdb")),
        )
        .unwrap();
    }
    dir
}

fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    run_bytes(dir, args, stdin.as_bytes().to_vec())
}

fn run_bytes(dir: &Path, args: &[&str], stdin: Vec<u8>) -> Output {
    let mut child = Command::new(BIN)
        .env("IVRE_GEOIP_DIR", dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || input.write_all(&stdin));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

#[test]
fn acceptance_text() {
    let dir = geoip_dir();
    let args = [
        "81.2.69.142",
        "89.160.20.128",
        "216.160.83.56",
        "1.128.0.1",
        "2001:1700::1",
        "10.0.0.1",
        "8.8.4.4",
    ];
    let out = run(dir.path(), &args, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for needle in [
        "81.2.69.142\n",
        "    country_code GB\n    country_name United Kingdom\n",
        "    city London\n",
        "    region_code ('ENG',)\n",
        "    coordinates (51.5142, -0.0931)\n",
        "    country_code SE\n",
        "    city Linköping\n",
        "    city Milton\n",
        "1.128.0.1\n    as_num 1221\n    as_name Telstra Pty Ltd\n",
        "2001:1700::1\n    as_num 6730\n",
        "10.0.0.1\n    Reserved address: Address type Private\n8.8.4.4\n",
    ] {
        assert!(stdout.contains(needle), "{needle:?} not in:\n{stdout}");
    }
    assert!(stdout.ends_with("8.8.4.4\n"), "{stdout}");
}

#[test]
fn json_lines_and_integers() {
    let dir = geoip_dir();
    let out = run(
        dir.path(),
        &["--json", "1367426446", "10.0.0.1", "8.8.4.4"],
        "",
    );
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].starts_with(r#"{"addr": "81.129.69.142""#),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        r#"{"addr": "10.0.0.1", "tags": [{"value": "Reserved address", "type": "info", "info": ["Address type Private"]}]}"#
    );
    assert_eq!(lines[2], r#"{"addr": "8.8.4.4"}"#);
    let london = run(dir.path(), &["-j", "1359103374"], ""); // 81.2.69.142
    let v: serde_json::Value = serde_json::from_slice(&london.stdout).unwrap();
    assert_eq!(v["addr"], "81.2.69.142");
    assert_eq!(v["city"], "London");
    assert_eq!(v["coordinates"], serde_json::json!([51.5142, -0.0931]));
}

#[test]
fn invalid_addresses_are_reported_and_the_run_goes_on() {
    let dir = geoip_dir();
    let out = run(
        dir.path(),
        &["-j"],
        "81.2.69.142\nnot-an-ip\n\n1.2.3.4.5\n10.0.0.1\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 2: invalid IP address \"not-an-ip\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: invalid IP address \"1.2.3.4.5\""),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout).lines().count(), 2);

    let out = run(dir.path(), &["8.8.8.8", "nope"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("argument 2"));
    assert_eq!(text(&out.stdout), "8.8.8.8\n");
}

#[test]
fn usage_errors_exit_2() {
    let dir = geoip_dir();
    assert_eq!(
        run(dir.path(), &["--no-such-flag"], "").status.code(),
        Some(2)
    );
}

#[test]
fn missing_and_broken_databases() {
    let empty = tempfile::tempdir().unwrap();
    let out = run(empty.path(), &["8.8.8.8"], "");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&empty.path().display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("geoipupdate"), "{stderr}");

    let broken = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(DATA).join("GeoIP2-City-Test-Invalid-Node-Count.mmdb"),
        broken.path().join("GeoIP2-City.mmdb"),
    )
    .unwrap();
    let out = run(broken.path(), &["81.2.69.142"], "");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("GeoIP2-City.mmdb") && stderr.contains("corrupt"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Bad pointers: the lookups reaching them fail, with their line numbers.
    std::fs::copy(
        Path::new(DATA).join("MaxMind-DB-test-broken-pointers-24.mmdb"),
        broken.path().join("GeoLite2-ASN.mmdb"),
    )
    .unwrap();
    std::fs::remove_file(broken.path().join("GeoIP2-City.mmdb")).unwrap();
    let input: String = (0..=255).map(|n| format!("1.1.1.{n}\n")).collect();
    let out = run(broken.path(), &["-j"], &input);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 17: ") && stderr.contains("GeoLite2-ASN.mmdb"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(text(&out.stdout).lines().count() > 200);
}

#[test]
fn streams_100k_addresses_from_stdin() {
    let dir = geoip_dir();
    let mut input = String::with_capacity(1_600_000);
    for i in 0..100_000u32 {
        let a = std::net::Ipv4Addr::from(0x5100_0000 + i * 7919); // 81.x.x.x and up
        input.push_str(&a.to_string());
        input.push('\n');
    }
    input.push_str("81.2.69.142\n");
    let out = run(dir.path(), &["--json", "-"], &input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 100_001);
    assert!(stdout
        .lines()
        .last()
        .unwrap()
        .contains(r#""city": "London""#));
}

#[test]
fn explicit_dir_wins_and_compressed_stdin() {
    let dir = geoip_dir();
    let empty = tempfile::tempdir().unwrap();
    // IVRE_GEOIP_DIR points to an empty directory, --geoip-dir to the databases.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"81.2.69.142\n1.128.0.1\n").unwrap();
    let out = run_bytes(
        empty.path(),
        &["--geoip-dir", dir.path().to_str().unwrap(), "--json"],
        gz.finish().unwrap(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(r#""city": "London""#), "{stdout}");
    assert!(
        stdout.contains(r#""as_name": "Telstra Pty Ltd""#),
        "{stdout}"
    );
}

/// Every 10th network of each source file, looked up through the binary
/// with only the database built from that file.
#[test]
fn source_networks_end_to_end() {
    use serde_json::Value;
    for kind in ["ASN", "Country", "City"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            Path::new(DATA).join(format!("GeoLite2-{kind}-Test.mmdb")),
            dir.path().join(format!("GeoLite2-{kind}.mmdb")),
        )
        .unwrap();
        let source = std::fs::read_to_string(
            Path::new(DATA).join(format!("GeoLite2-{kind}-Test.source.json")),
        )
        .unwrap();
        let source: Vec<serde_json::Map<String, Value>> = serde_json::from_str(&source).unwrap();
        let sample: Vec<(String, Value)> = source
            .into_iter()
            .flat_map(|m| m.into_iter())
            .step_by(10)
            .collect();
        let input: String = sample
            .iter()
            .map(|(net, _)| format!("{}\n", net.split('/').next().unwrap()))
            .collect();
        let out = run(dir.path(), &["--json", "-q"], &input);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let lines: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), sample.len());
        for ((net, rec), got) in sample.iter().zip(&lines) {
            let want = |path: &[&str]| {
                let mut v = rec;
                for p in path {
                    v = v.get(p).unwrap_or(&Value::Null);
                }
                v.clone()
            };
            let got = |k: &str| got.get(k).cloned().unwrap_or(Value::Null);
            match kind {
                "ASN" => {
                    assert_eq!(got("as_num"), want(&["autonomous_system_number"]), "{net}");
                    assert_eq!(
                        got("as_name"),
                        want(&["autonomous_system_organization"]),
                        "{net}"
                    );
                }
                _ => {
                    assert_eq!(got("country_code"), want(&["country", "iso_code"]), "{net}");
                    assert_eq!(
                        got("country_name"),
                        want(&["country", "names", "en"]),
                        "{net}"
                    );
                    if kind == "City" {
                        assert_eq!(got("city"), want(&["city", "names", "en"]), "{net}");
                        assert_eq!(got("postal_code"), want(&["postal", "code"]), "{net}");
                        assert_eq!(got("continent_code"), want(&["continent", "code"]), "{net}");
                    }
                }
            }
        }
    }
}
