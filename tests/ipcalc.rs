//! `ivre-ipcalc` and `ivre-sort` end to end: the spec's oracles through the
//! binaries, stdin, exit statuses, and sorting a real Zeek conn.log.

use crate::common::{data, run_tool, stderr, stdout};
use std::net::IpAddr;

fn ipcalc(args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    run_tool("ivre-ipcalc", args, stdin, |_| {})
}

#[test]
fn ipcalc_oracles() {
    for (args, expected) in [
        (&["192.168.0.0/16"][..], "192.168.0.0-192.168.255.255\n"),
        (&["10.0.0.0-10.255.255.255"], "10.0.0.0/8\n"),
        (&["8.8.8.8"], "134744072\n"),
        (&["134744072"], "8.8.8.8\n"),
        (&["::"], "0\n"),
        (&["::", "-", "::ff"], "::/120\n"),
        (
            &["::", "-", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
            "::/0\n",
        ),
        (
            &["8.8.8.8", "10.0.0.0/30"],
            "134744072\n10.0.0.0-10.0.0.3\n",
        ),
    ] {
        let out = ipcalc(args, None);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), expected, "{args:?}");
    }
    let out = ipcalc(&["abcd:ef::", "-", "abcd:ff::ffff"], None);
    assert_eq!(stdout(&out).lines().count(), 6, "{}", stdout(&out));
}

#[test]
fn ipcalc_stdin_names_bad_lines() {
    let out = ipcalc(
        &[],
        Some(b"# comment\n192.0.2.0/24\nnot-an-address\n3232235520 - 3232235775\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "192.0.2.0-192.0.2.255\n192.168.0.0/24\n");
    assert!(
        stderr(&out).starts_with("ivre-ipcalc: error: <stdin>, line 3: "),
        "{}",
        stderr(&out)
    );
    // A bad argument is a usage error.
    let out = ipcalc(&["10.0.0.5-10.0.0.1"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ends before it starts"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

fn sort(args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    run_tool("ivre-sort", args, stdin, |_| {})
}

#[test]
fn sort_is_numeric_reversible_and_unique() {
    let input = b"10.0.0.10 b\n2001:db8::1\n10.0.0.9 a\nfoo\n10.0.0.9 a\n9.255.0.0/16\n";
    let out = sort(&[], Some(input));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "9.255.0.0/16\n10.0.0.9 a\n10.0.0.9 a\n10.0.0.10 b\n2001:db8::1\nfoo\n"
    );
    let out = sort(&["-u", "-r", "-"], Some(input));
    assert_eq!(
        stdout(&out),
        "foo\n2001:db8::1\n10.0.0.10 b\n10.0.0.9 a\n9.255.0.0/16\n"
    );
    let out = sort(&["/nonexistent/file"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("ivre-sort: error: cannot open /nonexistent/file"));
    let out = sort(&["-k", "0"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sort_a_zeek_conn_log_on_its_responder_column() {
    let path = data("flow/mongo_conn.log");
    let original = std::fs::read_to_string(&path).unwrap();
    let out = sort(&["-t", "\t", "-k", "5", path.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let sorted = stdout(&out);
    let mut a: Vec<&str> = original.lines().collect();
    let mut b: Vec<&str> = sorted.lines().collect();
    assert_eq!(b.len(), 79);
    let keys: Vec<IpAddr> = b
        .iter()
        .take_while(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(4).unwrap().parse().unwrap())
        .collect();
    assert_eq!(keys.len(), 70, "the 9 header lines sort last");
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
    assert_eq!(keys.first().unwrap().to_string(), "192.168.4.10");
    assert_eq!(keys.last().unwrap().to_string(), "192.168.4.255");
    a.sort();
    b.sort();
    assert_eq!(a, b, "same lines");
}
