//! `ivre-iprange` end to end: the address selectors and output forms, and
//! the GeoIP selectors against the networks MaxMind's test databases
//! declare (their `*.source.json`).

use crate::common::{data, run_tool, stderr, stdout};
use std::net::Ipv4Addr;
use std::process::Output;

fn iprange(args: &[&str]) -> Output {
    run_tool("ivre-iprange", args, None, |cmd| {
        cmd.env_remove("IVRE_GEOIP_DIR");
    })
}

/// A directory like geoipupdate's, holding the GeoLite2 test databases.
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

/// The IPv4 networks of a test database's source whose record satisfies
/// `keep`, as merged `first-last` ranges.
fn expected_ranges(kind: &str, keep: impl Fn(&serde_json::Value) -> bool) -> Vec<String> {
    let text =
        std::fs::read_to_string(data(&format!("geoip/GeoLite2-{kind}-Test.source.json"))).unwrap();
    let entries: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(&text).unwrap();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for e in entries {
        for (net, record) in e {
            if net.contains(':') || !keep(&record) {
                continue;
            }
            let (a, p) = net.split_once('/').unwrap();
            let (a, p): (Ipv4Addr, u32) = (a.parse().unwrap(), p.parse().unwrap());
            let first = u32::from(a);
            let last = first | (u32::MAX.checked_shr(p).unwrap_or(0));
            ranges.push((first, last));
        }
    }
    ranges.sort();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(m) if m.1.checked_add(1) == Some(a) || a <= m.1 => m.1 = m.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
        .into_iter()
        .map(|(a, b)| format!("{}-{}", Ipv4Addr::from(a), Ipv4Addr::from(b)))
        .collect()
}

fn lines(out: &Output) -> Vec<String> {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out).lines().map(str::to_owned).collect()
}

#[test]
fn network_and_range_outputs() {
    assert_eq!(
        lines(&iprange(&["--network", "192.168.0.0/23", "--ranges"])),
        ["192.168.0.0-192.168.1.255"]
    );
    assert_eq!(
        lines(&iprange(&["--network", "192.168.0.0/23"])),
        ["192.168.0.0/23"]
    );
    assert_eq!(
        lines(&iprange(&["--network", "192.168.0.0/23", "--count"])),
        ["512"]
    );
    assert_eq!(
        lines(&iprange(&["--range", "10.0.0.3", "10.0.0.17", "--cidrs"])),
        ["10.0.0.3/32", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/31"]
    );
    let addrs = lines(&iprange(&["--range", "10.0.0.254", "10.0.1.1", "--addrs"]));
    assert_eq!(addrs, ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&iprange(&[
        "--range",
        "10.0.0.3",
        "10.0.0.17",
        "-j",
    ])))
    .unwrap();
    assert_eq!(v["count"], 15);
    assert_eq!(v["ranges"], serde_json::json!([["10.0.0.3", "10.0.0.17"]]));
    assert_eq!(v["cidrs"].as_array().unwrap().len(), 4);
    // IPv6, and --limit keeps the first addresses.
    assert_eq!(
        lines(&iprange(&[
            "--network",
            "2001:db8::/126",
            "--addrs",
            "--limit",
            "2"
        ])),
        ["2001:db8::", "2001:db8::1"]
    );
    assert_eq!(
        lines(&iprange(&["--network", "::/0", "--count"])),
        [u128::MAX.to_string()]
    );
    // The routable space: all of IPv4 less the special-purpose blocks.
    let routable: u128 = lines(&iprange(&["--routable", "--count"]))[0]
        .parse()
        .unwrap();
    let holes: u128 = ivre_model::targets::UNROUTABLE_V4
        .iter()
        .map(|c| ivre_model::ipcalc::Range::from_cidr(c).unwrap().size())
        .sum();
    assert!(
        routable > 3_000_000_000 && routable >= (1u128 << 32) - holes,
        "{routable}"
    );
}

