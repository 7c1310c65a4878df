//! `/cgi/view` through real HTTP: the actions (`onlyips`, `ipsports`,
//! `countopenports`, `timeline`, `coordinates`) and the enrichment
//! keywords of `q=` (`country:`, `city:`, `asnum:`, `asname:`, `tag:`),
//! checked against `ivre-view`'s counts on the same view (IVRE's samples
//! plus hosts the MaxMind test databases locate, built by `ivre-db2view
//! --geoip-dir`).

use crate::common::*;
use crate::web::Server;
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

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

/// Hosts at addresses the MaxMind test databases know (and one they don't).
fn geo_scan(dir: &Path) -> String {
    let hosts = [
        ("81.2.69.142", 80, "2024-01-02 03:04:05"),   // GB, London
        ("2.125.160.217", 22, "2024-01-02 04:04:05"), // GB, Boxford
        ("89.160.20.115", 443, "2024-01-02 05:04:05"), // SE, Linköping, AS29518
        ("216.160.83.58", 25, "2024-01-03 03:04:05"), // US, Milton, AS209
        ("175.16.199.5", 8080, "2024-01-03 06:04:05"), // CN, Changchun
        ("192.0.2.9", 80, "2024-01-04 03:04:05"),     // documentation range
    ];
    let lines: Vec<String> = hosts
        .iter()
        .map(|(addr, port, start)| {
            serde_json::json!({
                "addr": addr, "state": "up", "schema_version": 22,
                "starttime": start, "endtime": start,
                "ports": [{"protocol": "tcp", "port": port, "state_state": "open"}],
            })
            .to_string()
        })
        .collect();
    let path = dir.join("geo.json");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_string_lossy().into_owned()
}

/// The samples and the located hosts, in a view built with GeoIP data.
fn db() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::new();
        assert!(import_samples(&db).status.success());
        let geoip = geoip_dir();
        let out = tool(
            "ivre-scan2db",
            &db,
            &["-s", "GEO", &geo_scan(geoip.path())],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let dir = geoip.path().to_str().unwrap();
        let out = tool("ivre-db2view", &db, &["--geoip-dir", dir], None);
        assert!(out.status.success(), "{}", stderr(&out));
        db
    })
}

fn view_cli_count(db: &TestDb, flags: &[&str]) -> i64 {
    let mut args = vec!["--count"];
    args.extend_from_slice(flags);
    let out = tool("ivre-view", db, &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().parse().unwrap()
}

fn count(s: &Server, q: &str) -> i64 {
    let r = s.get("/view/count", &[("q", q)]).ok();
    r.body.trim().parse().unwrap()
}

#[test]
fn enrichment_keywords_count_as_ivre_view() {
    let db = db();
    let s = Server::start(db, &[]);
    let cases: &[(&str, &[&str])] = &[
        ("", &[]),
        ("country:GB", &["--country", "GB"]),
        ("country:uk", &["--country", "UK"]),
        ("country:EU,GB,CH,NO", &["--country", "EU,GB,CH,NO"]),
        ("country:SE|US", &["--country", "SE,US"]),
        ("!country:UK", &["--country", "!UK"]),
        ("country:/^(C|U)/", &["--country", "/^(C|U)/"]),
        ("city:London", &["--city", "London"]),
        ("-city:London", &["--city", "-London"]),
        ("asnum:AS29518,209", &["--asnum", "AS29518,209"]),
        ("asnum:29518|209", &["--asnum", "29518,209"]),
        ("!asnum:29518", &["--asnum", "-29518"]),
        ("asname:/bredband/i", &["--asname", "/bredband/i"]),
        ("country:SE 443", &["--country", "SE", "--port", "443"]),
        ("tag:\"Reserved address\"", &["--tag", "Reserved address"]),
        ("80", &["--port", "80"]),
        ("service:http", &["--service", "http"]),
    ];
    let mut nonzero = 0;
    for (q, flags) in cases {
        let expected = view_cli_count(db, flags);
        assert_eq!(count(&s, q), expected, "q={q}");
        nonzero += usize::from(expected > 0);
    }
    assert!(nonzero >= cases.len() - 1, "the cases select something");
    // The located hosts of the GEO source (the samples have some too).
    assert_eq!(count(&s, "country:GB source:GEO"), 2);
    assert_eq!(count(&s, "asname:/bredband/i country:SE source:GEO"), 1);
    // Bad values name their token; on /scans these keywords stay a 400.
    for bad in ["country:", "asnum:ASx", "asname", "city:/a/zz"] {
        let r = s.get("/view/count", &[("q", bad)]);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.json()["token"], bad);
    }
    // A regular expression PostgreSQL refuses: a client error, not a 500.
    let r = s.get("/view/count", &[("q", "city:/(/")]);
    assert!((400..500).contains(&r.status), "{}", r.body);
    assert_eq!(s.get("/scans/count", &[("q", "country:GB")]).status, 400);
    // The records the filter selects carry what it asked for.
    let r = s
        .get("/view", &[("q", "country:GB"), ("format", "ndjson")])
        .ok();
    for line in r.body.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["infos"]["country_code"], "GB", "{v}");
    }
    let top = s
        .get("/view/top/country", &[("q", "source:GEO")])
        .ok()
        .json();
    assert_eq!(top[0]["value"], 2, "{top}");
    assert_eq!(top[0]["label"], serde_json::json!(["GB", "United Kingdom"]));
}

