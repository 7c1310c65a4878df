//! The flow filter language and queries on stored flows: every filter
//! counts the same through `ivre-flowcli` and the Rust API, and matches
//! the flows the model's in-memory evaluator (the reference meaning)
//! matches; IVRE's filter algebra (spec 1.13); top values, graphs,
//! details, daily counts, precisions.

use crate::common::{run_tool, stderr, TestDb};
use crate::flow::{flow_data, flow_tool, flowcli, nmapdir, path};
use ivre_model::flow::{matches, parse_filters};
use ivre_pg::flow::cleanup::to_model;
use ivre_pg::flow::query::{self, FlowQuery, GraphMode, ListOpts, OrderBy, TopSpec};
use ivre_pg::flow::web::FlowRequest;
use serde_json::json;

/// A base with every kind of flow: Zeek connections (not cleaned up) and
/// protocol logs, NetFlow, Argus, iptables.
fn loaded() -> TestDb {
    let db = TestDb::new();
    let nmap = nmapdir();
    let zeek: Vec<_> = [
        "mongo_conn.log",
        "zeek/dns-head.log.gz",
        "zeek/ssl-head.log.gz",
        "zeek/snmp.log.gz",
        "zeek/ssh.log.gz",
    ]
    .iter()
    .map(|f| flow_data(f))
    .collect();
    let mut args = vec!["-C"];
    args.extend(zeek.iter().map(|p| path(p)));
    let out = flow_tool("ivre-zeek2db", &db, nmap.path(), &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let (csv, argus, iptables) = (
        flow_data("nfcapd.csv"),
        flow_data("argus/racluster-http.csv"),
        flow_data("iptables.log"),
    );
    for args in [
        vec!["-C", path(&csv)],
        vec!["-C", "-t", "argus", path(&argus)],
        vec!["-C", "-t", "iptables", "--year", "2020", path(&iptables)],
    ] {
        let out = flow_tool("ivre-flow2db", &db, nmap.path(), &args, None);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    db
}

/// The number of flows of `filters` through the Rust API.
fn api_count(client: &mut postgres::Client, filters: &[&str]) -> i64 {
    let q = FlowQuery::new(parse_filters(filters).unwrap());
    query::count(client, &q).unwrap().flows
}

const FILTERS: &[&str] = &[
    "proto = tcp",
    "proto = udp",
    "proto == icmp",
    "proto : arp",
    "proto =~ ^t",
    "proto != tcp",
    "dport = 80",
    "dport > 1024",
    "dport <= 1024",
    "!dport <= 10000",
    "dport >= 1024",
    "dport < 1024",
    "dport",
    "!dport",
    "sports",
    "!sports",
    "ANY sports = 68",
    "!ANY sports = 68",
    "sports = 68",
    "sports > 68",
    "sports < 68",
    "ALL sports > 50000",
    "ANY sports <= 50000",
    "NONE sports = 68",
    "ANY sports != 68",
    "LEN sports = 1",
    "LEN sports > 1",
    "LEN sports <= 1",
    "type = 8",
    "codes",
    "ALL codes = 0",
    "count > 1",
    "count",
    "!count",
    "csbytes >= 1000",
    "scpkts < 3",
    "firstseen > 2019-01-01",
    "lastseen <= 2004-05-13 10:20",
    "firstseen >= 2019-11-12 11:16:34+01:00",
    "times",
    "LEN times = 1",
    "LEN times > 1",
    "ALL times.duration = 3600",
    "times.start >= 2019-11-12 10:00",
    "addr = 192.168.4.10",
    "!addr = 192.168.4.10",
    "addr != 192.168.4.10",
    "addr =~ 10.0.0.0/8",
    "!addr =~ 10.0.0.0/8",
    "src.addr = 10.0.0.1",
    "dst.addr =~ 192.168.0.0/16",
    "meta.dns",
    "!meta.dns",
    "meta.dns.query =~ com$",
    "meta.dns.answers",
    "LEN meta.dns.answers > 1",
    "NONE meta.dns.answers =~ ^10[.]",
    "meta.snmp.get_requests > 0",
    "meta.ssl.version = TLSv12",
    "ANY meta.ssl.server_name =~ [.]com$",
    "meta.ssh.auth_success = true",
    "meta.ssh.auth_success = false",
    "proto = tcp OR proto = udp",
    "dport = 80 OR dport = 443 || dport = 53",
];

#[test]
fn every_filter_counts_alike_in_the_cli_the_api_and_the_model() {
    let db = loaded();
    let mut client = db.client();
    let mut stored = Vec::new();
    query::list::<ivre_pg::Error>(
        &mut client,
        &FlowQuery::default(),
        &ListOpts::default(),
        |f| {
            stored.push(to_model(&f));
            Ok(())
        },
    )
    .unwrap();
    assert!(stored.len() > 150, "{}", stored.len());
    let mut nonzero = 0;
    for f in FILTERS {
        let api = api_count(&mut client, &[f]);
        let cli = flowcli(&db, &["--count", "-f", f]);
        let flows: i64 = cli
            .lines()
            .nth(2)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(api, flows, "{f}: API {api}, CLI {cli}");
        let flt = parse_filters(&[f]).unwrap();
        let model = stored.iter().filter(|flow| matches(&flt, flow)).count() as i64;
        assert_eq!(api, model, "{f}: SQL {api}, model {model}");
        nonzero += usize::from(api > 0);
    }
    // The base exercises the filters: most of them match something.
    assert!(nonzero > FILTERS.len() * 3 / 4, "{nonzero}");
    // Two filter strings are ANDed, -n and -f alike.
    let both = flowcli(&db, &["--count", "-n", "proto = tcp", "-f", "dport = 80"]);
    let and = api_count(&mut client, &["proto = tcp", "dport = 80"]);
    assert!(both.ends_with(&format!("\n{and} flows\n")), "{both}");
    assert!(and > 0);
}

#[test]
fn ivre_filter_algebra() {
    let db = loaded();
    let mut c = db.client();
    let mut n = |f: &[&str]| api_count(&mut c, f);
    let total = n(&[]);
    let protos: Vec<String> = db
        .client()
        .query("SELECT DISTINCT proto FROM flow_key", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(protos.len() >= 4, "{protos:?}");
    let any_proto = protos
        .iter()
        .map(|p| format!("proto = {p}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    assert_eq!(n(&[&any_proto]), total);
    assert_eq!(n(&["sports"]) + n(&["!sports"]), total);
    assert_eq!(n(&["ANY sports = 68"]) + n(&["!ANY sports = 68"]), total);
    assert_eq!(n(&["NONE sports = 68"]), n(&["!ANY sports = 68"]));
    // On one source port, = + > + < is every flow with it.
    let one = "LEN sports = 1";
    assert_eq!(
        n(&[one, "sports = 68"]) + n(&[one, "sports > 68"]) + n(&[one, "sports < 68"]),
        n(&[one])
    );
    assert!(n(&[one, "sports = 68"]) > 0);
    assert_eq!(
        n(&["dport = 68"]) + n(&["dport > 68"]) + n(&["dport < 68"]),
        n(&["dport"])
    );
    // >= and <= complement; a negation also matches flows without a port.
    assert_eq!(n(&["dport >= 1024"]) + n(&["dport < 1024"]), n(&["dport"]));
    assert_eq!(n(&["dport <= 10000"]) + n(&["!dport <= 10000"]), total);
    assert!(n(&["!dport <= 10000"]) > n(&["dport > 10000"]));
    // LEN, ALL, ANY.
    assert_eq!(
        n(&["LEN sports = 1"]) + n(&["LEN sports > 1"]),
        n(&["sports"])
    );
    assert_eq!(
        n(&["ALL sports > 50000"]) + n(&["ANY sports <= 50000"]),
        n(&["sports"])
    );
    assert!(n(&["ALL sports > 50000"]) > 0);
    assert!(n(&["LEN sports > 1"]) > 0);
    // Equality spelled three ways.
    assert_eq!(n(&["dport = 443"]), n(&["dport : 443"]));
    assert_eq!(n(&["dport = 443"]), n(&["dport == 443"]));
    assert_eq!(n(&["dport=443"]), n(&["dport = 443"]));
}

#[test]
fn shortcuts_are_filters() {
    let db = loaded();
    let mut c = db.client();
    for (flags, filter) in [
        (vec!["--host", "192.168.4.10"], "addr = 192.168.4.10"),
        (vec!["--host", "10.0.0.0/8"], "addr =~ 10.0.0.0/8"),
        (vec!["--src", "10.0.0.1"], "src.addr = 10.0.0.1"),
        (
            vec!["--dst", "192.168.0.0/16"],
            "dst.addr =~ 192.168.0.0/16",
        ),
        (vec!["--port", "53"], "dport = 53"),
        (vec!["--dport", "80"], "dport = 80"),
        (vec!["--sport", "68"], "ANY sports = 68"),
        (vec!["--tcp"], "proto = tcp"),
        (vec!["--udp"], "proto = udp"),
        (vec!["--proto", "ICMP"], "proto = icmp"),
    ] {
        let mut args = vec!["--count"];
        args.extend(flags.iter().copied());
        let cli = flowcli(&db, &args);
        let api = query::count(&mut c, &FlowQuery::new(parse_filters(&[filter]).unwrap())).unwrap();
        assert_eq!(
            cli,
            format!(
                "{} clients\n{} servers\n{} flows\n",
                api.clients, api.servers, api.flows
            ),
            "{flags:?}"
        );
        assert!(api.flows > 0, "{flags:?}");
    }
}

#[test]
fn bad_requests_are_usage_errors() {
    let db = TestDb::new();
    for args in [
        vec!["-f", "bogus = 1"],
        vec!["-f", "dport =~ 80"],
        vec!["-f", "ONE sports = 1"],
        vec!["--top", "nothing"],
        vec!["--top", "proto", "--collect", "meta.dns.nothing"],
        vec!["--fields", "src.addr", "nothing"],
        vec!["--top", "proto", "--sum", "proto"],
        vec!["-o", "sideways"],
        vec!["-m", "other_map"],
    ] {
        let out = run_tool("ivre-flowcli", &args, None, |cmd| {
            cmd.env("IVRE_DB", &db.url);
        });
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("error"), "{args:?}");
    }
    let catalogue = flowcli(&db, &["--fields"]);
    assert!(
        catalogue.starts_with("======= General ======="),
        "{catalogue}"
    );
    assert!(catalogue.contains("meta.dns.query"));
}

#[test]
fn top_values() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let log = flow_data("mongo_conn.log");
    let out = flow_tool("ivre-zeek2db", &db, nmap.path(), &[path(&log)], None);
    assert!(out.status.success());
    // IVRE's line format: (values) | score | (collected) ; (collected)
    let top = flowcli(
        &db,
        &[
            "--top",
            "src.addr",
            "dst.addr",
            "proto",
            "dport",
            "--sum",
            "count",
            "--collect",
            "firstseen",
            "lastseen",
            "--limit",
            "1",
        ],
    );
    assert_eq!(
        top,
        "(192.168.4.11, 192.168.4.10, tcp, 27017) | 68 | (2019-11-12 10:12:58.572537, 2019-11-12 10:30:00.028632)\n"
    );
    // Unwound lists: one group per source port; sport is sports.
    let mut c = db.client();
    let spec = TopSpec {
        fields: vec!["sport".into()],
        collect: vec!["proto".into(), "dport".into()],
        ..Default::default()
    };
    let ports = query::top(&mut c, &FlowQuery::default(), &spec).unwrap();
    let sports = db.scalar("SELECT sum(cardinality(sports))::int8 FROM flow_total");
    assert_eq!(ports.iter().map(|t| t.count).sum::<i64>(), sports);
    assert!(ports.windows(2).all(|w| w[0].count >= w[1].count));
    assert!(ports.iter().all(|t| !t.collected.is_empty()));
    let least = query::top(
        &mut c,
        &FlowQuery::default(),
        &TopSpec {
            fields: vec!["proto".into()],
            sum: vec!["csbytes".into(), "scbytes".into()],
            least: true,
            limit: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(least.len(), 1);
    assert_eq!(least[0].fields, vec![json!("udp")]);
    assert_eq!(
        least[0].count,
        db.scalar("SELECT sum(csbytes + scbytes)::int8 FROM flow_total WHERE proto = 'udp'")
    );
}

#[test]
fn graphs_and_details() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let log = flow_data("mongo_conn.log");
    let out = flow_tool("ivre-zeek2db", &db, nmap.path(), &["-C", path(&log)], None);
    assert!(out.status.success());
    let mut c = db.client();
    let all = FlowQuery::default();
    let opts = ListOpts {
        orderby: OrderBy::Src,
        ..Default::default()
    };
    let g = query::graph(&mut c, &all, &opts, GraphMode::Default, true).unwrap();
    assert_eq!(g["edges"].as_array().unwrap().len(), 12);
    assert_eq!(g["nodes"].as_array().unwrap().len(), 4);
    let edge = &g["edges"][0];
    assert_eq!(edge["labels"], json!(["Flow"]));
    for key in [
        "cspkts",
        "csbytes",
        "count",
        "scpkts",
        "scbytes",
        "proto",
        "firstseen",
        "lastseen",
        "__key__",
        "addr_src",
        "addr_dst",
        "sports",
        "dport",
    ] {
        assert!(edge["data"].get(key).is_some(), "{key}: {edge}");
    }
    assert_eq!(edge["data"]["meta"]["times"][0]["duration"], json!(3600));
    let node = &g["nodes"][0];
    assert_eq!(node["labels"], json!(["Host"]));
    assert_eq!(node["id"], node["data"]["addr"]);
    // flow_map: one edge per pair, the distinct [proto, dport].
    let fm = query::graph(&mut c, &all, &opts, GraphMode::FlowMap, false).unwrap();
    let edges = fm["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 3);
    let reversed = edges
        .iter()
        .find(|e| e["source"] == "192.168.4.10")
        .unwrap();
    assert_eq!(reversed["label"], "MERGED_FLOWS");
    assert_eq!(reversed["data"]["count"], json!(10));
    let tm = query::graph(&mut c, &all, &opts, GraphMode::TalkMap, false).unwrap();
    assert!(tm["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["data"] == json!({"count": 1, "flows": ["TALK"]})));
    // The limit applies to flows before merging.
    let two = ListOpts { limit: 2, ..opts };
    let g2 = query::graph(&mut c, &all, &two, GraphMode::Default, false).unwrap();
    assert_eq!(g2["edges"].as_array().unwrap().len(), 2);
    // Host details.
    let h = query::host_details(&mut c, "192.168.4.10".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(h["in_flows"], json!([["tcp", 27017]]));
    assert_eq!(h["clients"], json!(["192.168.4.11"]));
    assert_eq!(h["servers"], json!(["192.168.4.11"]));
    assert_eq!(h["out_flows"].as_array().unwrap().len(), 10);
    assert!(query::host_details(&mut c, "192.0.2.1".parse().unwrap())
        .unwrap()
        .is_none());
    // Flow details, by the id an edge gives.
    let id: i64 = edge["id"].as_str().unwrap().parse().unwrap();
    let d = query::flow_details(&mut c, id).unwrap().unwrap();
    assert_eq!(d["elt"]["__key__"], edge["id"]);
    assert!(query::flow_details(&mut c, -1).unwrap().is_none());
    // The CLI's JSON lines and graph are those of the API.
    let lines = flowcli(&db, &["--json", "-o", "src"]);
    assert_eq!(lines.lines().count(), 12);
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["flow"]["data"]["addr_src"], first["src"]["id"]);
    let cli_graph: serde_json::Value =
        serde_json::from_str(&flowcli(&db, &["--graph", "-m", "talk_map", "-o", "src"])).unwrap();
    assert_eq!(cli_graph, tm);
    // The web request of /cgi/flows gives the same.
    let web = |q: serde_json::Value| {
        let r: FlowRequest = serde_json::from_value(q).unwrap();
        r.answer(&mut db.client()).unwrap()
    };
    assert_eq!(
        web(json!({"count": true, "nodes": ["addr = 192.168.4.10"], "edges": ["proto = tcp"]})),
        json!({"clients": 2, "servers": 2, "flows": 11})
    );
    assert_eq!(web(json!({"mode": "talk_map", "orderby": "src"})), tm);
}

#[test]
fn slots_daily_and_precision() {
    let db = TestDb::new();
    let nmap = nmapdir();
    let log = flow_data("mongo_conn.log");
    let out = flow_tool("ivre-zeek2db", &db, nmap.path(), &[path(&log)], None);
    assert!(out.status.success());
    assert_eq!(flowcli(&db, &["--precision"]), "3600\n");
    assert_eq!(
        flowcli(&db, &["--flow-daily"]),
        "10:00:00 | (tcp/27017, 1) ; (udp/138, 1)\n"
    );
    // Windows over slots.
    let count = |args: &[&str]| {
        let mut a = vec!["--count"];
        a.extend(args);
        flowcli(&db, &a)
    };
    assert_eq!(
        count(&["-a", "2019-11-12 10:00"]),
        "2 clients\n2 servers\n2 flows\n"
    );
    assert_eq!(
        count(&["-a", "2019-11-12 10:01"]),
        "0 clients\n0 servers\n0 flows\n"
    );
    assert_eq!(
        count(&["-b", "2019-11-12 10:00"]),
        "0 clients\n0 servers\n0 flows\n"
    );
    assert_eq!(
        count(&["--precision", "86400"]),
        "0 clients\n0 servers\n0 flows\n"
    );
    // Reducing the precision: no slot of the old duration remains.
    flowcli(&db, &["--reduce-precision", "14400", "--precision", "3600"]);
    assert_eq!(flowcli(&db, &["--precision"]), "14400\n");
    assert_eq!(
        flowcli(&db, &["--flow-daily", "--precision", "14400"]),
        "08:00:00 | (tcp/27017, 1) ; (udp/138, 1)\n"
    );
    assert_eq!(
        count(&["-f", "ALL times.duration = 14400"]),
        "2 clients\n2 servers\n2 flows\n"
    );
    // A precision that is not a multiple is refused.
    let out = run_tool(
        "ivre-flowcli",
        &["--reduce-precision", "5000", "--precision", "14400"],
        None,
        |cmd| {
            cmd.env("IVRE_DB", &db.url);
        },
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