#[test]
fn file_of_targets_is_a_union() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("targets.txt");
    std::fs::write(
        &f,
        "# targets\n10.0.0.0/30\n10.0.0.4 # next\n\n10.0.0.5-10.0.0.7\n192.0.2.1\n10.0.0.2\n",
    )
    .unwrap();
    let f = f.to_string_lossy().into_owned();
    assert_eq!(
        lines(&iprange(&["--file", &f, "--ranges"])),
        ["10.0.0.0-10.0.0.7", "192.0.2.1-192.0.2.1"]
    );
    assert_eq!(
        lines(&iprange(&["--file", &f])),
        ["10.0.0.0/29", "192.0.2.1/32"]
    );
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "10.0.0.0/8\nnot an address\n").unwrap();
    let out = iprange(&["--file", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bad.txt, line 2"), "{}", stderr(&out));
}

#[test]
fn geoip_selectors_match_the_databases() {
    let dir = geoip_dir();
    let d = dir.path().to_string_lossy().into_owned();
    let iso =
        |key: &'static str, cc: &'static str| move |r: &serde_json::Value| r[key]["iso_code"] == cc;
    let gb = expected_ranges("Country", iso("country", "GB"));
    assert!(!gb.is_empty());
    assert_eq!(
        lines(&iprange(&[
            "--country",
            "GB",
            "--ranges",
            "--geoip-dir",
            &d
        ])),
        gb
    );
    // UK is GB; several values are a union.
    assert_eq!(
        lines(&iprange(&[
            "--country",
            "uk",
            "--ranges",
            "--geoip-dir",
            &d
        ])),
        gb
    );
    let mut gb_se = expected_ranges("Country", |r| {
        r["country"]["iso_code"] == "GB" || r["country"]["iso_code"] == "SE"
    });
    gb_se.sort_by_key(|r| r.split('-').next().unwrap().parse::<Ipv4Addr>().unwrap());
    assert_eq!(
        lines(&iprange(&[
            "--country",
            "GB,SE",
            "--ranges",
            "--geoip-dir",
            &d
        ])),
        gb_se
    );
    let fr = expected_ranges("Country", iso("registered_country", "FR"));
    assert_eq!(
        lines(&iprange(&[
            "--registered-country",
            "FR",
            "--ranges",
            "--geoip-dir",
            &d
        ])),
        fr
    );
    let as3215 = expected_ranges("ASN", |r| r["autonomous_system_number"] == 3215);
    assert!(!as3215.is_empty());
    for asn in ["AS3215", "3215"] {
        assert_eq!(
            lines(&iprange(&["--asnum", asn, "--ranges", "--geoip-dir", &d])),
            as3215
        );
    }
    let london = expected_ranges("City", |r| {
        r["country"]["iso_code"] == "GB" && r["city"]["names"]["en"] == "London"
    });
    assert!(!london.is_empty());
    assert_eq!(
        lines(&iprange(&[
            "--city",
            "GB",
            "London",
            "--ranges",
            "--geoip-dir",
            &d
        ])),
        london
    );
    let eng = expected_ranges("City", |r| {
        r["country"]["iso_code"] == "GB"
            && r["subdivisions"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["iso_code"] == "ENG"))
    });
    assert_eq!(
        lines(&iprange(&[
            "--region",
            "GB",
            "ENG",
            "--ranges",
            "--geoip-dir",
            &d
        ])),
        eng
    );
    // Missing databases: a clear error, exit 1.
    let empty = tempfile::tempdir().unwrap();
    let out = iprange(&[
        "--country",
        "FR",
        "--geoip-dir",
        &empty.path().to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no MaxMind database found"),
        "{}",
        stderr(&out)
    );
    let only_asn = tempfile::tempdir().unwrap();
    std::fs::copy(
        data("geoip/GeoLite2-ASN-Test.mmdb"),
        only_asn.path().join("GeoLite2-ASN.mmdb"),
    )
    .unwrap();
    let out = iprange(&[
        "--city",
        "GB",
        "London",
        "--geoip-dir",
        &only_asn.path().to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no MaxMind City database"),
        "{}",
        stderr(&out)
    );
    // A corrupt tree: an error naming the file, no panic.
    let broken = tempfile::tempdir().unwrap();
    std::fs::copy(
        data("geoip/MaxMind-DB-test-broken-search-tree-24.mmdb"),
        broken.path().join("GeoLite2-ASN.mmdb"),
    )
    .unwrap();
    let out = iprange(&[
        "--asnum",
        "1",
        "--geoip-dir",
        &broken.path().to_string_lossy(),
    ]);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    if !out.status.success() {
        assert!(
            stderr(&out).contains("GeoLite2-ASN.mmdb"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn selector_and_output_errors() {
    for args in [
        &[][..],
        &["--network", "10.0.0.0/8", "--range", "1.1.1.1", "1.1.1.2"],
        &["--network", "10.0.0.0/33"],
        &["--range", "10.0.0.2", "10.0.0.1"],
        &["--asnum", "ASX"],
        &["--network", "10.0.0.0/8", "--count", "--ranges"],
        &["--network", "10.0.0.0/8", "--addrs"],
    ] {
        let out = iprange(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("ivre-iprange: error: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // --limit keeps the output under the cap; --force lifts it.
    let out = iprange(&["--network", "10.0.0.0/8", "--addrs", "--limit", "3"]);
    assert_eq!(lines(&out), ["10.0.0.0", "10.0.0.1", "10.0.0.2"]);
    let out = iprange(&["--network", "10.0.0.0/12", "--addrs", "--force"]);
    assert_eq!(lines(&out).len(), 1 << 20);
}
