//! `ivre-arp2db` over real captures of IVRE's corpus: the IP <-> MAC pairs
//! found are exactly those Zeek's passiverecon logged for these captures
//! (IVRE's golden records, in the Zeek fixture), a damaged capture keeps
//! what came before the damage, a re-run counts nothing twice.

use crate::common::{data, stderr, stdout, tool, TestDb};
use std::collections::BTreeSet;

fn pairs(db: &TestDb) -> BTreeSet<(String, String, String)> {
    let mut c = db.client();
    c.query(
        "SELECT host(addr), source, value FROM passive WHERE recontype = 'MAC_ADDRESS'",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

#[test]
fn arp_pairs_match_zeek() {
    let db = TestDb::new();
    let files = [data("arp/nb6-startup-arp.pcap"), data("arp/nb6-http.pcap")];
    let mut args = vec!["-s", "TEST"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = tool("ivre-arp2db", &db, &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    // Zeek's MAC_ADDRESS lines for the same captures.
    let zeek = std::fs::read_to_string(data("passive/zeek/passive_recon.log")).unwrap();
    let expected: BTreeSet<(String, String, String)> = zeek
        .lines()
        .filter(|l| l.contains("PassiveRecon::MAC_ADDRESS"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[2].to_string(), f[5].to_string(), f[6].to_string())
        })
        .collect();
    assert_eq!(expected.len(), 6);
    assert_eq!(pairs(&db), expected);
    // 89 + 6 ARP packets: 95 senders, 4 replies with a known target.
    assert_eq!(db.scalar("SELECT sum(count)::bigint FROM passive"), 99);
    let one = tool("ivre-macinfo", &db, &["10.251.23.1", "-s", "TEST"], None);
    assert!(
        stdout(&one).contains(
            "80:fb:06:f0:45:d7 ARP_REQUEST_SRC 10.251.23.1 on TEST \
             (MAC_ADDRESS 1 time, 1970-01-01 00:01:53 - 1970-01-01 00:01:53)"
        ),
        "{}",
        stdout(&one)
    );
    let again = tool("ivre-arp2db", &db, &args, None);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(db.scalar("SELECT sum(count)::bigint FROM passive"), 99);
}

#[test]
fn a_cut_capture_keeps_what_came_before() {
    let db = TestDb::new();
    let bytes = std::fs::read(data("arp/nb6-startup-arp.pcap")).unwrap();
    let out = tool("ivre-arp2db", &db, &["-"], Some(&bytes[..5000]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("<stdin>: line 67: packet 67: capture cut off"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.scalar("SELECT sum(count)::bigint FROM passive"), 69);
    let out = tool(
        "ivre-arp2db",
        &db,
        &["-"],
        Some(b"not a capture at all, no"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a pcap capture"),
        "{}",
        stderr(&out)
    );
}
