//! What every tool does alike: version flags, message style, usage errors.

use crate::common::{stderr, stdout, tool_command};

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
