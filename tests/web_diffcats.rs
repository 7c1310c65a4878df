//! `/scans/diffcats` and `/view/diffcats`: the open ports of two
//! categories compared over the addresses both scanned, on hand-made
//! records (exact answer) and on IVRE's samples (checked against the
//! records `/scans` lists for each category).

use crate::common::*;
use crate::web::Server;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

fn host(addr: &str, ports: &[(&str, u16, &str)]) -> String {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(proto, port, state)| json!({"protocol": proto, "port": port, "state_state": state}))
        .collect();
    json!({"addr": addr, "state": "up", "schema_version": 22,
           "starttime": "2024-01-02 03:04:05", "endtime": "2024-01-02 03:05:05",
           "ports": ports})
    .to_string()
}

fn import(db: &TestDb, cat: &str, lines: &[String], dir: &std::path::Path) {
    let f = dir.join(format!("{cat}.json"));
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    let out = tool(
        "ivre-scan2db",
        db,
        &["-c", cat, "-s", "S", f.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Hand-made records in OLD and NEW, two samples in ONE and TWO, and the
/// view built from them.
fn db() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::new();
        let dir = tempfile::tempdir().unwrap();
        import(
            &db,
            "OLD",
            &[
                host(
                    "10.0.0.1",
                    &[
                        ("tcp", 22, "open"),
                        ("tcp", 80, "open"),
                        ("udp", 53, "open"),
                    ],
                ),
                host("10.0.0.2", &[("tcp", 25, "open")]),
                host("10.0.0.3", &[("tcp", 21, "open")]),
            ],
            dir.path(),
        );
        import(
            &db,
            "NEW",
            &[
                host(
                    "10.0.0.1",
                    &[
                        ("tcp", 80, "open"),
                        ("tcp", 443, "open"),
                        ("tcp", 22, "closed"),
                        ("tcp", 53, "open"),
                    ],
                ),
                host("10.0.0.3", &[("tcp", 21, "open")]),
                host("10.0.0.9", &[("tcp", 8080, "open")]),
            ],
            dir.path(),
        );
        for (cat, file) in [
            ("ONE", "nmap-ntlm-all.xml.bz2"),
            ("TWO", "nmap-ntlm-smb.xml.bz2"),
        ] {
            let out = tool(
                "ivre-scan2db",
                &db,
                &["-c", cat, "-s", "S", &sample(file)],
                None,
            );
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let out = tool("ivre-db2view", &db, &[], None);
        assert!(out.status.success(), "{}", stderr(&out));
        db
    })
}

fn diff(s: &Server, purpose: &str, params: &[(&str, &str)]) -> Value {
    s.get(&format!("/{purpose}/diffcats"), params).ok().json()
}

#[test]
fn diffcats_compares_the_open_ports_of_the_addresses_both_categories_scanned() {
    let s = Server::start(db(), &[]);
    let all = diff(&s, "scans", &[("cat1", "OLD"), ("cat2", "NEW")]);
    // 10.0.0.2 and 10.0.0.9 are in one category only: left out. tcp/22
    // closed in NEW counts as not open; udp/53 and tcp/53 are two ports.
    assert_eq!(
        all,
        json!([
            [
                "10.0.0.1",
                [
                    [22, -1, "tcp"],
                    [53, 1, "tcp"],
                    [80, 0, "tcp"],
                    [443, 1, "tcp"],
                    [53, -1, "udp"]
                ]
            ],
            ["10.0.0.3", [[21, 0, "tcp"]]]
        ])
    );
    let only = diff(
        &s,
        "scans",
        &[("cat1", "OLD"), ("cat2", "NEW"), ("onlydiff", "1")],
    );
    assert_eq!(
        only,
        json!([[
            "10.0.0.1",
            [
                [22, -1, "tcp"],
                [53, 1, "tcp"],
                [443, 1, "tcp"],
                [53, -1, "udp"]
            ]
        ]])
    );
    // Swapped categories, swapped signs.
    let swapped = diff(
        &s,
        "scans",
        &[("cat1", "NEW"), ("cat2", "OLD"), ("onlydiff", "1")],
    );
    assert_eq!(
        swapped,
        json!([[
            "10.0.0.1",
            [
                [22, 1, "tcp"],
                [53, -1, "tcp"],
                [443, -1, "tcp"],
                [53, 1, "udp"]
            ]
        ]])
    );
    // q= narrows; addresses as numbers; NDJSON.
    let narrowed = diff(
        &s,
        "scans",
        &[("cat1", "OLD"), ("cat2", "NEW"), ("q", "10.0.0.3")],
    );
    assert_eq!(narrowed, json!([["10.0.0.3", [[21, 0, "tcp"]]]]));
    let numbers = diff(
        &s,
        "scans",
        &[
            ("cat1", "OLD"),
            ("cat2", "NEW"),
            ("q", "10.0.0.3"),
            ("ipsasnumbers", "1"),
        ],
    );
    assert_eq!(numbers, json!([[167772163u32, [[21, 0, "tcp"]]]]));
    let nd = s
        .get(
            "/scans/diffcats",
            &[("cat1", "OLD"), ("cat2", "NEW"), ("format", "ndjson")],
        )
        .ok();
    assert_eq!(nd.body.lines().count(), 2);
    // Missing category: 400 naming it; an unknown category: nothing.
    let r = s.get("/scans/diffcats", &[("cat1", "OLD")]);
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"].as_str().unwrap().contains("cat2"),
        "{}",
        r.body
    );
    assert_eq!(
        diff(&s, "scans", &[("cat1", "OLD"), ("cat2", "NOPE")]),
        json!([])
    );
    // The view merges an address's records: its categories are both, so
    // every open port is in both.
    let view = diff(
        &s,
        "view",
        &[("cat1", "OLD"), ("cat2", "NEW"), ("q", "10.0.0.1")],
    );
    let ports = view[0][1].as_array().unwrap();
    assert!(
        !ports.is_empty() && ports.iter().all(|p| p[1] == 0),
        "{view}"
    );
}

