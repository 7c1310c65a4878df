//! Flow readers on real files (`tests/data/flow`, see its README): IVRE's
//! NetFlow and cleanup oracles, Zeek protocol logs, Argus, iptables, and
//! no panic on junk.

use std::io::{BufRead, BufReader, Read};

use ivre_model::flow::argus::ArgusReader;
use ivre_model::flow::iptables::IptablesReader;
use ivre_model::flow::nfdump::NfdumpReader;
use ivre_model::flow::zeek::ZeekFlowReader;
use ivre_model::flow::{
    Endpoints, Flow, FlowAggregator, FlowCounts, FlowReadError, Observation, ObservationKind,
    PortRanking, SlotConfig,
};
use ivre_model::reader::RecordReader;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/flow");

fn open(name: &str) -> Box<dyn BufRead> {
    let path = format!("{DATA}/{name}");
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if name.ends_with(".gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(f)))
    } else {
        Box::new(BufReader::new(f))
    }
}

fn nmap_services() -> PortRanking {
    let mut text = String::new();
    open("nmap-services.gz").read_to_string(&mut text).unwrap();
    PortRanking::from_nmap_services(&text)
}

/// Every record of a reader, which must have no bad line.
fn all<R: RecordReader<Record = Observation, Error = FlowReadError>>(r: R) -> Vec<Observation> {
    r.records().map(|o| o.expect("valid line")).collect()
}

fn aggregate(obs: Vec<Observation>) -> FlowAggregator {
    let mut agg = FlowAggregator::new(SlotConfig::default());
    for o in obs {
        agg.add(o);
    }
    agg
}

fn counts(agg: &FlowAggregator) -> FlowCounts {
    FlowCounts::of(agg.flows())
}

const NETFLOW_ORACLE: FlowCounts = FlowCounts {
    clients: 22,
    servers: 55,
    flows: 65,
};

#[test]
fn netflow_oracle_from_every_nfdump_format() {
    let ranking = nmap_services();
    assert!(ranking.len() > 20_000);
    for (file, records) in [
        ("nfcapd-ivre.txt", 168),
        ("nfcapd.csv", 209),
        ("nfcapd.pipe", 209),
    ] {
        let obs = all(NfdumpReader::new(open(file), &ranking));
        assert_eq!(obs.len(), records, "{file}");
        let mut agg = aggregate(obs);
        assert_eq!(counts(&agg), NETFLOW_ORACLE, "{file}");
        // flow2db cleans up after the import: the oracle holds after it.
        assert_eq!(agg.cleanup(), 0, "{file}");
        assert_eq!(counts(&agg), NETFLOW_ORACLE, "{file}");
    }
}

#[test]
fn nfdump_formats_agree_on_keys_and_counters() {
    let ranking = nmap_services();
    let flows = |file| aggregate(all(NfdumpReader::new(open(file), &ranking))).into_flows();
    let (ivre, csv, pipe) = (
        flows("nfcapd-ivre.txt"),
        flows("nfcapd.csv"),
        flows("nfcapd.pipe"),
    );
    let keys = |fs: &[Flow]| fs.iter().map(|f| f.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&ivre), keys(&csv));
    assert_eq!(keys(&ivre), keys(&pipe));
    for ((a, b), c) in ivre.iter().zip(&csv).zip(&pipe) {
        let (a, b, c) = (
            a.counters.unwrap(),
            b.counters.unwrap(),
            c.counters.unwrap(),
        );
        // nfdump -a merged some records: counts differ, volumes do not.
        assert_eq!(
            (a.cspkts, a.scpkts, a.csbytes, a.scbytes),
            (b.cspkts, b.scpkts, b.csbytes, b.scbytes)
        );
        assert_eq!(b, c);
    }
    let total: u64 = csv.iter().map(|f| f.counters.unwrap().count).sum();
    assert_eq!(total, 209);
}

