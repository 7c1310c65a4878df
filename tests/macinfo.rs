//! `ivre-macinfo` over the ARP records of the Zeek fixture (IVRE's golden
//! passive records), with vendors from an excerpt of the IEEE registry
//! (Debian's ieee-data).

use crate::common::{data, run_tool, stderr, stdout, tool, TestDb};

fn imported() -> TestDb {
    let db = TestDb::new();
    let log = data("passive/zeek/passive_recon.log");
    let out = tool(
        "ivre-passiverecon2db",
        &db,
        &["-s", "TEST", log.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    db
}

fn macinfo(db: &TestDb, args: &[&str]) -> std::process::Output {
    let oui = data("oui");
    let mut all = vec!["--oui-dir", oui.to_str().unwrap()];
    all.extend(args);
    tool("ivre-macinfo", db, &all, None)
}

fn ok(out: std::process::Output) -> String {
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn arp_pairs_filters_and_vendors() {
    let db = imported();
    assert_eq!(ok(macinfo(&db, &["-c"])), "6\n");
    // Multicast MACs are never ARP senders (IVRE's test).
    assert_eq!(ok(macinfo(&db, &["-c", "/^01:/"])), "0\n");
    assert_eq!(ok(macinfo(&db, &["-c", "80-FB-06-F0-45-D7"])), "4\n");
    assert_eq!(
        ok(macinfo(&db, &["-c", "/^80:fb:/", "!10.251.196.1"])),
        "3\n"
    );
    assert_eq!(ok(macinfo(&db, &["-c", "--", "-10.251.23.0/24"])), "2\n");
    assert_eq!(
        ok(macinfo(
            &db,
            &["-c", "10.251.23.0-10.251.23.255", "10.194.144.1"]
        )),
        "5\n"
    );
    assert_eq!(ok(macinfo(&db, &["-c", "-s", "OTHER"])), "0\n");
    let text = ok(macinfo(&db, &["-r", "10.251.23.139"]));
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains(
            "e0:a1:d7:18:c2:72 (SFR) ARP_REQUEST_SRC 10.251.23.139 on TEST \
             (MAC_ADDRESS 6 times, 1970-01-01 00:01:56 - 2014-01-02 09:09:57)\n"
        ),
        "{text}"
    );
    assert!(text.contains("e0:a1:d7:18:c2:72 (SFR) ARP_REPLY_DST 10.251.23.139 "));
    let text = ok(macinfo(&db, &["80:fb:06:f0:45:d7"]));
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text
        .contains("80:fb:06:f0:45:d7 ARP_REQUEST_SRC 10.251.23.1 on TEST (MAC_ADDRESS 1 time, "));
    let json = ok(macinfo(&db, &["--json", "-r", "10.251.196.1"]));
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["vendor"], "HUAWEI TECHNOLOGIES CO.,LTD");
    assert_eq!(v["count"], 50);
    // A bad argument is a usage error.
    let out = macinfo(&db, &["not-a-thing"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("ivre-macinfo: error: "));
}

#[test]
fn vendors_without_a_database() {
    let oui = data("oui");
    let run = |args: &[&str], stdin: &[u8]| {
        let mut all = vec!["--vendor", "--oui-dir", oui.to_str().unwrap()];
        all.extend(args);
        run_tool("ivre-macinfo", &all, Some(stdin), |_| {})
    };
    let out = run(
        &[
            "00:00:00:12:34:56",
            "00-01-01-00-00-00",
            "0050.c27d.5001",
            "00:50:c2:00:00:01",
            "01:00:5e:00:00:01",
        ],
        b"",
    );
    assert_eq!(
        ok(out),
        "00:00:00:12:34:56 XEROX CORPORATION\n00:01:01:00:00:00 Private\n\
         00:50:c2:7d:50:01 DEUTA-WERKE GmbH\n00:50:c2:00:00:01 IEEE Registration Authority\n\
         01:00:5e:00:00:01 multicast\n"
    );
    let out = run(&["--json"], b"f4:f5:d8:aa:bb:cc\nbad\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("<stdin>, line 2: \"bad\" is not a MAC address"),
        "{}",
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["vendor"], "Google, Inc.");
    assert_eq!(v["registry"], "MA-L");
    assert_eq!(v["prefix"], "F4F5D8/24");
    // No registry: a clear error.
    let out = run_tool(
        "ivre-macinfo",
        &["--vendor", "--oui-dir", "/nonexistent", "00:00:00:00:00:00"],
        None,
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("install Debian's ieee-data"),
        "{}",
        stderr(&out)
    );
}
