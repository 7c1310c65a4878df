//! The view of the passive records against IVRE's on the same captures.
//!
//! IVRE's `test_50_view` expects 150 view hosts from its passive test
//! records; built from our Zeek fixture alone, the view has 152. Both
//! differences are in the inputs, not in the conversion or the merge, and
//! this test pins them down:
//!
//! * IVRE's test adds the zone `dnsbl.ivre.rocks` to `DNS_BLACKLIST_DOMAINS`
//!   (spec passive §1.5 rule 11, test_53): the DNS answers of
//!   `<reversed IP>.dnsbl.ivre.rocks` become `DNS_BLACKLIST` records whose
//!   address is the queried one. Without the zone they stay `DNS_ANSWER`s
//!   addressed to the DNSBL return codes 127.0.0.3, .4, .10 and .11: four
//!   more addresses.
//! * IVRE's test also runs p0f over the captures; the Zeek fixture has no p0f
//!   record, and one address (131.151.32.21, a `P0FV3_SYN` on port 143) is
//!   only seen by p0f: one address fewer.
//!
//! With both (`--dnsbl-zone dnsbl.ivre.rocks` and the p0f logs of the same
//! captures), the passive records have exactly the addresses of IVRE's
//! stored records (`tests/data/golden/ivre-passive-records.jsonl.gz`, 149),
//! and the view one host per address. The one host between that and IVRE's
//! 150 is not in the records IVRE stored for these captures (the golden
//! file and the 150 of the test come from different IVRE runs); we do not
//! invent it.

use crate::common::*;
use std::collections::BTreeSet;
use std::io::BufRead;

fn run(db: &TestDb, name: &str, args: &[&str]) -> String {
    let out = tool(name, db, args, None);
    assert!(out.status.success(), "{name} {args:?}: {}", stderr(&out));
    stdout(&out)
}

fn golden_addresses() -> BTreeSet<String> {
    let file = std::fs::File::open(data("golden/ivre-passive-records.jsonl.gz")).unwrap();
    let lines = std::io::BufReader::new(flate2::read::GzDecoder::new(file)).lines();
    lines
        .map(|l| serde_json::from_str::<serde_json::Value>(&l.unwrap()).unwrap())
        .filter_map(|r| r["addr"].as_str().map(String::from))
        .collect()
}

#[test]
fn passive_view_has_the_addresses_of_ivre_records() {
    let log = data("passive/zeek/passive_recon.log");
    let log = log.to_str().unwrap();

    // The Zeek fixture alone, default DNSBL zones: 152 hosts.
    let db = TestDb::new();
    run(&db, "ivre-passiverecon2db", &["-s", "TEST", log]);
    run(&db, "ivre-db2view", &["passive"]);
    let only_zeek = run(&db, "ivre-view", &["--count"]);
    assert_eq!(only_zeek.trim(), "152");
    for dnsbl_code in ["127.0.0.3", "127.0.0.4", "127.0.0.10", "127.0.0.11"] {
        let hosts = run(&db, "ivre-view", &["--short", dnsbl_code]);
        assert_eq!(hosts.trim(), dnsbl_code);
    }

    // IVRE's test inputs: the dnsbl.ivre.rocks zone and the p0f records.
    let db = TestDb::new();
    run(
        &db,
        "ivre-passiverecon2db",
        &["-s", "TEST", "--dnsbl-zone", "dnsbl.ivre.rocks", log],
    );
    let mut p0f = vec!["-s".to_string(), "TEST".to_string()];
    for entry in std::fs::read_dir(data("passive/p0f")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "log") {
            p0f.push(path.to_str().unwrap().to_string());
        }
    }
    let p0f: Vec<&str> = p0f.iter().map(String::as_str).collect();
    run(&db, "ivre-p0f2db", &p0f);
    run(&db, "ivre-db2view", &["passive"]);
    let hosts: BTreeSet<String> = run(&db, "ivre-view", &["--short"])
        .lines()
        .map(String::from)
        .collect();
    let golden = golden_addresses();
    assert_eq!(golden.len(), 149);
    assert_eq!(hosts, golden);
    assert!(hosts.contains("131.151.32.21"));
}