#[test]
fn cleanup_oracle_on_mongo_conn_log() {
    let obs = all(ZeekFlowReader::new(open("mongo_conn.log")));
    assert_eq!(obs.len(), 70);
    let mut agg = aggregate(obs);
    assert_eq!(
        counts(&agg),
        FlowCounts {
            clients: 3,
            servers: 3,
            flows: 12
        }
    );
    let before: u64 = agg
        .flows()
        .map(|f| f.counters.unwrap().csbytes)
        .sum::<u64>()
        + agg
            .flows()
            .map(|f| f.counters.unwrap().scbytes)
            .sum::<u64>();
    let slots_before: usize = agg.flows().map(|f| f.times.len()).max().unwrap();
    assert_eq!(agg.cleanup(), 10);
    assert_eq!(
        counts(&agg),
        FlowCounts {
            clients: 2,
            servers: 2,
            flows: 2
        }
    );
    // Nothing is lost nor multiplied: bytes and observations are kept.
    let after: u64 = agg
        .flows()
        .map(|f| f.counters.unwrap().csbytes)
        .sum::<u64>()
        + agg
            .flows()
            .map(|f| f.counters.unwrap().scbytes)
            .sum::<u64>();
    assert_eq!(before, after);
    assert_eq!(
        agg.flows().map(|f| f.counters.unwrap().count).sum::<u64>(),
        70
    );
    let mongo = agg
        .flows()
        .find(|f| f.key.dport == Some(27017))
        .expect("the MongoDB flow");
    assert_eq!(mongo.key.src.to_string(), "192.168.4.11");
    assert_eq!(mongo.counters.unwrap().count, 68);
    assert!(mongo.times.len() >= slots_before);
}

/// The same log in Zeek's JSON encoding (keys with dots, numbers for
/// times, ports and counts, unset fields left out) gives the same
/// observations.
#[test]
fn zeek_json_encoding_reads_like_tsv() {
    let mut text = String::new();
    open("mongo_conn.log").read_to_string(&mut text).unwrap();
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap()
            .split('\t')
            .skip(1)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let (fields, types) = (line("#fields"), line("#types"));
    let mut json = String::new();
    for data in text.lines().filter(|l| !l.starts_with('#')) {
        let mut obj = serde_json::Map::new();
        for ((name, ty), cell) in fields.iter().zip(&types).zip(data.split('\t')) {
            if cell == "-" {
                continue;
            }
            let value = match ty.as_str() {
                "time" | "interval" => serde_json::json!(cell.parse::<f64>().unwrap()),
                "port" | "count" => serde_json::json!(cell.parse::<u64>().unwrap()),
                _ => serde_json::json!(cell),
            };
            obj.insert(name.clone(), value);
        }
        json.push_str(&serde_json::Value::Object(obj).to_string());
        json.push('\n');
    }
    let tsv = all(ZeekFlowReader::new(text.as_bytes()));
    let from_json = all(ZeekFlowReader::new(json.as_bytes()).with_path(Some("conn".into())));
    assert_eq!(tsv.len(), 70);
    assert_eq!(tsv, from_json);
}

