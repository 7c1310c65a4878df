//! Lookups against MaxMind's test databases, checked against the
//! `*.source.json` files the databases were built from.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipnetwork::IpNetwork;
use ivre_data::{to_json_line, GeoIpDb, GeoIpError, IpInfo};
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/geoip");

fn data(name: &str) -> PathBuf {
    Path::new(DATA).join(name)
}

fn geolite() -> GeoIpDb {
    GeoIpDb::open_files(
        Some(&data("GeoLite2-ASN-Test.mmdb")),
        Some(&data("GeoLite2-Country-Test.mmdb")),
        Some(&data("GeoLite2-City-Test.mmdb")),
    )
    .unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// (network, record) pairs of a source file.
fn source(name: &str) -> Vec<(IpNetwork, Value)> {
    let text = std::fs::read_to_string(data(name)).unwrap();
    let list: Vec<serde_json::Map<String, Value>> = serde_json::from_str(&text).unwrap();
    list.into_iter()
        .flat_map(|m| m.into_iter())
        .map(|(net, rec)| (net.parse().unwrap(), rec))
        .collect()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str().filter(|s| !s.is_empty())
}

/// The first and last address of a network, and a sample of them.
fn probes(net: &IpNetwork) -> Vec<IpAddr> {
    let last = match net {
        IpNetwork::V4(n) => IpAddr::V4(n.broadcast()),
        IpNetwork::V6(n) => IpAddr::V6(n.broadcast()),
    };
    vec![net.network(), last]
}

#[test]
fn acceptance_values() {
    let db = geolite();
    let i = db.lookup(ip("81.2.69.142")).unwrap();
    assert_eq!((i.country_code, i.city), (Some("GB"), Some("London")));
    let i = db.lookup(ip("89.160.20.128")).unwrap();
    assert_eq!((i.country_code, i.city), (Some("SE"), Some("Linköping")));
    let i = db.lookup(ip("216.160.83.56")).unwrap();
    assert_eq!((i.country_code, i.city), (Some("US"), Some("Milton")));
    let i = db.lookup(ip("1.128.0.1")).unwrap();
    assert_eq!((i.as_num, i.as_name), (Some(1221), Some("Telstra Pty Ltd")));
    let i = db.lookup(ip("2001:1700::1")).unwrap();
    assert_eq!(i.as_num, Some(6730));

    let a = ip("10.0.0.1");
    let i = db.lookup(a).unwrap();
    assert_eq!(
        to_json_line(a, &i),
        r#"{"addr": "10.0.0.1", "tags": [{"value": "Reserved address", "type": "info", "info": ["Address type Private"]}]}"#
    );
    let a = ip("8.8.4.4"); // in no test network
    let i = db.lookup(a).unwrap();
    assert!(i.is_empty());
    assert_eq!(to_json_line(a, &i), r#"{"addr": "8.8.4.4"}"#);
}

#[test]
fn london_full_record() {
    let db = geolite();
    let a = ip("81.2.69.142");
    let i = db.lookup(a).unwrap();
    assert_eq!(i.region_code, Some(vec![Some("ENG")]));
    assert_eq!(i.region_name, Some(vec![Some("England")]));
    assert_eq!(i.continent_code, Some("EU"));
    assert_eq!(i.registered_country_code, Some("US")); // sic, in the test data
    assert!(i.coordinates.is_some() && i.coordinates_accuracy_radius.is_some());
    let line = to_json_line(a, &i);
    assert!(
        line.starts_with(r#"{"addr": "81.2.69.142", "country_code": "GB", "#),
        "{line}"
    );
    let mut text = Vec::new();
    ivre_data::write_text(&mut text, a, &i).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.starts_with("81.2.69.142\n    region_code ('ENG',)\n"),
        "{text}"
    );
    assert!(text.contains("\n    city London\n"), "{text}");
}

#[test]
fn asn_source_networks() {
    let db = geolite();
    let nets = source("GeoLite2-ASN-Test.source.json");
    assert!(nets.len() > 100);
    for (net, rec) in nets.iter().step_by(3) {
        for a in probes(net) {
            let i = db.lookup(a).unwrap();
            let num = rec["autonomous_system_number"].as_u64().map(|n| n as u32);
            assert_eq!(i.as_num, num, "{a} in {net}");
            assert_eq!(
                i.as_name,
                s(rec, &["autonomous_system_organization"]),
                "{a} in {net}"
            );
        }
    }
}

#[test]
fn country_source_networks() {
    let db = GeoIpDb::open_files(None, Some(&data("GeoLite2-Country-Test.mmdb")), None).unwrap();
    let nets = source("GeoLite2-Country-Test.source.json");
    assert!(nets.len() > 100);
    for (net, rec) in nets.iter().step_by(2) {
        for a in probes(net) {
            let i = db.lookup(a).unwrap();
            assert_eq!(
                i.country_code,
                s(rec, &["country", "iso_code"]),
                "{a} in {net}"
            );
            assert_eq!(
                i.country_name,
                s(rec, &["country", "names", "en"]),
                "{a} in {net}"
            );
            // Only the Country DB: nothing else but the tags.
            assert_eq!(i.city, None);
        }
    }
}

fn expected_city(rec: &Value) -> IpInfo<'_> {
    let subs = rec.get("subdivisions").and_then(Value::as_array);
    let subs = subs.filter(|s| !s.is_empty());
    let loc = rec
        .get("location")
        .filter(|l| l.as_object().is_some_and(|o| !o.is_empty()));
    let country = (
        s(rec, &["country", "iso_code"]),
        s(rec, &["country", "names", "en"]),
    );
    IpInfo {
        region_code: subs.map(|v| v.iter().map(|x| s(x, &["iso_code"])).collect()),
        region_name: subs.map(|v| v.iter().map(|x| s(x, &["names", "en"])).collect()),
        continent_code: s(rec, &["continent", "code"]),
        continent_name: s(rec, &["continent", "names", "en"]),
        country_code: country.0,
        country_name: country.1,
        registered_country_code: s(rec, &["registered_country", "iso_code"]),
        registered_country_name: s(rec, &["registered_country", "names", "en"]),
        city: s(rec, &["city", "names", "en"]),
        postal_code: s(rec, &["postal", "code"]),
        coordinates: loc.and_then(|l| Some([l["latitude"].as_f64()?, l["longitude"].as_f64()?])),
        coordinates_accuracy_radius: loc.map(|l| {
            l.get("accuracy_radius")
                .and_then(Value::as_u64)
                .map(|r| r as u16)
        }),
        tags: vec![],
        country_from_country_db: false,
        country_from_city_db: country.0.is_some() || country.1.is_some(),
        ..IpInfo::default()
    }
}

#[test]
fn city_source_networks() {
    let db = GeoIpDb::open_files(None, None, Some(&data("GeoLite2-City-Test.mmdb"))).unwrap();
    let nets = source("GeoLite2-City-Test.source.json");
    assert!(nets.len() > 100);
    let mut checked = 0;
    for (net, rec) in nets.iter().step_by(2) {
        for a in probes(net) {
            let mut got = db.lookup(a).unwrap();
            got.tags.clear();
            assert_eq!(got, expected_city(rec), "{a} in {net}");
            checked += 1;
        }
    }
    assert!(checked > 200);
}

#[test]
fn shared_between_threads() {
    let db = Arc::new(geolite());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let db = Arc::clone(&db);
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let i = db.lookup(ip("89.160.20.128")).unwrap();
                    assert_eq!(i.city, Some("Linköping"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn geoip2_commercial_names_are_found_first() {
    let dir = tempdir();
    std::fs::copy(data("GeoIP2-City-Test.mmdb"), dir.join("GeoIP2-City.mmdb")).unwrap();
    std::fs::copy(
        data("GeoLite2-City-Test.mmdb"),
        dir.join("GeoLite2-City.mmdb"),
    )
    .unwrap();
    let db = GeoIpDb::open_dir(&dir).unwrap();
    assert_eq!(db.files()[2], Some(dir.join("GeoIP2-City.mmdb").as_path()));
    assert_eq!(db.files()[0], None);
    let i = db.lookup(ip("216.160.83.56")).unwrap();
    assert_eq!(i.city, Some("Milton"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_databases_error_lists_directories() {
    let dir = tempdir();
    let err = GeoIpDb::discover(Some(&dir)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GeoIpError::NoDatabase { .. }));
    assert!(msg.contains(&dir.display().to_string()), "{msg}");
    assert!(
        msg.contains("geoipupdate") && msg.contains("GeoLite2-City.mmdb"),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn language() {
    let db = geolite().with_language("fr").unwrap();
    let i = db.lookup(ip("81.2.69.142")).unwrap();
    assert_eq!(i.country_name, Some("Royaume-Uni"));
    assert!(geolite().with_language("xx").is_err());
}

#[test]
fn broken_files_give_errors() {
    // Node count larger than the file: refused at open time.
    let p = data("GeoIP2-City-Test-Invalid-Node-Count.mmdb");
    let err = GeoIpDb::open_files(None, None, Some(&p)).unwrap_err();
    assert!(matches!(err, GeoIpError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("GeoIP2-City-Test-Invalid-Node-Count.mmdb"),
        "{err}"
    );

    // Bad data pointers: the file opens, the lookups that reach them fail
    // (and name the file), others work; never a panic.
    for name in [
        "MaxMind-DB-test-broken-pointers-24.mmdb",
        "MaxMind-DB-test-broken-search-tree-24.mmdb",
    ] {
        let db = GeoIpDb::open_files(Some(&data(name)), None, None).unwrap();
        let mut errors = 0;
        for n in 0..=255u8 {
            for a in [
                IpAddr::from([1, 1, 1, n]),
                IpAddr::from([1, 1, n, 1]),
                IpAddr::from([n, 1, 1, 1]),
            ] {
                if let Err(e) = db.lookup(a) {
                    assert!(e.to_string().contains(name), "{e}");
                    errors += 1;
                }
            }
        }
        for a in [
            "::1.1.1.16",
            "::ffff:1.1.1.16",
            "2001::1",
            "255.255.255.255",
        ] {
            let _ = db.lookup(ip(a));
        }
        assert!(errors > 0, "{name}: no error");
        let verify = db.verify();
        assert!(verify.is_err(), "{name}: verify passed");
        assert!(verify.unwrap_err().to_string().contains(name));
    }

    // Not an mmdb file at all, and a truncated one.
    let err = GeoIpDb::open_files(None, None, Some(&data("LICENSE-MIT"))).unwrap_err();
    assert!(err.to_string().contains("LICENSE-MIT"), "{err}");
    let dir = tempdir();
    let full = std::fs::read(data("GeoLite2-City-Test.mmdb")).unwrap();
    for cut in [10, full.len() / 2, full.len() - 100, full.len() - 5] {
        let p = dir.join("GeoLite2-City.mmdb");
        std::fs::write(&p, &full[..cut]).unwrap();
        let err = GeoIpDb::open_dir(&dir).unwrap_err();
        assert!(err.to_string().contains("GeoLite2-City.mmdb"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn good_files_verify() {
    geolite().verify().unwrap();
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ivre-data-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn databases_in_memory_are_checked_as_files_are() {
    let read = |name: &str| std::fs::read(data(name)).unwrap();
    let memory = GeoIpDb::from_bytes(
        Some(read("GeoLite2-ASN-Test.mmdb")),
        Some(read("GeoLite2-Country-Test.mmdb")),
        Some(read("GeoLite2-City-Test.mmdb")),
    )
    .unwrap();
    let files = geolite();
    for a in [
        "81.2.69.142",
        "2.125.160.216",
        "2001:218::",
        "1.128.0.1",
        "10.0.0.1",
    ] {
        let a = ip(a);
        assert_eq!(
            to_json_line(a, &memory.lookup(a).unwrap()),
            to_json_line(a, &files.lookup(a).unwrap())
        );
    }
    memory.verify().unwrap();

    let err = GeoIpDb::from_bytes(
        None,
        None,
        Some(read("GeoIP2-City-Test-Invalid-Node-Count.mmdb")),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("<City database in memory>"),
        "{err}"
    );
    let broken = GeoIpDb::from_bytes(
        Some(read("MaxMind-DB-test-broken-pointers-24.mmdb")),
        None,
        None,
    )
    .unwrap();
    let err = broken.verify().unwrap_err();
    assert!(
        err.to_string().contains("<ASN database in memory>"),
        "{err}"
    );
    let marker = b"\xab\xcd\xefMaxMind.com".to_vec();
    for bytes in [
        Vec::new(),
        marker.clone(),
        [&[0u8; 64][..], &marker, &[0xe0]].concat(),
    ] {
        assert!(GeoIpDb::from_bytes(Some(bytes), None, None).is_err());
    }
}
