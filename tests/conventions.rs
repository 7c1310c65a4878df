//! What every tool does alike: version flags, message style, usage errors.

use crate::common::{data, run_tool, stderr, stdout, tool_command, TestDb};

/// Every tool of the suite, as `ivre help` lists them, and `ivre` itself.
fn every_tool() -> Vec<String> {
    let mut tools: Vec<String> = ivre_cli::tools::TOOLS
        .iter()
        .map(|(name, _)| format!("ivre-{name}"))
        .collect();
    tools.push("ivre".into());
    tools
}

#[test]
fn every_tool_answers_both_version_flags_alike() {
    let version = env!("CARGO_PKG_VERSION");
    for tool in every_tool() {
        for flag in ["-V", "--version"] {
            let out = tool_command(&tool, None).arg(flag).output().unwrap();
            assert!(out.status.success(), "{tool} {flag}: {}", stderr(&out));
            assert_eq!(stdout(&out), format!("{tool} {version}\n"), "{tool} {flag}");
        }
    }
}

#[test]
fn the_schema_version_filter_keeps_only_its_long_name() {
    let help = stdout(
        &tool_command("ivre-scancli", None)
            .arg("--help")
            .output()
            .unwrap(),
    );
    assert!(help.contains("--schema-version <N>"), "{help}");
    // `--version` is the version flag, not an alias of the filter.
    let out = tool_command("ivre-scancli", None)
        .args(["--version", "19"])
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("schema-version"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("schema-version"), "{}", stdout(&out));
}

/// Runs `tool ARGS` on a test database with `stdin`.
fn run_on(db: &TestDb, tool: &str, args: &[&str], stdin: &[u8]) -> std::process::Output {
    run_tool(tool, args, Some(stdin), |cmd| {
        cmd.env("IVRE_DB", &db.url);
    })
}

#[test]
fn errors_and_warnings_read_tool_error_and_tool_warning() {
    let db = TestDb::new();
    // A usage error of clap's own, in the suite's words.
    let out = run_on(&db, "ivre-scancli", &["--limit", "abc"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("ivre-scancli: error: invalid value 'abc' for '--limit"),
        "{}",
        stderr(&out)
    );
    // A logged error and a logged warning.
    let out = run_on(&db, "ivre-scan2db", &["-"], b"garbage\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .starts_with("ivre-scan2db: error: <stdin>: line 1, column 1: unknown file type"),
        "{}",
        stderr(&out)
    );
    let out = run_on(&db, "ivre-scan2db", &["-"], b"");
    assert!(
        stderr(&out).starts_with("ivre-scan2db: warning: <stdin>: empty"),
        "{}",
        stderr(&out)
    );
    // ivre-ipdata's per-address errors.
    let geoip = tempfile::tempdir().unwrap();
    for kind in ["ASN", "Country", "City"] {
        std::fs::copy(
            data(&format!("geoip/GeoLite2-{kind}-Test.mmdb")),
            geoip.path().join(format!("GeoLite2-{kind}.mmdb")),
        )
        .unwrap();
    }
    let out = run_tool(
        "ivre-ipdata",
        &["--geoip-dir", geoip.path().to_str().unwrap(), "nope"],
        None,
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("ivre-ipdata: error: argument 1: invalid IP address \"nope\""),
        "{}",
        stderr(&out)
    );
    // The dispatcher.
    let out = run_tool("ivre", &["nosuchtool"], None, |_| {});
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("ivre: error: unknown tool"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_value_that_cannot_be_parsed_is_a_usage_error_said_once() {
    let db = TestDb::new();
    for tool in ["ivre-scancli", "ivre-ipinfo"] {
        let out = run_on(&db, tool, &["--count", "--port", "eighty"], b"");
        assert_eq!(out.status.code(), Some(2), "{tool}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!("{tool}: error: invalid port \"eighty\"\n")
        );

        let out = run_on(&db, tool, &["--count", "--hostname", "/[a/"], b"");
        assert_eq!(out.status.code(), Some(2), "{tool}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(
            message.starts_with(&format!("{tool}: error: invalid regular expression")),
            "{message}"
        );
        assert_eq!(
            message.matches("invalid regular expression").count(),
            1,
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }
    let out = run_on(&db, "ivre-iphost", &["/[a/"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("invalid regular expression").count(),
        1
    );
}