#[test]
fn zeek_protocol_logs_give_metadata() {
    let mut agg = FlowAggregator::new(SlotConfig::default());
    for (file, entries) in [
        ("zeek/snmp.log.gz", None),
        ("zeek/modbus.log.gz", None),
        ("zeek/ssh.log.gz", None),
        ("zeek/dns-head.log.gz", Some(400)),
        ("zeek/ssl-head.log.gz", Some(400)),
        ("zeek/rdp-head.log.gz", Some(400)),
    ] {
        let obs = all(ZeekFlowReader::new(open(file)));
        if let Some(n) = entries {
            assert_eq!(obs.len(), n, "{file}");
        }
        assert!(!obs.is_empty(), "{file}");
        assert!(obs
            .iter()
            .all(|o| matches!(o.kind, ObservationKind::Meta(_))));
        for o in obs {
            agg.add(o);
        }
    }
    let flows = agg.into_flows();
    // Protocol logs bring no traffic counters nor source ports.
    assert!(flows
        .iter()
        .all(|f| f.counters.is_none() && f.sports.is_empty()));
    let with = |log: &str| flows.iter().filter(|f| f.meta.contains_key(log)).count();
    for log in ["snmp", "modbus", "ssh", "dns", "ssl", "rdp"] {
        assert!(with(log) > 0, "{log}");
    }
    let snmp = flows.iter().find(|f| f.meta.contains_key("snmp")).unwrap();
    assert_eq!(snmp.key.proto, "udp");
    assert!(snmp.meta["snmp"].keys.contains_key("community"));
    let modbus = flows
        .iter()
        .find(|f| f.meta.contains_key("modbus"))
        .unwrap();
    assert_eq!(
        (modbus.key.proto.as_str(), modbus.key.dport),
        ("tcp", Some(502))
    );
    assert!(modbus.meta["modbus"].keys.contains_key("name"));
    // DNS names are lower case, answers one element each.
    for f in flows.iter().filter(|f| f.meta.contains_key("dns")) {
        for q in f.meta["dns"].keys.get("query").into_iter().flatten() {
            let text = q.to_json().as_str().unwrap().to_owned();
            assert_eq!(text, text.to_lowercase());
        }
        for a in f.meta["dns"].keys.get("answers").into_iter().flatten() {
            assert!(a.to_json().is_string());
        }
    }
    let total: u64 = flows
        .iter()
        .map(|f| f.meta.get("dns").map_or(0, |m| m.count))
        .sum();
    assert_eq!(total, 400);
}

#[test]
fn argus_outputs() {
    for name in ["dns", "http", "nb6-telephone"] {
        let ra = all(ArgusReader::new(open(&format!("argus/ra-{name}.csv"))));
        let rc = all(ArgusReader::new(open(&format!(
            "argus/racluster-{name}.csv"
        ))));
        assert!(!ra.is_empty() && !rc.is_empty(), "{name}");
        // racluster merges ra's records by 5-tuple: same flows, same bytes.
        let (a, b) = (aggregate(ra).into_flows(), aggregate(rc).into_flows());
        let keys = |fs: &[Flow]| fs.iter().map(|f| f.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&a), keys(&b), "{name}");
        for (x, y) in a.iter().zip(&b) {
            let (x, y) = (x.counters.unwrap(), y.counters.unwrap());
            assert_eq!((x.csbytes, x.scbytes), (y.csbytes, y.scbytes), "{name}");
        }
    }
    let dns = aggregate(all(ArgusReader::new(open("argus/racluster-dns.csv")))).into_flows();
    assert!(dns
        .iter()
        .any(|f| f.key.proto == "udp" && f.key.dport == Some(53)));
}

#[test]
fn argus_and_nfdump_of_one_capture_agree() {
    // The same http.pcap, through argus and through nfpcapd.
    let argus = aggregate(all(ArgusReader::new(open("argus/racluster-http.csv")))).into_flows();
    let nf = aggregate(all(NfdumpReader::new(
        open("argus/nfdump-http.csv"),
        &nmap_services(),
    )))
    .into_flows();
    let keys = |fs: &[Flow]| {
        fs.iter()
            .filter(|f| f.key.proto == "tcp" || f.key.proto == "udp")
            .map(|f| f.key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&argus), keys(&nf));
}

#[test]
fn iptables_oracle() {
    let obs = all(IptablesReader::new(open("iptables.log"), 2020));
    assert_eq!(obs.len(), 40);
    for o in &obs {
        match o.proto.as_str() {
            "tcp" | "udp" => assert!(matches!(
                o.endpoints,
                Endpoints::Ports { sport: Some(_), .. }
            )),
            _ => assert_eq!(o.endpoints, Endpoints::None),
        }
        assert_eq!(o.start.format("%Y").to_string(), "2020");
    }
    assert!(obs.iter().any(|o| o.proto == "2"));
}

