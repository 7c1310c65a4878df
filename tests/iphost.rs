//! `ivre-iphost` (passive DNS) on the Zeek fixture.

use crate::common::{data, stderr, stdout, tool, TestDb};
use serde_json::Value;
use std::collections::BTreeSet;

/// A database holding the Zeek fixture, imported with sensor `TEST`.
fn fixture_db() -> TestDb {
    let db = TestDb::new();
    import(&db, "TEST");
    db
}

fn import(db: &TestDb, sensor: &str) {
    let log = data("passive/zeek/passive_recon.log");
    let out = tool(
        "ivre-passiverecon2db",
        db,
        &[
            "-s",
            sensor,
            "--dnsbl-zone",
            "dnsbl.ivre.rocks",
            log.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Runs ivre-iphost, expects success, returns stdout.
fn iphost(db: &TestDb, args: &[&str]) -> String {
    let out = tool("ivre-iphost", db, args, None);
    assert!(
        out.status.success(),
        "ivre-iphost {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// `(name, target)` pairs of JSON output.
fn pairs(text: &str) -> BTreeSet<(String, String)> {
    json_lines(text)
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_owned(),
                v["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The DNS answers of the fixture log, read independently of the tools:
/// `(rrtype, name, answer)` of every DNS_ANSWER line.
fn fixture_answers() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(data("passive/zeek/passive_recon.log")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f.len() == 8 && f[4] == "PassiveRecon::DNS_ANSWER")
        .map(|f| {
            let rrtype = f[5].split('-').next().unwrap().to_owned();
            let answer = if f[2] == "-" { f[7] } else { f[2] };
            (rrtype, f[6].to_owned(), answer.to_owned())
        })
        .collect()
}

#[test]
fn name_from_address_and_address_from_name() {
    let db = fixture_db();
    // Text output, exactly as IVRE prints a pair.
    assert_eq!(
        iphost(&db, &["109.0.66.1"]),
        "ntp.sfr.net -> 109.0.66.1\tA\n\tfrom: TEST\n\tfirstseen: 1970-01-01 00:01:59.236000\n\tlastseen: 1970-01-01 00:02:01.166000\n\n"
    );
    // The same address as a decimal integer.
    let n = u32::from(std::net::Ipv4Addr::new(109, 0, 66, 1)).to_string();
    assert_eq!(iphost(&db, &[&n]), iphost(&db, &["109.0.66.1"]));
    // PTR answers are stored forward style: the name points to the address.
    let out = json_lines(&iphost(&db, &["--json", "66.192.9.104"]));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["name"], "66-192-9-104.gen.twtelecom.net");
    assert_eq!(out[0]["types"], serde_json::json!(["PTR"]));
    // IPv6.
    let out = json_lines(&iphost(&db, &["--json", "2001:4f8:0:2::d"]));
    assert_eq!(out[0]["name"], "www.isc.org");
    assert_eq!(out[0]["types"], serde_json::json!(["AAAA"]));

    // Addresses of a name: four A answers, each seen twice.
    let out = json_lines(&iphost(&db, &["--json", "ntp.sfr.net"]));
    let targets: Vec<&str> = out.iter().map(|v| v["target"].as_str().unwrap()).collect();
    assert_eq!(
        targets,
        ["109.0.66.1", "109.0.66.2", "109.0.66.30", "109.0.66.31"]
    );
    for v in &out {
        assert_eq!(v["name"], "ntp.sfr.net");
        assert_eq!(v["count"], 2);
        assert_eq!(v["sources"], serde_json::json!(["TEST"]));
        assert_eq!(v["firstseen"], "1970-01-01 00:01:59.236000");
        assert_eq!(v["lastseen"], "1970-01-01 00:02:01.166000");
    }
    // A trailing dot is the same name; several values are looked up in turn.
    let both = iphost(&db, &["--json", "ntp.sfr.net.", "perdu.com"]);
    assert_eq!(json_lines(&both).len(), 5);
    assert!(both.contains("\"target\":\"208.97.177.124\""));
    // A CNAME answer of the name itself.
    let out = json_lines(&iphost(&db, &["--json", "ntp.neufbox.neuf.fr"]));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["target"], "ntp.sfr.net");
    assert_eq!(out[0]["types"], serde_json::json!(["CNAME"]));
    assert_eq!(out[0]["count"], 4);
}

#[test]
fn subdomains_reverse_networks_and_filters() {
    let db = fixture_db();
    let answers = fixture_answers();
    // --sub on a parent domain: every pair whose name is under it.
    let expected: BTreeSet<(String, String)> = answers
        .iter()
        .filter(|(_, name, _)| name.ends_with(".neufbox.neuf.fr"))
        .map(|(_, n, a)| (n.clone(), a.clone()))
        .collect();
    assert!(expected.len() > 10);
    assert_eq!(
        pairs(&iphost(&db, &["--json", "--sub", "neufbox.neuf.fr"])),
        expected
    );
    // Without --sub the parent itself has no answer.
    assert_eq!(iphost(&db, &["neufbox.neuf.fr"]), "");

    // --reverse on a CNAME target: the name that points to it.
    let out = iphost(&db, &["--reverse", "ntp.sfr.net"]);
    assert!(
        out.starts_with("ntp.neufbox.neuf.fr -> ntp.sfr.net\tCNAME\n\tfrom: TEST\n"),
        "{out}"
    );
    assert_eq!(out.matches(" -> ").count(), 1);
    // --reverse --sub: every CNAME/NS/MX target under google.com.
    let expected: BTreeSet<(String, String)> = answers
        .iter()
        .filter(|(t, _, a)| t != "A" && t != "AAAA" && t != "PTR" && a.ends_with(".google.com"))
        .map(|(_, n, a)| (n.clone(), a.clone()))
        .collect();
    assert!(expected.len() >= 8, "{expected:?}");
    assert_eq!(
        pairs(&iphost(
            &db,
            &["--json", "--reverse", "--sub", "google.com"]
        )),
        expected
    );

    // A network (host bits are allowed and ignored).
    let expected: BTreeSet<(String, String)> = answers
        .iter()
        .filter(|(_, _, a)| a.starts_with("109.0.66."))
        .map(|(_, n, a)| (n.clone(), a.clone()))
        .collect();
    assert_eq!(expected.len(), 4);
    assert_eq!(pairs(&iphost(&db, &["--json", "109.0.66.0/24"])), expected);
    assert_eq!(pairs(&iphost(&db, &["--json", "109.0.66.77/24"])), expected);
    let v6 = pairs(&iphost(&db, &["--json", "2001:4f8::/32"]));
    assert_eq!(v6.len(), 2);

    // Record type and sensor filters.
    let aaaa = json_lines(&iphost(
        &db,
        &["--json", "--sub", "icanhazip.com", "--type", "aaaa"],
    ));
    assert_eq!(aaaa.len(), 2);
    assert!(aaaa.iter().all(|v| v["name"] == "ipv6.icanhazip.com"));
    assert_eq!(
        json_lines(&iphost(&db, &["--json", "--sub", "icanhazip.com"])).len(),
        4
    );
    assert_eq!(iphost(&db, &["--sensor", "OTHER", "ntp.sfr.net"]), "");
    assert_eq!(
        json_lines(&iphost(&db, &["--json", "-s", "TEST", "ntp.sfr.net"])).len(),
        4
    );

    // Regular expressions on names, IVRE's /re/flags form.
    let re = pairs(&iphost(&db, &["--json", "/^ntp\\./"]));
    assert_eq!(re.len(), 5);
    assert_eq!(pairs(&iphost(&db, &["--json", "/^NTP\\.SFR/i"])).len(), 4);
    // /./ is every pair: as many as distinct (name, answer) in the fixture.
    let all: BTreeSet<(String, String)> = answers
        .iter()
        .filter(|(_, n, _)| !n.contains("dnsbl") && !n.contains("spamhaus") && !n.contains("woody"))
        .map(|(_, n, a)| (n.clone(), a.clone()))
        .collect();
    assert_eq!(pairs(&iphost(&db, &["--json", "/./"])), all);
}

#[test]
fn pairs_aggregate_sensors_and_counts() {
    let db = fixture_db();
    import(&db, "S2");
    let out = json_lines(&iphost(&db, &["--json", "ntp.neufbox.neuf.fr"]));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["sources"], serde_json::json!(["S2", "TEST"]));
    assert_eq!(out[0]["count"], 8);
    assert_eq!(
        iphost(&db, &["109.0.66.2"]),
        "ntp.sfr.net -> 109.0.66.2\tA\n\tfrom: S2, TEST\n\tfirstseen: 1970-01-01 00:01:59.236000\n\tlastseen: 1970-01-01 00:02:01.166000\n\n"
    );
}

#[test]
fn cof_lines_have_the_required_fields() {
    let db = fixture_db();
    let stored = db.scalar("SELECT count(*) FROM passive WHERE recontype = 'DNS_ANSWER'");
    let lines = json_lines(&iphost(&db, &["--cof", "/./"]));
    assert_eq!(lines.len() as i64, stored);
    for l in &lines {
        let o = l.as_object().unwrap();
        for k in ["rrname", "rrtype", "rdata"] {
            assert!(o[k].as_str().is_some_and(|s| !s.is_empty()), "{k} in {l}");
        }
        for k in ["time_first", "time_last", "count"] {
            assert!(o[k].is_i64(), "{k} is not an integer in {l}");
        }
        assert!(o["time_first"].as_i64() <= o["time_last"].as_i64());
        assert!(o["count"].as_i64().unwrap() >= 1);
        assert_eq!(o["sensor_id"], "TEST");
        assert!(o["source"]
            .as_str()
            .unwrap()
            .parse::<std::net::IpAddr>()
            .is_ok());
        assert!(!o.contains_key("targetval") && !o.contains_key("infos"));
    }
    // The A answers of one address, in full: one per DNS server.
    let a = json_lines(&iphost(&db, &["--cof", "216.69.252.101"]));
    let answer = |server: &str| {
        serde_json::json!({"rrname": "ipv4.icanhazip.com", "rrtype": "A",
            "rdata": "216.69.252.101", "time_first": 1388651877, "time_last": 1388651877,
            "count": 1, "sensor_id": "TEST", "source": server})
    };
    assert_eq!(a, [answer("109.0.66.10"), answer("109.0.66.20")]);
    // CNAME answers give the target as rdata; PTR the address.
    let c = json_lines(&iphost(
        &db,
        &["--cof", "--type", "CNAME", "ntp.neufbox.neuf.fr"],
    ));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["rdata"], "ntp.sfr.net");
    assert_eq!(c[0]["count"], 4);
    let p = json_lines(&iphost(&db, &["--cof", "127.0.0.1"]));
    assert_eq!(p[0]["rrtype"], "PTR");
    assert_eq!(p[0]["rrname"], "localhost");
    // Subdomain queries in COF too.
    let sub = json_lines(&iphost(&db, &["--cof", "--sub", "com"]));
    assert!(sub
        .iter()
        .all(|l| l["rrname"].as_str().unwrap().ends_with(".com")));
    assert!(sub.len() > 20);
}

#[test]
fn hostile_text_is_data_not_sql() {
    let db = fixture_db();
    let before = db.scalar("SELECT count(*) FROM passive");
    for value in [
        "ntp.sfr.net' OR '1'='1",
        "x'; DROP TABLE passive; --",
        "\\",
        "a\\'b",
        "%",
        "%.sfr.net",
        "_tp.sfr.net",
        "\"quoted\"",
        "$1",
        "ntp.sfr.net\\",
    ] {
        for extra in [&[][..], &["--sub"], &["--reverse"], &["--cof"]] {
            let mut args: Vec<&str> = extra.to_vec();
            args.push(value);
            assert_eq!(iphost(&db, &args), "", "{args:?}");
        }
    }
    // Filters with hostile text.
    assert_eq!(iphost(&db, &["--type", "A' OR 'x'='x", "ntp.sfr.net"]), "");
    assert_eq!(iphost(&db, &["--type", "%", "ntp.sfr.net"]), "");
    assert_eq!(
        iphost(&db, &["--sensor", "TEST' OR '1'='1", "ntp.sfr.net"]),
        ""
    );
    // A regex with quotes is fine; a broken regex is a clear error.
    assert_eq!(iphost(&db, &["/'; --/"]), "");
    let out = tool("ivre-iphost", &db, &["/(/"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("invalid regular expression /(/"), "{err}");
    // Bad values are rejected before querying.
    let out = tool("ivre-iphost", &db, &["/x/g"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unsupported regular expression flag"));
    let out = tool("ivre-iphost", &db, &["10.0.0.0/40"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid"), "{}", stderr(&out));
    // No VALUE is a usage error.
    assert_eq!(tool("ivre-iphost", &db, &[], None).status.code(), Some(2));
    assert_eq!(db.scalar("SELECT count(*) FROM passive"), before);
}
