//! Parity of the passive parsers and normalisation with the records IVRE
//! stored for its sample captures (`tests/data/golden/`), through Zeek
//! `passive_recon` fixtures derived from them (`tests/data/passive/`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};

use base64::Engine;
use ivre_model::escape;
use ivre_model::passive::{
    normalize::NormalizeConfig, p0f::P0fReader, process, Aggregator, PassiveRecord, ZeekReader,
};
use ivre_model::reader::RecordReader;
use serde_json::{Map, Value};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data");

fn golden() -> Vec<Map<String, Value>> {
    let f = std::fs::File::open(format!("{DATA}/golden/ivre-passive-records.jsonl.gz")).unwrap();
    BufReader::new(flate2::read::GzDecoder::new(f))
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

fn cfg() -> NormalizeConfig {
    let mut cfg = NormalizeConfig::default();
    cfg.dnsbl_zones.push("dnsbl.ivre.rocks".into());
    cfg
}

/// Identity-ish key of a golden record, in our (schema 3) value form.
type Key = (
    Option<String>,
    String,
    Option<String>,
    Option<u64>,
    String,
    Option<String>,
);

fn our_key(r: &PassiveRecord) -> Key {
    (
        r.addr.map(|a| a.to_string()),
        r.recontype.clone(),
        r.source.clone(),
        r.port.map(u64::from),
        r.value.clone(),
        r.targetval.clone(),
    )
}

fn golden_key(g: &Map<String, Value>) -> Key {
    let s = |k: &str| g.get(k).and_then(Value::as_str).map(str::to_owned);
    let rt = s("recontype").unwrap();
    let mut value = s("fullvalue").or_else(|| s("value")).unwrap();
    if rt == "SSH_SERVER_HOSTKEY" {
        // Golden data is schema 2 (escaped blob); schema 3 stores base64.
        value = base64::engine::general_purpose::STANDARD.encode(escape::decode(&value));
    }
    (
        s("addr"),
        rt,
        s("source"),
        g.get("port").and_then(Value::as_u64),
        value,
        s("targetval"),
    )
}

/// Golden infos with the full values restored and the Nmap service keys
/// (computed by `probes`, out of this module) removed.
fn golden_infos(g: &Map<String, Value>) -> Map<String, Value> {
    let mut infos = g
        .get("infos")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Object(full)) = g.get("fullinfos") {
        for (k, v) in full {
            infos.insert(k.clone(), v.clone());
        }
    }
    infos.retain(|k, _| !k.starts_with("service_"));
    infos
}

