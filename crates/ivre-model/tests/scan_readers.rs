//! The scan readers on IVRE's test samples, against the records IVRE stored
//! for them (tests/data/golden, schema 19).

use ivre_model::scan::{read_scan, Host, ParseErrorKind, ReadOptions};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::sync::{Mutex, OnceLock};

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
    static CACHE: OnceLock<Vec<Value>> = OnceLock::new();
    CACHE.get_or_init(load_golden).clone()
}

fn load_golden() -> Vec<Value> {
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

/// The records of a sample (parsed once per test binary).
fn read(name: &str) -> Vec<Host> {
    static CACHE: OnceLock<Mutex<HashMap<String, Vec<Host>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(h) = cache.lock().unwrap().get(name) {
        return h.clone();
    }
    let data = sample(name);
    let hosts: Vec<Host> = read_scan(BufReader::new(&data[..]), &opts())
        .unwrap()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect();
    cache
        .lock()
        .unwrap()
        .insert(name.to_string(), hosts.clone());
    hosts
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

fn is_honeypot(v: &Value) -> bool {
    v["tags"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["value"] == "Honeypot"))
}

#[test]
fn field_by_field_against_golden() {
    let mut by_key: HashMap<String, Vec<Value>> = HashMap::new();
    for g in golden() {
        by_key.entry(key(&g)).or_default().push(g);
    }
    let mut compared = 0;
    let mut honeypots = 0;
    let mut problems = Vec::new();
    for (name, _) in FILES {
        let masscan = name.starts_with("test-") || name.starts_with("masscan");
        for h in read(name) {
            let mine = serde_json::to_value(&h).unwrap();
            // The schema-20 migration (not applied to the schema-19 golden
            // records) removed the fake ports of SYN-ACK honeypots.
            if is_honeypot(&mine) {
                honeypots += 1;
                continue;
            }
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
    assert_eq!((compared, honeypots), (942, 3));
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

#[test]
fn golden_file_through_the_ivre_json_reader() {
    // The golden records are IVRE JSON lines themselves (schema 19).
    let f = std::fs::File::open(GOLDEN).unwrap();
    let input = BufReader::new(flate2::read::GzDecoder::new(f));
    let reader = ivre_model::scan::ScanReader::open(input, &ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), ivre_model::scan::ScanFormat::IvreJson);
    let hosts: Vec<Host> = reader.map(Result::unwrap).collect();
    assert_eq!(hosts.len(), 945);
    assert!(hosts
        .iter()
        .all(|h| h.schema_version == Some(22) && h.openports.is_some()));
}

#[test]
fn scan_info_of_a_sample() {
    let data = sample("nmap-ntlm-all.xml.bz2");
    let mut reader = ivre_model::scan::ScanReader::open(&data[..], &opts()).unwrap();
    assert_eq!(reader.by_ref().count(), 11);
    let info = reader.scan_info().unwrap();
    assert_eq!(info.scanner.as_deref(), Some("nmap"));
    assert_eq!(info.version.as_deref(), Some("7.80SVN"));
    assert!(info
        .args
        .as_deref()
        .unwrap()
        .contains("--script *-ntlm-info"));
    assert_eq!(info.start.unwrap().to_string(), "2021-01-09 21:42:43");
    assert_eq!(info.end.unwrap().to_string(), "2021-01-09 21:43:04");
    assert_eq!(info.xmloutputversion.as_deref(), Some("1.04"));
    assert!(info.complete);
}

/// Pins a few records by hand (the exhaustive comparison is above).
#[test]
fn representative_records() {
    // Nmap XML over IPv6: a CPE from <service><cpe>, extraports, the host-script port.
    let h = &read("ipv6_all.xml")[0];
    let v = serde_json::to_value(h).unwrap();
    assert_eq!(v["addr"], "2601:449:4200:577c:3e15:c2ff:feea:b872");
    assert_eq!(v["starttime"], "2016-01-16 13:33:12");
    assert_eq!(v["endtime"], "2016-01-16 13:35:36");
    assert_eq!(v["state_reason"], "conn-refused");
    assert_eq!(
        v["cpes"],
        serde_json::json!([{"type": "a", "vendor": "apple", "product": "itunes", "version": "12.3.2.35", "origins": ["ports.port:3689"]}])
    );
    assert_eq!(
        v["openports"]["tcp"]["ports"],
        serde_json::json!([111, 1022, 2049, 3689])
    );
    assert_eq!(v["extraports"]["filtered"]["total"], 498);

    // IVRE JSON schema 0: an OS match and a traceroute.
    let hosts = read("Nmap-Modbus-IPv4.json.bz2");
    let h = hosts.iter().find(|h| h.addr == "220.128.238.187").unwrap();
    let os = h.os.as_ref().unwrap();
    let m = &os.osmatch.as_ref().unwrap()[0];
    assert_eq!(m.name.as_deref(), Some("Microsoft Windows Vista SP0 - SP1"));
    assert_eq!(
        (m.accuracy.as_deref(), m.line.as_deref()),
        (Some("96"), Some("61569"))
    );
    assert_eq!(os.osclass.as_ref().unwrap().len(), 15);
    let t = &h.traces.as_ref().unwrap()[0];
    assert_eq!((t.protocol.as_deref(), t.port), (Some("tcp"), Some(995)));
    assert_eq!(t.hops.len(), 11);
    assert_eq!(t.hops[1].ipaddr.as_deref(), Some("65.49.10.217"));
    assert_eq!(t.hops[1].host.as_deref(), Some("10ge7-6.core3.fmt2.he.net"));
    assert_eq!(h.openports.as_ref().unwrap().count, 16);
    assert_eq!(h.ports.as_ref().unwrap().last().unwrap().port, -1);

    // Masscan banners.
    let hosts = read("test-T22.xml.bz2");
    let h = hosts.iter().find(|h| h.addr == "178.33.91.90").unwrap();
    let v = serde_json::to_value(h).unwrap();
    assert_eq!(
        v["ports"][0]["scripts"][0],
        serde_json::json!({"id": "banner", "output": "SSH-2.0-OpenSSH_6.0p1 Debian-4+deb7u2",
            "masscan": {"raw": "U1NILTIuMC1PcGVuU1NIXzYuMHAxIERlYmlhbi00K2RlYjd1Mg==", "encoded": "SSH-2.0-OpenSSH_6.0p1 Debian-4+deb7u2"}})
    );
    assert_eq!(v["starttime"], "2016-09-05 05:39:51");
    assert_eq!(v["starttime"], v["endtime"]);
    let hosts = read("test-T443.xml.bz2");
    let h = hosts.iter().find(|h| h.addr == "81.5.150.60").unwrap();
    let p = &h.ports.as_ref().unwrap()[0];
    assert_eq!(p.service_tunnel.as_deref(), Some("ssl"));
    let s = &p.scripts.as_ref().unwrap()[0];
    assert_eq!(s.id, "ssl-cert");
    // The catalogue parsed the DER certificate of the banner.
    let cert = &s.data.as_ref().unwrap()[0];
    assert_eq!(cert["sha256"].as_str().map(str::len), Some(64));
    assert!(cert["pem"]
        .as_str()
        .unwrap()
        .contains("MIIDaTCCAlGgAwIBAgIBATANBgkqhkiG9w0BAQsFADB4"));
    assert!(s.output.starts_with("Subject:"), "{}", s.output);
}

/// Old IVRE JSON records (schema 0) have their scripts run through the
/// catalogue again: what IVRE's migrations derived is there.
#[test]
fn old_ivre_json_scripts_are_reprocessed() {
    let golden: Vec<Value> = golden()
        .into_iter()
        .filter(|g| g["starttime"].as_str().unwrap() < "2016")
        .collect();
    let mut ntlm = 0;
    for h in read("Nmap-Modbus-IPv4.json.bz2") {
        let mine = serde_json::to_value(&h).unwrap();
        if is_honeypot(&mine) {
            continue;
        }
        let g = golden.iter().find(|g| key(g) == key(&mine)).unwrap();
        // IVRE's hostnames (PTR, and ntlm from the ntlm-info migration) are all there.
        for hn in g["hostnames"].as_array().into_iter().flatten() {
            assert!(
                mine["hostnames"].as_array().unwrap().contains(hn),
                "{}: {hn}",
                mine["addr"]
            );
            ntlm += usize::from(hn["type"] == "ntlm");
        }
        // Script ids: IVRE's are all there (the catalogue may add http-app, and
        // drops the useless outputs it drops from fresh results).
        for (pm, pg) in mine["ports"]
            .as_array()
            .unwrap()
            .iter()
            .zip(g["ports"].as_array().unwrap())
        {
            let ids = |p: &Value| -> Vec<Value> {
                p["scripts"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            // what the ignore rules drop from fresh results
                            .filter(|s| {
                                !ivre_model::scan::scripts::ignore::is_ignored(
                                    s["id"].as_str().unwrap(),
                                    s["output"].as_str().unwrap_or(""),
                                )
                            })
                            .map(|s| s["id"].clone())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let mine_ids = ids(pm);
            for id in ids(pg) {
                assert!(
                    mine_ids.contains(&id),
                    "{} port {}: {id}",
                    mine["addr"],
                    pm["port"]
                );
            }
        }
    }
    assert!(ntlm > 0);
}

#[test]
fn s7_info_only_for_s7_exchanges() {
    // IVRE: 43 records match `--script s7-info` on the samples (40 Masscan
    // captures, 3 Nmap results); the other 8 Masscan captures on 102/tcp
    // (disconnects, echoed requests, non-S7 data) stay `banner` scripts.
    let has = |h: &Host, id: &str| {
        h.ports
            .iter()
            .flatten()
            .flat_map(|p| p.scripts.iter().flatten())
            .any(|s| s.id == id)
    };
    let all: Vec<Host> = FILES.iter().flat_map(|(name, _)| read(name)).collect();
    assert_eq!(all.iter().filter(|h| has(h, "s7-info")).count(), 43);
    let masscan = read("test-T102-s7comm.xml.bz2");
    let tsap_banners = masscan
        .iter()
        .filter(|h| {
            h.ports.iter().flatten().any(|p| {
                p.service_name.as_deref() == Some("iso-tsap")
                    && p.scripts.iter().flatten().any(|s| s.id == "banner")
            })
        })
        .count();
    assert_eq!(tsap_banners, 8);
}