/// Random bytes, shaped like each format's lines, never panic any reader.
#[test]
fn junk_never_panics() {
    let ranking = nmap_services();
    let mut seed: u64 = 0x2545f4914f6cdd1d;
    let seeds: [&[u8]; 5] = [
        b"#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\n#types\ttime\taddr\tport\taddr\tport\tenum\tinterval\n",
        b"ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt\n",
        b"StartTime,LastTime,SrcAddr,Sport,DstAddr,Dport,Proto,State,SrcPkts,DstPkts,SrcBytes,DstBytes\n",
        b"Feb  9 23:52:49 h k: IN=eth0 SRC=1.2.3.4 DST=5.6.7.8 PROTO=",
        b"2|1|2|6|0|0|0|1|80|0|0|0|2|",
    ];
    for round in 0..400 {
        let mut data = seeds[round % seeds.len()].to_vec();
        for _ in 0..(seed % 300) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let b = (seed % 256) as u8;
            data.push(match b % 9 {
                0 => b'\t',
                1 => b'\n',
                2 => b',',
                3 => b'|',
                4 => b'0' + b % 10,
                5 => b'.',
                _ => b,
            });
        }
        let _ = ZeekFlowReader::new(&data[..]).records().count();
        let _ = NfdumpReader::new(&data[..], &ranking).records().count();
        let _ = ArgusReader::new(&data[..]).records().count();
        let _ = IptablesReader::new(&data[..], 2020).records().count();
        let mut agg = FlowAggregator::new(SlotConfig::new(1, 0).unwrap());
        for o in ZeekFlowReader::new(&data[..]).records().flatten() {
            agg.add(o);
        }
        agg.cleanup();
    }
}

#[test]
fn fixture_formats_are_detected() {
    use ivre_model::flow::{detect, FlowFormat};
    for (file, format) in [
        ("nfcapd", FlowFormat::NfcapdFile),
        (
            "nfdump-captures/nfcapd.200405131015",
            FlowFormat::NfcapdFile,
        ),
        ("argus/argus-dns.argus", FlowFormat::ArgusFile),
        ("nfcapd.csv", FlowFormat::NfdumpText),
        ("nfcapd-ivre.txt", FlowFormat::NfdumpText),
        ("argus/ra-dns.csv", FlowFormat::ArgusText),
        ("argus/racluster-dns.csv", FlowFormat::ArgusText),
        ("iptables.log", FlowFormat::Iptables),
        ("mongo_conn.log", FlowFormat::Zeek),
        ("zeek/ssh.log.gz", FlowFormat::Zeek),
    ] {
        let mut head = vec![0; 4096];
        let n = open(file).read(&mut head).unwrap();
        assert_eq!(detect(&head[..n]), Some(format), "{file}");
    }
}

/// Every fixture together: NetFlow, Zeek conn and protocol logs, iptables.
fn all_flows() -> Vec<Flow> {
    let ranking = nmap_services();
    let mut agg = FlowAggregator::new(SlotConfig::default());
    let mut obs = all(NfdumpReader::new(open("nfcapd.csv"), &ranking));
    obs.extend(all(ZeekFlowReader::new(open("mongo_conn.log"))));
    obs.extend(all(IptablesReader::new(open("iptables.log"), 2020)));
    for f in [
        "zeek/dns-head.log.gz",
        "zeek/ssl-head.log.gz",
        "zeek/snmp.log.gz",
    ] {
        obs.extend(all(ZeekFlowReader::new(open(f))));
    }
    obs.extend(all(ArgusReader::new(open(
        "argus/racluster-nb6-telephone.csv",
    ))));
    for o in obs {
        agg.add(o);
    }
    agg.into_flows()
}