#[test]
fn zeek_fixture_reproduces_golden_records() {
    let f = std::fs::File::open(format!("{DATA}/passive/zeek/passive_recon.log")).unwrap();
    let cfg = cfg();
    let mut agg = Aggregator::new();
    let mut lines = 0;
    for item in ZeekReader::new(BufReader::new(f))
        .with_sensor(Some("TEST".into()))
        .records()
    {
        let rec = item.expect("fixture lines are valid");
        lines += 1;
        for r in process(rec, &cfg, None) {
            agg.add(r);
        }
    }
    assert!(lines > 500);
    let ours: HashMap<Key, PassiveRecord> = agg
        .into_records()
        .into_iter()
        .map(|r| (our_key(&r), r))
        .collect();
    // Per recontype: (golden records, reproduced with same value, same
    // infos, same count).
    let mut stats: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let mut failures = Vec::new();
    for g in golden() {
        let rt = g["recontype"].as_str().unwrap().to_owned();
        if rt.starts_with("P0FV3") {
            continue;
        }
        let st = stats.entry(rt.clone()).or_default();
        st[0] += 1;
        let key = golden_key(&g);
        let Some(r) = ours.get(&key) else {
            failures.push(format!("missing {key:?}"));
            continue;
        };
        st[1] += 1;
        let want = golden_infos(&g);
        let got = r.infos.clone().unwrap_or_default();
        if want == got {
            st[2] += 1;
        } else {
            failures.push(format!(
                "infos differ for {key:?}:\n  want {}\n  got  {}",
                Value::Object(want),
                Value::Object(got)
            ));
        }
        // Golden times are the Paris local time of IVRE's test run.
        for (ours, theirs) in [(r.firstseen, &g["firstseen"]), (r.lastseen, &g["lastseen"])] {
            let theirs = chrono::NaiveDateTime::parse_from_str(
                theirs.as_str().unwrap(),
                "%Y-%m-%d %H:%M:%S%.f",
            )
            .unwrap();
            let offset = (theirs - ours.naive_utc()).num_seconds();
            if offset != 3600 && offset != 7200 {
                failures.push(format!("time differs for {key:?}: {ours} vs {theirs}"));
            }
        }
        if Some(r.count) == g["count"].as_u64() {
            st[3] += 1;
        } else {
            failures.push(format!(
                "count differs for {key:?}: {} vs {}",
                r.count, g["count"]
            ));
        }
    }
    for (rt, [n, found, infos, count]) in &stats {
        eprintln!("{rt:30} golden {n:3}  found {found:3}  infos {infos:3}  count {count:3}");
    }
    for f in failures.iter().take(20) {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{} mismatches", failures.len());
}

#[test]
fn golden_records_deserialise() {
    for g in golden() {
        let r: PassiveRecord = serde_json::from_value(Value::Object(g.clone())).unwrap();
        assert_eq!(r.recontype, g["recontype"].as_str().unwrap());
        assert_eq!(Some(r.count), g["count"].as_u64());
    }
}

#[test]
fn zeek_json_variant_gives_the_same_records() {
    let text = std::fs::read_to_string(format!("{DATA}/passive/zeek/passive_recon.log")).unwrap();
    let names = [
        "ts",
        "uid",
        "host",
        "srvport",
        "recon_type",
        "source",
        "value",
        "targetval",
    ];
    let mut json = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut obj = Map::new();
        for (name, field) in names.iter().zip(line.split('\t')) {
            let v = match (*name, field) {
                (_, "-") => continue,
                (_, "(empty)") => Value::String(String::new()),
                ("ts", f) => serde_json::from_str(f).unwrap(),
                ("srvport", f) => Value::from(f.parse::<u64>().unwrap()),
                (_, f) => Value::String(f.to_owned()),
            };
            obj.insert(name.to_string(), v);
        }
        json.push_str(&Value::Object(obj).to_string());
        json.push('\n');
    }
    let tsv: Vec<PassiveRecord> = ZeekReader::new(text.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    let js: Vec<PassiveRecord> = ZeekReader::new(json.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(tsv.len(), js.len());
    assert_eq!(tsv, js);
}

/// Independent p0f line counter: (addr, recontype, port, value) → lines;
/// the server port on server (SYN+ACK) records only.
fn count_p0f(text: &str) -> BTreeMap<(String, String, Option<u16>, String), u64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(idx) = line.find("] ") else { continue };
        let mut kv = HashMap::new();
        for part in line[idx + 2..].split('|') {
            if let Some((k, v)) = part.split_once('=') {
                kv.insert(k, v);
            }
        }
        let rt = match kv.get("mod") {
            Some(&"syn") => "P0FV3_SYN",
            Some(&"syn+ack") => "P0FV3_SYN+ACK",
            _ => continue,
        };
        let subj = kv["subj"];
        let ip = kv[subj].rsplit_once('/').unwrap().0;
        let ip = ip.parse::<std::net::IpAddr>().unwrap().to_string();
        let port: Option<u16> =
            (subj == "srv").then(|| kv["srv"].rsplit_once('/').unwrap().1.parse().unwrap());
        *out.entry((ip, rt.to_owned(), port, kv["raw_sig"].to_owned()))
            .or_default() += 1;
    }
    out
}

#[test]
fn p0f_logs_aggregate_like_an_independent_counter() {
    let dir = format!("{DATA}/passive/p0f");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 12);
    let mut all = Aggregator::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = count_p0f(&text);
        let mut agg = Aggregator::new();
        for item in P0fReader::new(text.as_bytes())
            .with_sensor(Some("TEST".into()))
            .records()
        {
            let rec = item.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            agg.add(rec.clone());
            all.add(rec);
        }
        let got: BTreeMap<_, _> = agg
            .into_records()
            .into_iter()
            .map(|r| {
                (
                    (r.addr.unwrap().to_string(), r.recontype, r.port, r.value),
                    r.count,
                )
            })
            .collect();
        assert_eq!(got, expected, "{}", path.display());
    }
    // Every p0f record IVRE stored is produced. The golden dump comes from
    // an older IVRE that kept the server port on client (SYN) records:
    // its SYN records are summed per address and signature first.
    let ours: Vec<PassiveRecord> = all.into_records();
    let mut want: BTreeMap<(String, String, Option<u64>, String), u64> = BTreeMap::new();
    for g in golden() {
        let rt = g["recontype"].as_str().unwrap();
        // The 2015-09-18 capture (Nuclear EK) is not in the corpus.
        if !rt.starts_with("P0FV3") || g["firstseen"].as_str().unwrap().starts_with("2015-09-18") {
            continue;
        }
        let port = if rt == "P0FV3_SYN" {
            None
        } else {
            g["port"].as_u64()
        };
        let key = (
            rt.to_owned(),
            g["addr"].as_str().unwrap().to_owned(),
            port,
            g["value"].as_str().unwrap().to_owned(),
        );
        *want.entry(key).or_default() += g["count"].as_u64().unwrap();
    }
    let mut missing = 0;
    for ((rt, addr, port, value), count) in &want {
        let found = ours.iter().any(|r| {
            &r.recontype == rt
                && r.addr.map(|a| a.to_string()).as_ref() == Some(addr)
                && r.port.map(u64::from) == *port
                && &r.value == value
                && r.source.as_deref() == Some("P0FV3")
                && r.count == *count
        });
        if !found {
            missing += 1;
            eprintln!("p0f golden record not produced: {rt} {addr} {port:?} {value} {count}");
        }
    }
    assert_eq!(missing, 0);
}
