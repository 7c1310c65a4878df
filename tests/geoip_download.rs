//! `ivre-ipdata --download` against a local HTTP server of the test's own,
//! speaking MaxMind's download protocol and serving the bundled GeoLite2
//! test databases.

use crate::common::{data, run_tool, stderr, stdout};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

const ACCOUNT: &str = "123456";
const KEY: &str = "test_licence_key";

/// `EDITION_20240102/EDITION.mmdb` (and a licence file), as MaxMind packs them.
fn archive(edition: &str) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut add = |name: String, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes).unwrap();
    };
    add(format!("{edition}_20240102/LICENSE.txt"), b"test data\n");
    let mmdb = std::fs::read(data(&format!("geoip/{edition}-Test.mmdb"))).unwrap();
    add(format!("{edition}_20240102/{edition}.mmdb"), &mmdb);
    tar.into_inner().unwrap().finish().unwrap()
}

/// Serves `routes` (path and query -> body) to clients with the right basic
/// authentication (others get 401); returns the base URL and the
/// Authorization headers received.
fn serve(routes: HashMap<String, Vec<u8>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{KEY}"))
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let target = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            let mut auth = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("authorization") {
                        auth = value.trim().to_owned();
                    }
                }
            }
            log.lock().unwrap().push(auth.clone());
            let (status, body) = match routes.get(&target) {
                _ if auth != expected => ("401 Unauthorized", b"unauthorized".to_vec()),
                Some(body) => ("200 OK", body.clone()),
                None => ("404 Not Found", b"no such file".to_vec()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    (base, seen)
}

/// The three editions, with their published checksums (`corrupt`: the
/// Country checksum is wrong).
fn maxmind_routes(corrupt: bool) -> HashMap<String, Vec<u8>> {
    let mut routes = HashMap::new();
    for edition in ["GeoLite2-ASN", "GeoLite2-Country", "GeoLite2-City"] {
        let body = archive(edition);
        let mut sum = hex::encode(Sha256::digest(&body));
        if corrupt && edition == "GeoLite2-Country" {
            sum = hex::encode(Sha256::digest(b"something else"));
        }
        let path = format!("/geoip/databases/{edition}/download?suffix=tar.gz");
        routes.insert(
            format!("{path}.sha256"),
            format!("{sum}  {edition}_20240102.tar.gz\n").into_bytes(),
        );
        routes.insert(path, body);
    }
    routes
}

fn download(dir: &Path, base: &str, env: &[(&str, &str)], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["--download", "--geoip-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_tool("ivre-ipdata", &args, None, |cmd| {
        cmd.env("IVRE_MAXMIND_URL", base)
            .env_remove("GEOIPUPDATE_ACCOUNT_ID")
            .env_remove("GEOIPUPDATE_LICENSE_KEY");
        for (k, v) in env {
            cmd.env(k, v);
        }
    })
}

const CREDENTIALS: [(&str, &str); 2] = [
    ("GEOIPUPDATE_ACCOUNT_ID", ACCOUNT),
    ("GEOIPUPDATE_LICENSE_KEY", KEY),
];

#[test]
fn downloads_verified_databases_where_the_lookups_find_them() {
    let (base, seen) = serve(maxmind_routes(false));
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("GeoIP");
    let out = download(&dir, &base, &CREDENTIALS, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("3 databases in "),
        "{}",
        stderr(&out)
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "GeoLite2-ASN.mmdb",
            "GeoLite2-City.mmdb",
            "GeoLite2-Country.mmdb"
        ],
        "only the databases, no leftovers"
    );
    // Checksum, then archive, for each of the three; all authenticated.
    assert_eq!(seen.lock().unwrap().len(), 6);

    let out = run_tool("ivre-ipdata", &["--json", "81.2.69.142"], None, |cmd| {
        cmd.env("IVRE_GEOIP_DIR", &dir);
    });
    assert!(out.status.success(), "{}", stderr(&out));
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["country_code"], "GB", "{info}");
    assert!(info["city"].is_string(), "{info}");
}

#[test]
fn a_checksum_mismatch_replaces_nothing() {
    let (base, _) = serve(maxmind_routes(true));
    let dir = tempfile::tempdir().unwrap();
    let previous = dir.path().join("GeoLite2-Country.mmdb");
    std::fs::write(&previous, b"the previous database").unwrap();
    let out = download(dir.path(), &base, &CREDENTIALS, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("ivre-ipdata: error: GeoLite2-Country: checksum mismatch"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&previous).unwrap(), b"the previous database");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn credentials_come_from_a_config_file_and_wrong_ones_are_named() {
    let (base, _) = serve(maxmind_routes(false));
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("GeoIP.conf");
    std::fs::write(
        &conf,
        format!("# geoipupdate\nAccountID {ACCOUNT}\nLicenseKey {KEY}\nEditionIDs GeoLite2-ASN\n"),
    )
    .unwrap();
    let target = dir.path().join("db");
    let out = download(
        &target,
        &base,
        &[],
        &["--maxmind-conf", conf.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(target.join("GeoLite2-City.mmdb").is_file());

    let wrong = [
        ("GEOIPUPDATE_ACCOUNT_ID", ACCOUNT),
        ("GEOIPUPDATE_LICENSE_KEY", "nope"),
    ];
    let out = download(&target, &base, &wrong, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("refused the account ID and licence key (HTTP 401)"));
    assert!(!stderr(&out).contains("nope"), "the key is never shown");

    let missing = dir.path().join("no-such.conf");
    let out = download(
        &target,
        &base,
        &[],
        &["--maxmind-conf", missing.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no-such.conf"), "{}", stderr(&out));

    // Never on the command line.
    let out = download(&target, &base, &[], &["--license-key", KEY]);
    assert_eq!(out.status.code(), Some(2));
}