#[test]
fn diffcats_keeps_to_the_keys_base_filter() {
    let name = format!("diffcats-{}", std::process::id());
    let out = tool(
        "ivre-httpd",
        db(),
        &[
            "keys", "add", &name, "--perm", "read", "--filter", "10.0.0.3",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out).trim().to_string();
    let s = Server::start(db(), &["--auth"]);
    assert_eq!(
        s.get("/scans/diffcats", &[("cat1", "OLD"), ("cat2", "NEW")])
            .status,
        401
    );
    let r = s
        .request(
            "GET",
            "/scans/diffcats",
            &[("cat1", "OLD"), ("cat2", "NEW")],
            &[("Authorization", &format!("Bearer {key}"))],
        )
        .ok();
    assert_eq!(r.json(), json!([["10.0.0.3", [[21, 0, "tcp"]]]]));
}

/// An address and its (protocol, port, value).
type Entry = (String, Vec<(String, i64, i64)>);

/// addr -> open (protocol, port) of the records `/scans` lists for `cat`.
fn open_ports(s: &Server, cat: &str) -> BTreeMap<String, BTreeSet<(String, i64)>> {
    let body = s
        .get(
            "/scans",
            &[
                ("q", &format!("category:{cat} limit:0")),
                ("format", "ndjson"),
            ],
        )
        .ok()
        .body;
    let mut out: BTreeMap<String, BTreeSet<(String, i64)>> = BTreeMap::new();
    for line in body.lines() {
        let rec: Value = serde_json::from_str(line).unwrap();
        let set = out
            .entry(rec["addr"].as_str().unwrap().to_string())
            .or_default();
        for p in rec["ports"].as_array().into_iter().flatten() {
            if p["state_state"] == "open" {
                set.insert((
                    p["protocol"].as_str().unwrap().to_string(),
                    p["port"].as_i64().unwrap(),
                ));
            }
        }
    }
    out
}

#[test]
fn diffcats_on_ivres_samples_agrees_with_the_records() {
    let s = Server::start(db(), &[]);
    let one = open_ports(&s, "ONE");
    let two = open_ports(&s, "TWO");
    let mut expected = Vec::new();
    for (addr, p1) in &one {
        let Some(p2) = two.get(addr) else { continue };
        let mut ports: Vec<(String, i64, i64)> = p1
            .union(p2)
            .map(|(proto, port)| {
                let v = match (
                    p1.contains(&(proto.clone(), *port)),
                    p2.contains(&(proto.clone(), *port)),
                ) {
                    (true, true) => 0,
                    (true, false) => -1,
                    _ => 1,
                };
                (proto.clone(), *port, v)
            })
            .collect();
        ports.sort();
        if !ports.is_empty() {
            expected.push((addr.clone(), ports));
        }
    }
    assert!(expected.len() >= 10, "{expected:?}");
    assert!(
        expected.iter().any(|(_, p)| p.iter().any(|x| x.2 != 0)),
        "the samples differ somewhere: {expected:?}"
    );
    let got = diff(&s, "scans", &[("cat1", "ONE"), ("cat2", "TWO")]);
    let mut got: Vec<Entry> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut ports: Vec<(String, i64, i64)> = e[1]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[2].as_str().unwrap().to_string(),
                        p[0].as_i64().unwrap(),
                        p[1].as_i64().unwrap(),
                    )
                })
                .collect();
            ports.sort();
            (e[0].as_str().unwrap().to_string(), ports)
        })
        .collect();
    // The API sorts addresses as addresses, the test as text.
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
}
