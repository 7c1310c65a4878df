//! The scan readers on IVRE's test samples, against the records IVRE stored
//! for them (tests/data/golden, schema 19).

use ivre_model::scan::{read_scan, Host, ParseErrorKind, ReadOptions};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufReader, Read};

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/ivre-samples/"
);
const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/golden/ivre-nmap-records.jsonl.gz"
);

/// (file, records IVRE stored with --port)
const FILES: &[(&str, usize)] = &[
    ("ipv6_all.xml", 1),
    ("masscan-ntlm-smb.xml.bz2", 10),
    ("nmap-ntlm-all.xml.bz2", 11),
    ("nmap-ntlm-smb.xml.bz2", 10),
    ("test-T102-s7comm.xml.bz2", 61),
    ("test-T22.xml.bz2", 101),
    ("test-T443.xml.bz2", 48),
    ("test-probe-ike-ipsec-nat-t-probe-U4500.xml.bz2", 100),
    ("test-probe-ike-probe-U500.xml.bz2", 100),
    ("Nmap-Modbus-IPv4.json.bz2", 503),
];

fn sample(name: &str) -> Vec<u8> {
    let raw = std::fs::read(format!("{SAMPLES}{name}")).unwrap();
    if name.ends_with(".bz2") {
        let mut out = Vec::new();
        bzip2::read::BzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

fn golden() -> Vec<Value> {
    let f = std::fs::File::open(GOLDEN).unwrap();
    let mut s = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn opts() -> ReadOptions {
    ReadOptions {
        categories: vec!["TEST".into()],
        source: Some("SOURCE".into()),
        port_only: true,
        ..Default::default()
    }
}

fn read(name: &str) -> Vec<Host> {
    let data = sample(name);
    read_scan(BufReader::new(&data[..]), &opts())
        .unwrap()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

#[test]
fn record_counts_per_file() {
    let mut total = 0;
    let mut addrs = std::collections::HashSet::new();
    for (name, n) in FILES {
        let hosts = read(name);
        assert_eq!(hosts.len(), *n, "{name}");
        total += hosts.len();
        addrs.extend(hosts.into_iter().map(|h| h.addr));
    }
    assert_eq!(total, 945);
    assert_eq!(addrs.len(), 926);
}

#[test]
fn golden_roundtrip() {
    for (i, g) in golden().into_iter().enumerate() {
        let h: Host =
            serde_json::from_value(g.clone()).unwrap_or_else(|e| panic!("record {i}: {e}"));
        let mut back = serde_json::to_value(&h).unwrap();
        let mut g = g;
        normalise_dates(&mut g);
        normalise_dates(&mut back);
        if let Some(d) = first_diff("", &back, &g) {
            panic!("record {i}: {d}");
        }
    }
}

/// The path and values of the first difference between two JSON values.
fn first_diff(path: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_diff(&p, u, v) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("{p}: {u:?} != {v:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_diff(&format!("{path}[{i}]"), u, v)),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} != {b}")),
    }
}

/// IVRE's PG export of migrated JSON records leaks the internal
/// `ipaddr_0`/`ipaddr_1` form of hop addresses (two biased 64-bit halves of
/// an IPv6 or IPv4-mapped address): turn it back into `ipaddr`.
fn golden_traces(traces: &Value) -> Value {
    let mut t = traces.clone();
    for tr in t.as_array_mut().into_iter().flatten() {
        for hop in tr["hops"].as_array_mut().into_iter().flatten() {
            let hop = hop.as_object_mut().unwrap();
            if let (Some(a), Some(b)) = (hop.remove("ipaddr_0"), hop.remove("ipaddr_1")) {
                let hi = (a.as_i64().unwrap() as u64) ^ (1 << 63);
                let lo = (b.as_i64().unwrap() as u64) ^ (1 << 63);
                let ip = std::net::Ipv6Addr::from((u128::from(hi) << 64) | u128::from(lo));
                let text = match ip.to_ipv4_mapped() {
                    Some(v4) => v4.to_string(),
                    None => ip.to_string(),
                };
                hop.insert("ipaddr".into(), Value::String(text));
            }
        }
    }
    t
}

/// The one documented normalisation: IVRE writes `.000000` fractions.
fn normalise_dates(v: &mut Value) {
    match v {
        Value::String(s) if s.len() == 26 && s.ends_with(".000000") && s.as_bytes()[10] == b' ' => {
            s.truncate(19);
        }
        Value::Array(a) => a.iter_mut().for_each(normalise_dates),
        Value::Object(o) => o.values_mut().for_each(normalise_dates),
        _ => {}
    }
}

fn key(v: &Value) -> String {
    let ports: Vec<String> = v["ports"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| format!("{}/{}", p["protocol"].as_str().unwrap_or(""), p["port"]))
                .collect()
        })
        .unwrap_or_default();
    let mut end = v["endtime"].as_str().unwrap_or("").to_string();
    end.truncate(19);
    format!(
        "{} {} {}",
        v["addr"].as_str().unwrap(),
        end,
        ports.join(",")
    )
}

