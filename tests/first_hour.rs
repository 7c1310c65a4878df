//! What a new user meets in the first hour (issue 16): `--skip` / `--limit`
//! in every output mode, unknown field names refused alike, destructive
//! actions that need `--yes` without a terminal and say what they deleted,
//! and the same flag meaning the same thing in every tool.
//!
//! The test harness gives the tools no terminal on stdin (`/dev/null`).

use crate::common::*;
use std::process::Output;
use std::sync::OnceLock;

/// IVRE's 945 golden scan records, shared by the read-only tests.
fn golden() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::new();
        load_records(&db, &golden_records());
        db
    })
}

/// The Zeek passive fixture, imported with sensor `TEST`.
fn import_passive(db: &TestDb) {
    let log = data("passive/zeek/passive_recon.log");
    let out = tool(
        "ivre-passiverecon2db",
        db,
        &["-s", "TEST", log.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The passive fixture, shared by the read-only tests.
fn passive() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::new();
        import_passive(&db);
        db
    })
}

fn ok(name: &str, db: &TestDb, args: &[&str]) -> String {
    let out = tool(name, db, args, None);
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// Runs a tool that must refuse the request as a usage error (exit 2).
fn usage_error(name: &str, db: &TestDb, args: &[&str]) -> String {
    let out = tool(name, db, args, None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{name} {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "{name} {args:?}");
    let err = stderr(&out);
    assert!(err.starts_with(&format!("{name}: error: ")), "{err}");
    err
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

// ---- 3. --skip and --limit in every output mode ----

#[test]
fn short_and_distinct_honour_skip_and_limit() {
    for (tool_name, db, field) in [
        ("ivre-scancli", golden(), "ports.port"),
        ("ivre-ipinfo", passive(), "recontype"),
    ] {
        let all = ok(tool_name, db, &["--short"]);
        let all = lines(&all);
        assert!(all.len() > 10, "{tool_name}: {all:?}");
        let out = ok(tool_name, db, &["--short", "--limit", "3"]);
        assert_eq!(lines(&out), all[..3], "{tool_name} --short --limit 3");
        let out = ok(tool_name, db, &["--short", "--skip", "2", "--limit", "3"]);
        assert_eq!(lines(&out), all[2..5], "{tool_name} --short --skip 2");
        let out = ok(
            tool_name,
            db,
            &["--short", "--skip", &all.len().to_string()],
        );
        assert_eq!(out, "", "{tool_name}: skipping everything");

        let values = ok(tool_name, db, &["--distinct", field]);
        let values = lines(&values);
        assert!(values.len() > 3, "{tool_name}: {values:?}");
        let out = ok(tool_name, db, &["--distinct", field, "--limit", "2"]);
        assert_eq!(lines(&out), values[..2], "{tool_name} --distinct --limit");
        let out = ok(
            tool_name,
            db,
            &["--distinct", field, "--skip", "1", "--limit", "2"],
        );
        assert_eq!(lines(&out), values[1..3], "{tool_name} --distinct --skip");
    }
}

#[test]
fn top_count_and_records_honour_skip_and_limit() {
    for (tool_name, db, field) in [
        ("ivre-scancli", golden(), "service"),
        ("ivre-ipinfo", passive(), "recontype"),
    ] {
        let top = ok(tool_name, db, &["--top", field, "--limit", "4"]);
        let top = lines(&top);
        assert_eq!(top.len(), 4, "{tool_name}: {top:?}");
        let out = ok(
            tool_name,
            db,
            &["--top", field, "--skip", "1", "--limit", "2"],
        );
        assert_eq!(lines(&out), top[1..3], "{tool_name} --top --skip");

        let total: u64 = ok(tool_name, db, &["--count"]).trim().parse().unwrap();
        assert!(total > 10);
        let count = |args: &[&str]| -> u64 {
            let mut a = vec!["--count"];
            a.extend_from_slice(args);
            ok(tool_name, db, &a).trim().parse().unwrap()
        };
        assert_eq!(count(&["--limit", "3"]), 3, "{tool_name}");
        assert_eq!(count(&["--skip", "2"]), total - 2, "{tool_name}");
        assert_eq!(count(&["--skip", "2", "--limit", "0"]), total - 2);
        assert_eq!(count(&["--skip", &(total + 5).to_string()]), 0);

        let json = ok(tool_name, db, &["--json", "--skip", "1", "--limit", "2"]);
        assert_eq!(json.lines().count(), 2, "{tool_name} --json");
    }
    // The scan formats page the records too.
    let out = ok("ivre-scancli", golden(), &["--gnmap", "--limit", "2"]);
    let hosts: std::collections::BTreeSet<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("Host: "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(hosts.len(), 2, "{out}");
}

#[test]
fn modes_that_cannot_page_refuse_skip_and_limit() {
    for (tool_name, db) in [("ivre-scancli", golden()), ("ivre-ipinfo", passive())] {
        for mode in ["--delete", "--explain"] {
            let err = usage_error(tool_name, db, &[mode, "--yes", "--limit", "1"]);
            assert!(err.contains("--limit"), "{err}");
        }
    }
    // Nothing was deleted.
    assert_eq!(ok("ivre-scancli", golden(), &["--count"]).trim(), "945");
}

// ---- 4. unknown field names: a usage error with the known fields ----

#[test]
fn unknown_fields_are_usage_errors_everywhere() {
    let view_db = TestDb::new();
    for (tool_name, db) in [
        ("ivre-scancli", golden()),
        ("ivre-ipinfo", passive()),
        ("ivre-view", &view_db),
    ] {
        for args in [
            &["--top", "sevice"][..],
            &["--top", "~bogus"],
            &["--distinct", "bogus"],
            &["--json", "--sort", "bogus"],
        ] {
            let err = usage_error(tool_name, db, args);
            assert!(
                err.contains("bogus") || err.contains("sevice"),
                "{tool_name} {args:?}: {err}"
            );
            // The message lists what is known.
            assert!(err.contains("addr"), "{tool_name} {args:?}: {err}");
        }
    }
    let err = usage_error("ivre-scancli", golden(), &["--top", "sevice"]);
    assert!(err.contains("unknown field \"sevice\""), "{err}");
    assert!(err.contains("service"), "{err}");
    // Record paths under a known key are still fields (IVRE's generic paths).
    let out = ok(
        "ivre-scancli",
        golden(),
        &["--distinct", "ports.scripts.id", "--service", "ssh"],
    );
    assert!(out.lines().any(|l| l == "ssh-hostkey"), "{out}");
    let out = ok("ivre-scancli", golden(), &["--top", "hostnames.type"]);
    assert!(!out.is_empty());
    let out = ok(
        "ivre-scancli",
        golden(),
        &["--json", "--sort", "~openports.count", "--limit", "1"],
    );
    assert_eq!(out.lines().count(), 1);
    // --distinct knows the --top fields, as its help says.
    let out = ok("ivre-scancli", golden(), &["--distinct", "service"]);
    assert!(out.lines().any(|l| l == "ssh"), "{out}");
}

// ---- 5. --init and --delete: --yes without a terminal, and a report ----

#[test]
fn destructive_actions_need_yes_without_a_terminal_and_report() {
    let db = TestDb::new();
    load_records(&db, &golden_records());
    let count = |args: &[&str]| -> String {
        let mut a = vec!["--count"];
        a.extend_from_slice(args);
        ok("ivre-scancli", &db, &a).trim().to_string()
    };
    let ssh = count(&["--service", "ssh"]);
    assert_ne!(ssh, "0");
    for args in [&["--delete", "--service", "ssh"][..], &["--init"]] {
        let err = usage_error("ivre-scancli", &db, args);
        assert!(err.contains("--yes"), "{args:?}: {err}");
        assert!(err.contains("terminal"), "{args:?}: {err}");
        assert_eq!(count(&[]), "945", "{args:?} deleted records");
    }
    let out = tool(
        "ivre-scancli",
        &db,
        &["--delete", "--yes", "--service", "ssh"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("ivre-scancli: {ssh} records deleted\n")
    );
    let left = count(&[]);
    let out = tool("ivre-scancli", &db, &["--init", "-y"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("ivre-scancli: {left} records deleted\n")
    );
    assert_eq!(count(&[]), "0");
    // --quiet: no report.
    let out = tool("ivre-scancli", &db, &["--init", "--yes", "-q"], None);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");

    let db = TestDb::new();
    import_passive(&db);
    let total = db.scalar("SELECT count(*) FROM passive");
    let dns = db.scalar("SELECT count(*) FROM passive WHERE recontype = 'DNS_ANSWER'");
    assert!(dns > 0);
    for args in [&["--delete", "--recontype", "DNS_ANSWER"][..], &["--init"]] {
        let err = usage_error("ivre-ipinfo", &db, args);
        assert!(err.contains("--yes"), "{args:?}: {err}");
        assert_eq!(db.scalar("SELECT count(*) FROM passive"), total);
    }
    let out = tool(
        "ivre-ipinfo",
        &db,
        &["--delete", "--yes", "--recontype", "DNS_ANSWER"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("ivre-ipinfo: {dns} records deleted\n")
    );
    let out = tool("ivre-ipinfo", &db, &["--init", "--yes"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("ivre-ipinfo: {} records deleted\n", total - dns)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM passive"), 0);

    // ivre-view's --delete is scancli's shared code.
    let view_db = TestDb::new();
    let err = usage_error("ivre-view", &view_db, &["--delete", "--port", "80"]);
    assert!(err.contains("--yes"), "{err}");
    let out = tool("ivre-view", &view_db, &["--delete", "--yes"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "ivre-view: 0 records deleted\n");
}

// ---- 10. same flag, same meaning ----

fn help(tool_name: &str) -> String {
    let out = tool_command(tool_name, None)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{tool_name} --help");
    // Words, whatever the wrapping.
    stdout(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn every_tool() -> Vec<String> {
    ivre_cli::tools::TOOLS
        .iter()
        .map(|(name, _)| format!("ivre-{name}"))
        .collect()
}

#[test]
fn json_is_dash_j_wherever_there_is_a_json_flag() {
    let mut with_json = Vec::new();
    for t in every_tool() {
        let out = tool_command(&t, None).arg("--help").output().unwrap();
        // The option lines of the help (not the prose that names --json).
        let options: Vec<String> = stdout(&out)
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with('-'))
            .map(String::from)
            .collect();
        let defines = |flag: &str| {
            options.iter().any(|l| {
                l.strip_prefix(flag)
                    .is_some_and(|r| r.is_empty() || r.starts_with(' '))
            })
        };
        if defines("--json") || defines("-j, --json") {
            assert!(defines("-j, --json"), "{t}: --json without -j");
            with_json.push(t);
        } else {
            assert!(
                !options.iter().any(|l| l.starts_with("-j,")),
                "{t}: -j is not --json"
            );
        }
    }
    for t in ["ivre-scancli", "ivre-ipinfo", "ivre-iphost", "ivre-view"] {
        assert!(with_json.contains(&t.to_string()), "{t} lost --json");
    }
    // And it works.
    let a = ok("ivre-scancli", golden(), &["-j", "--limit", "2"]);
    let b = ok("ivre-scancli", golden(), &["--json", "--limit", "2"]);
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 2);
}

#[test]
fn every_tool_that_shows_geoip_data_takes_geoip_dir() {
    for t in ["ivre-ipinfo", "ivre-ipdata", "ivre-db2view", "ivre-httpd"] {
        assert!(help(t).contains("--geoip-dir"), "{t}");
    }
}

#[test]
fn top_prefixes_mean_least_common_in_every_tool() {
    for (tool_name, db, field) in [
        ("ivre-scancli", golden(), "service"),
        ("ivre-ipinfo", passive(), "recontype"),
    ] {
        let most = ok(tool_name, db, &["--top", field, "--limit", "0"]);
        let mut least: Vec<&str> = lines(&most);
        least.reverse();
        let counts = |text: &str| -> Vec<u64> {
            text.lines()
                .map(|l| l.rsplit_once(": ").unwrap().1.parse().unwrap())
                .collect()
        };
        let mut outputs = Vec::new();
        for prefix in ["~", "!", "-"] {
            let arg = format!("{prefix}{field}");
            outputs.push(ok(tool_name, db, &["--top", &arg, "--limit", "0"]));
        }
        assert_eq!(outputs[0], outputs[1], "{tool_name}: ~ vs !");
        assert_eq!(outputs[0], outputs[2], "{tool_name}: ~ vs -");
        let mut expected = counts(&least.join("\n"));
        expected.sort();
        assert_eq!(counts(&outputs[0]), expected, "{tool_name}: least first");
    }
    assert!(help("ivre-scancli").contains("~FIELD, !FIELD, -FIELD"));
    assert!(help("ivre-ipinfo").contains("~FIELD, !FIELD, -FIELD"));
    assert!(help("ivre-view").contains("~FIELD, !FIELD, -FIELD"));
}

#[test]
fn scan2db_port_is_documented_and_has_clearer_aliases() {
    let h = help("ivre-scan2db");
    assert!(h.contains("with-ports-only"), "{h}");
    assert!(h.contains("open-ports-only"), "{h}");
    assert!(h.contains("not a port number"), "{h}");
    let imported = |flag: &str| -> i64 {
        let db = TestDb::new();
        let out = tool(
            "ivre-scan2db",
            &db,
            &[flag, "-s", "T", &sample("ipv6_all.xml")],
            None,
        );
        assert!(out.status.success(), "{flag}: {}", stderr(&out));
        db.scalar("SELECT count(*) FROM scan_host")
    };
    assert_eq!(imported("--port"), imported("--with-ports-only"));
    assert_eq!(imported("--open-ports"), imported("--open-ports-only"));
}

#[test]
fn iphost_counts_limits_and_says_when_nothing_is_found() {
    let db = passive();
    let all = ok("ivre-iphost", db, &["-j", "--sub", "neufbox.neuf.fr"]);
    let n = all.lines().count();
    assert!(n > 10, "{all}");
    assert_eq!(
        ok("ivre-iphost", db, &["--count", "--sub", "neufbox.neuf.fr"]),
        format!("{n}\n")
    );
    let two = ok(
        "ivre-iphost",
        db,
        &["-j", "--limit", "2", "--sub", "neufbox.neuf.fr"],
    );
    assert_eq!(lines(&two), lines(&all)[..2]);
    assert_eq!(
        ok(
            "ivre-iphost",
            db,
            &["--count", "--limit", "2", "--sub", "neufbox.neuf.fr"]
        ),
        "2\n"
    );
    // The limit is over all the VALUEs.
    let google = ok("ivre-iphost", db, &["-j", "--sub", "google.com"]);
    assert!(!google.is_empty());
    let limit = (n + 1).to_string();
    let out = ok(
        "ivre-iphost",
        db,
        &[
            "-j",
            "--limit",
            &limit,
            "--sub",
            "neufbox.neuf.fr",
            "google.com",
        ],
    );
    assert_eq!(out, format!("{all}{}\n", google.lines().next().unwrap()));

    let out: Output = tool("ivre-iphost", db, &["nosuch.example"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "ivre-iphost: no record found for \"nosuch.example\"\n"
    );
    assert!(help("ivre-iphost").contains("Exit status"));
}
