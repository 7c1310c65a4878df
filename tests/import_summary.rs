//! The closing line and the progress bar of the importers, and help texts
//! free of implementation names.

use crate::common::{data, run_tool, stderr, stdout, tool_command, TestDb};

fn import(db: &TestDb, tool: &str, args: &[&str]) -> std::process::Output {
    run_tool(tool, args, None, |cmd| {
        cmd.env("IVRE_DB", &db.url);
    })
}

#[test]
fn a_tiny_import_reads_well() {
    let db = TestDb::new();
    let file = data("ivre-samples/ipv6_all.xml");
    let out = import(&db, "ivre-scan2db", &[file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stderr(&out);
    assert!(line.starts_with("1 file: 1 host record in "), "{line}");
    assert!(!line.contains("/s"), "no rate for one record: {line}");
    assert!(!line.contains("(s)"), "{line}");
    assert_eq!(line.lines().count(), 1, "{line}");
}

#[test]
fn the_passive_summary_counts_in_words() {
    let db = TestDb::new();
    let out = run_tool(
        "ivre-p0f2db",
        &["-"],
        Some(b"[2024/01/02 10:00:00] mod=syn|cli=192.0.2.1/40000|srv=198.51.100.2/80|subj=cli|os=Linux 3.11 and newer|dist=0|params=none|raw_sig=4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0\n"),
        |cmd| {
            cmd.env("IVRE_DB", &db.url);
        },
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stderr(&out);
    assert!(
        line.starts_with("1 file: 1 observation (0 ignored, 0 bad lines) in "),
        "{line}"
    );
    assert!(!line.contains("/s"), "{line}");
}

/// The bar shows a percentage of the file read when its size is known
/// (drawn only on a terminal: `script` gives the tool one).
#[test]
fn the_progress_bar_shows_a_percentage_of_a_sized_input() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to give the tool a terminal");
        return;
    }
    let db = TestDb::new();
    let file = data("ivre-samples/Nmap-Modbus-IPv4.json.bz2");
    let command = format!(
        "{} {}",
        crate::common::bin("ivre-scan2db").display(),
        file.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("IVRE_DB", &db.url)
        .env("NMAPDIR", data("nmap"))
        .output()
        .unwrap();
    let screen = stdout(&out).replace('\r', "\n");
    assert!(out.status.success(), "{screen}");
    let drawn: Vec<&str> = screen.lines().filter(|l| l.contains("% [")).collect();
    assert!(!drawn.is_empty(), "{screen}");
    assert!(drawn.iter().all(|l| l.contains(" hosts (")), "{screen}");
    assert!(screen.contains("1 file: "), "{screen}");
}

#[test]
fn help_texts_name_no_rust_paths() {
    let tools = ivre_cli::tools::TOOLS
        .iter()
        .map(|(name, _)| format!("ivre-{name}"));
    for tool in tools {
        let help = stdout(&tool_command(&tool, None).arg("--help").output().unwrap());
        assert!(help.contains("Usage:"), "{tool}: {help}");
        let bytes = help.as_bytes();
        let rust_path = bytes.windows(4).any(|w| {
            let ident = |b: u8| b.is_ascii_lowercase() || b == b'_';
            ident(w[0]) && w[1] == b':' && w[2] == b':' && ident(w[3])
        });
        assert!(!rust_path && !help.contains("ivre_"), "{tool}: {help}");
    }
}