/// IVRE's filter algebra (spec 1.13), on our data, in memory.
#[test]
fn filter_algebra() {
    use ivre_model::flow::{matches, parse_filter, parse_filters};
    let flows = all_flows();
    let total = flows.len();
    assert!(total > 150, "{total}");
    let n = |f: &str| {
        let filter = parse_filter(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        flows.iter().filter(|fl| matches(&filter, fl)).count()
    };
    // The protocols OR-ed give the total.
    let mut protos: Vec<String> = flows.iter().map(|f| f.key.proto.clone()).collect();
    protos.sort();
    protos.dedup();
    assert!(protos.len() >= 5, "{protos:?}");
    let any_proto = protos
        .iter()
        .map(|p| format!("proto = {p}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    assert_eq!(n(&any_proto), total);
    assert_eq!(
        protos
            .iter()
            .map(|p| n(&format!("proto = {p}")))
            .sum::<usize>(),
        total
    );
    // Existence and its negation.
    for field in [
        "sports",
        "dport",
        "codes",
        "count",
        "meta.dns",
        "meta.dns.answers",
    ] {
        assert_eq!(n(field) + n(&format!("!{field}")), total, "{field}");
        assert!(n(field) > 0, "{field}");
    }
    assert_eq!(n("ANY sports = 68") + n("!ANY sports = 68"), total);
    assert_eq!(n("ANY sports = 68") + n("NONE sports = 68"), total);
    assert!(n("sports = 68") > 0);
    // A scalar splits in three; >= and < complement among those having it.
    assert_eq!(
        n("dport = 80") + n("dport > 80") + n("dport < 80"),
        n("dport")
    );
    assert_eq!(n("dport >= 1024") + n("dport < 1024"), n("dport"));
    assert_eq!(n("dport <= 1024") + n("!dport <= 1024"), total);
    assert_eq!(n("dport != 80") + n("dport = 80"), total);
    for op in ["=", ":", "=="] {
        assert_eq!(n(&format!("dport {op} 80")), n("dport = 80"));
    }
    // LEN, ALL, ANY against direct counts.
    let direct = |pred: &dyn Fn(&Flow) -> bool| flows.iter().filter(|f| pred(f)).count();
    assert_eq!(n("LEN sports = 1"), direct(&|f| f.sports.len() == 1));
    assert_eq!(n("LEN sports > 2"), direct(&|f| f.sports.len() > 2));
    assert_eq!(
        n("ALL sports > 50000"),
        direct(&|f| !f.sports.is_empty() && f.sports.iter().all(|p| *p > 50000))
    );
    assert!(n("ALL sports > 50000") <= n("ANY sports > 50000"));
    assert_eq!(n("LEN times = 1") + n("LEN times > 1"), n("times"));
    assert_eq!(n("ALL times.duration = 3600"), n("times"));
    // Addresses: `addr` is either side, its negation neither.
    let a = "192.168.122.214";
    assert_eq!(
        n(&format!("addr = {a}")),
        n(&format!("src.addr = {a} OR dst.addr = {a}"))
    );
    let ip: std::net::IpAddr = a.parse().unwrap();
    assert_eq!(
        n(&format!("!addr = {a}")),
        direct(&|f| f.key.src != ip && f.key.dst != ip)
    );
    assert_eq!(
        n(&format!("addr = {a}")) + n(&format!("!addr = {a}")),
        total
    );
    assert_eq!(
        n("addr =~ 192.168.0.0/16"),
        direct(&|f| {
            let net = |ip: &std::net::IpAddr| ip.to_string().starts_with("192.168.");
            net(&f.key.src) || net(&f.key.dst)
        })
    );
    // Regular expressions and metadata.
    assert_eq!(
        n("meta.dns.query =~ \\.com$") + n("!meta.dns.query =~ \\.com$"),
        total
    );
    assert!(n("meta.dns.query =~ \\.com$") > 0);
    assert!(n("meta.snmp.community") > 0);
    // AND of strings.
    let and = parse_filters(&["proto = tcp", "dport = 80"]).unwrap();
    assert_eq!(
        flows.iter().filter(|fl| matches(&and, fl)).count(),
        direct(&|f| f.key.proto == "tcp" && f.key.dport == Some(80))
    );
    // Dates, with or without a zone.
    let first = flows.iter().map(|f| f.firstseen).max().unwrap();
    let utc = first.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let shifted = first
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M:%S%.6f%:z")
        .to_string();
    assert!(n(&format!("firstseen = {utc}")) >= 1);
    assert_eq!(
        n(&format!("firstseen = {utc}")),
        n(&format!("firstseen = \"{shifted}\""))
    );
    assert_eq!(n(&format!("firstseen > {utc}")), 0);
    assert_eq!(
        n("lastseen >= 2015-01-01") + n("lastseen < 2015-01-01T00:00:00Z"),
        total
    );
}