/// The port fields that do not depend on the script catalogue or on banner
/// fingerprinting.
fn port_fields(p: &Value, with_service: bool) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in p.as_object().unwrap() {
        if k == "protocol"
            || k == "port"
            || k.starts_with("state_")
            || (with_service && k.starts_with("service_"))
        {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

#[test]
fn field_by_field_against_golden() {
    let mut by_key: HashMap<String, Vec<Value>> = HashMap::new();
    for g in golden() {
        by_key.entry(key(&g)).or_default().push(g);
    }
    let mut compared = 0;
    let mut problems = Vec::new();
    for (name, _) in FILES {
        let masscan = name.starts_with("test-") || name.starts_with("masscan");
        for h in read(name) {
            let mine = serde_json::to_value(&h).unwrap();
            let k = key(&mine);
            let Some(gs) = by_key.get(&k) else {
                problems.push(format!("{name}: no golden record for {k}"));
                continue;
            };
            // Masscan can give the same key twice (same host, port and second).
            let g = &gs[0];
            compared += 1;
            let mut check = |field: &str, a: Value, b: Value| {
                if a != b {
                    problems.push(format!("{name} {k}: {field}:\n  mine   {a}\n  golden {b}"));
                }
            };
            check("addr", mine["addr"].clone(), g["addr"].clone());
            for f in ["starttime", "endtime"] {
                let mut a = mine[f].clone();
                let mut b = g[f].clone();
                normalise_dates(&mut a);
                normalise_dates(&mut b);
                check(f, a, b);
            }
            check("state", mine["state"].clone(), g["state"].clone());
            check(
                "categories",
                mine["categories"].clone(),
                g["categories"].clone(),
            );
            check("source", mine["source"].clone(), g["source"].clone());
            check(
                "openports",
                mine["openports"].clone(),
                g["openports"].clone(),
            );
            // Ports: protocol/port/state_*; service_* except for Masscan
            // (service fields there come from banner fingerprinting).
            let pm: Vec<Value> = mine["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| port_fields(p, !masscan))
                .collect();
            let pg: Vec<Value> = g["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| port_fields(p, !masscan))
                .collect();
            check("ports", Value::Array(pm), Value::Array(pg));
            if masscan {
                // Banner scripts: the raw capture is kept as IVRE does; the
                // output of plain banners is the printable rendering. (The
                // catalogue turns some of them into ike-info, s7-info...)
                let banner = |v: &Value| -> Value {
                    v["ports"][0]["scripts"]
                        .as_array()
                        .and_then(|a| a.iter().find(|s| s.get("masscan").is_some()).cloned())
                        .unwrap_or(Value::Null)
                };
                let (a, b) = (banner(&mine), banner(g));
                check("masscan raw", a["masscan"].clone(), b["masscan"].clone());
                if a["id"] == "banner" && b["id"] == "banner" {
                    check("banner output", a["output"].clone(), b["output"].clone());
                }
            }
            if !masscan {
                check("os", mine["os"].clone(), g["os"].clone());
                check(
                    "traces",
                    mine["traces"].clone(),
                    golden_traces(&g["traces"]),
                );
                check(
                    "extraports",
                    mine["extraports"].clone(),
                    g["extraports"].clone(),
                );
            }
            // Hostnames from the XML/JSON itself (catalogue-derived types aside).
            let own = |v: &Value| -> Value {
                v["hostnames"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter(|h| matches!(h["type"].as_str(), Some("PTR") | Some("user")))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or(Value::Array(vec![]))
            };
            check("hostnames", own(&mine), own(g));
            // CPEs from <cpe> elements (fingerprint-derived ones aside).
            if !masscan {
                let own = |v: &Value| -> Value {
                    v["cpes"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter(|c| {
                                    !c["origins"][0]
                                        .as_str()
                                        .unwrap_or("")
                                        .starts_with("scripts.")
                                })
                                .cloned()
                                .collect()
                        })
                        .unwrap_or(Value::Array(vec![]))
                };
                check("cpes", own(&mine), own(g));
            }
        }
    }
    assert_eq!(compared, 945);
    if !problems.is_empty() {
        let n = problems.len();
        let mut by_field: std::collections::BTreeMap<String, usize> = Default::default();
        for p in &problems {
            let f = p
                .lines()
                .next()
                .unwrap_or("")
                .rsplit(": ")
                .next()
                .unwrap_or("")
                .to_string();
            *by_field.entry(f).or_default() += 1;
        }
        eprintln!("differences by field: {by_field:?}");
        problems.truncate(30);
        panic!("{n} differences:\n{}", problems.join("\n"));
    }
}

#[test]
fn truncated_xml_yields_complete_hosts_then_truncated() {
    let data = sample("nmap-ntlm-all.xml.bz2");
    let text = String::from_utf8(data).unwrap();
    // cut in the middle of the 5th <host>
    let mut pos = 0;
    for _ in 0..5 {
        pos = text[pos + 1..].find("<host ").unwrap() + pos + 1;
    }
    let cut = &text[..pos + 200];
    let results: Vec<_> = read_scan(cut.as_bytes(), &ReadOptions::default())
        .unwrap()
        .collect();
    assert_eq!(results.len(), 5);
    assert!(results[..4].iter().all(Result::is_ok));
    let err = results[4].as_ref().unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::Truncated, "{err}");
    assert!(err.line > 0);
}