#[test]
fn view_actions() {
    let db = db();
    let s = Server::start(db, &[]);
    let all = view_cli_count(db, &[]);
    let ips = s.get("/view/onlyips", &[]).ok().json();
    assert_eq!(ips.as_array().unwrap().len() as i64, all, "no WEB_LIMIT");
    let ips = s
        .get(
            "/view/onlyips",
            &[("q", "country:GB source:GEO"), ("ipsasnumbers", "1")],
        )
        .ok()
        .json();
    let mut nums: Vec<u64> = ips
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    nums.sort();
    // 2.125.160.217 and 81.2.69.142
    assert_eq!(nums, vec![0x027d_a0d9, 0x5102_458e]);
    let r = s
        .get("/view/onlyips", &[("q", "80"), ("format", "txt")])
        .ok();
    assert_eq!(
        r.body.lines().count() as i64,
        view_cli_count(db, &["--port", "80"])
    );
    let v = s
        .get("/view/ipsports", &[("q", "city:London source:GEO")])
        .ok()
        .json();
    assert_eq!(v, serde_json::json!([["81.2.69.142", [[80, "open"]]]]));
    let v = s
        .get("/view/countopenports", &[("q", "country:SE source:GEO")])
        .ok()
        .json();
    assert_eq!(v, serde_json::json!([["89.160.20.115", 1]]));
    let v = s
        .get("/view/timeline", &[("q", "country:GB source:GEO")])
        .ok()
        .json();
    let mut t: Vec<Value> = v.as_array().unwrap().clone();
    t.sort_by_key(|x| x[0].as_i64());
    // 2024-01-02 03:04:05 and 04:04:05 UTC.
    assert_eq!(
        Value::from(t),
        serde_json::json!([
            [1704164645, "81.2.69.142", 1],
            [1704168245, "2.125.160.217", 1]
        ])
    );
    let v = s
        .get(
            "/view/timeline",
            &[("q", "country:GB"), ("modulo", "86400")],
        )
        .ok()
        .json();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|x| (0..86400).contains(&x[0].as_i64().unwrap())));
    assert_eq!(s.get("/view/timeline", &[("modulo", "x")]).status, 400);
    let geo = s.get("/view/coordinates", &[]).ok().json();
    assert_eq!(geo["type"], "GeometryCollection");
    let geoms = geo["geometries"].as_array().unwrap();
    let total: i64 = geoms
        .iter()
        .map(|g| g["properties"]["count"].as_i64().unwrap())
        .sum();
    let located = db.scalar("SELECT count(*) FROM view_host WHERE doc->'infos' ? 'coordinates'");
    assert!(located >= 5, "{located}");
    assert_eq!(total, located);
    // GeoJSON order: longitude first (London: 51.5 N, 0.1 W).
    let london = s
        .get("/view/coordinates", &[("q", "city:London source:GEO")])
        .ok()
        .json();
    let c = &london["geometries"][0]["coordinates"];
    assert!((c[1].as_f64().unwrap() - 51.5).abs() < 0.1, "{london}");
    assert!(c[0].as_f64().unwrap().abs() < 1.0, "{london}");
    assert_eq!(london["geometries"][0]["properties"]["count"], 1);
}

#[test]
fn a_key_with_a_country_base_filter_sees_that_country_only() {
    let db = db();
    let out = tool(
        "ivre-httpd",
        db,
        &[
            "keys",
            "add",
            "gb-only",
            "--perm",
            "read",
            "--filter",
            "country:GB source:GEO",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = format!("Bearer {}", stdout(&out).trim());
    let s = Server::start(db, &[]);
    let get = |path: &str, q: &str| {
        s.request("GET", path, &[("q", q)], &[("Authorization", &key)])
            .ok()
    };
    assert_eq!(get("/view/count", "").body, "2\n");
    assert_eq!(get("/view/count", "country:SE").body, "0\n");
    assert_eq!(get("/view/onlyips", "").json().as_array().unwrap().len(), 2);
    // The scan purpose cannot apply country:: nothing passes.
    assert_eq!(get("/scans/count", "").body, "0\n");
}
