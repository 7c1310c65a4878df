//! `ivre-runscans`: dry runs (targets listed, counted, sampled, Nmap command
//! lines) and a real Nmap run over loopback addresses only, imported as
//! each scan completes.

use crate::common::{run_tool, stderr, stdout, TestDb};
use std::collections::HashSet;
use std::net::IpAddr;

fn runscans(args: &[&str]) -> std::process::Output {
    run_tool("ivre-runscans", args, None, |_| {})
}

fn ok(out: std::process::Output) -> String {
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn dry_runs() {
    assert_eq!(
        ok(runscans(&[
            "--network",
            "127.0.0.0/30",
            "--output",
            "ListAll"
        ])),
        "127.0.0.0\n127.0.0.1\n127.0.0.2\n127.0.0.3\n"
    );
    assert_eq!(
        ok(runscans(&[
            "--range",
            "127.0.0.1",
            "127.0.0.6",
            "--network",
            "127.0.0.8/31",
            "--output",
            "ListCIDRs"
        ])),
        "127.0.0.1/32\n127.0.0.2/31\n127.0.0.4/31\n127.0.0.6/32\n127.0.0.8/31\n"
    );
    assert_eq!(
        ok(runscans(&["--routable", "--output", "Count"])),
        "3702258432\n"
    );
    let draw = |seed: &str| {
        ok(runscans(&[
            "--routable",
            "--limit",
            "50",
            "--seed",
            seed,
            "--output",
            "ListAll",
        ]))
    };
    let a = draw("7");
    assert_eq!(a, draw("7"), "same seed, same addresses");
    assert_ne!(a, draw("8"));
    let addrs: HashSet<IpAddr> = a.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(addrs.len(), 50);
    assert!(addrs.iter().all(|a| match a {
        IpAddr::V4(v) => !v.is_private() && !v.is_loopback() && !v.is_multicast(),
        IpAddr::V6(_) => false,
    }));
    let cmd = ok(runscans(&[
        "--network",
        "127.0.0.1/32",
        "--output",
        "CommandLine",
        "--output-dir",
        "out",
    ]));
    assert_eq!(
        cmd,
        "nmap -PE -sS -O --traceroute -vv --host-timeout 15m --script-timeout 2m --script \
         '(default or discovery or auth) and not (broadcast or brute or dos or exploit or \
         external or fuzzer or intrusive)' -oX out/127.0.0.1.xml 127.0.0.1\n"
    );
    let out = runscans(&["--network", "127.0.0.0/33", "--output", "ListAll"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = runscans(&["--output", "ListAll"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no targets"), "{}", stderr(&out));
}

#[test]
fn scans_loopback_and_imports_each_result() {
    if std::process::Command::new("nmap")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("nmap is not installed: the loopback scan is skipped");
        return;
    }
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let out = runscans(&[
        "--range",
        "127.0.0.1",
        "127.0.0.2",
        "--nmap-args",
        "-sT -p 1 -n -Pn",
        "--processes",
        "2",
        "--output-dir",
        dir.path().to_str().unwrap(),
        "--import",
        "-c",
        "LOOP",
        "-s",
        "TEST",
        "--db",
        &db.url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 addresses scanned and imported, 0 failed"),
        "{}",
        stderr(&out)
    );
    for a in ["127.0.0.1", "127.0.0.2"] {
        let xml = std::fs::read_to_string(dir.path().join(format!("{a}.xml"))).unwrap();
        assert!(xml.contains("<nmaprun"), "{xml}");
    }
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 2);
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM scan_host WHERE 'LOOP' = ANY(categories) AND source = 'TEST'"
        ),
        2
    );
}
