//! Inputs of a known kind fed to the wrong tool get a message saying what
//! to do instead.

use crate::common::{run_tool, stderr, TestDb};

fn import(db: &TestDb, tool: &str, input: &str) -> std::process::Output {
    run_tool(tool, &["-"], Some(input.as_bytes()), |cmd| {
        cmd.env("IVRE_DB", &db.url);
    })
}

#[test]
fn nmap_normal_and_grepable_output_point_to_xml() {
    let db = TestDb::new();
    let normal = "Starting Nmap 7.94SVN ( https://nmap.org ) at 2024-01-02 10:00 UTC\n\
                  Nmap scan report for host.example (192.0.2.1)\nHost is up (0.00010s latency).\n";
    let grepable =
        "# Nmap 7.94SVN scan initiated Tue Jan  2 10:00:00 2024 as: nmap -oG - 192.0.2.1\n\
                    Host: 192.0.2.1 ()\tStatus: Up\n";
    let normal_file =
        "# Nmap 7.94SVN scan initiated Tue Jan  2 10:00:00 2024 as: nmap -oN scan.nmap 192.0.2.1\n\
                       Nmap scan report for 192.0.2.1\n";
    for input in [normal, grepable, normal_file] {
        let out = import(&db, "ivre-scan2db", input);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let message = stderr(&out);
        assert!(
            message
                .starts_with("ivre-scan2db: error: <stdin>: line 1, column 1: unknown file type"),
            "{message}"
        );
        assert!(
            message.contains("Nmap's normal or grepable output") && message.contains("-oX -"),
            "{message}"
        );
    }
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 0);
    // Anything else unknown gets no Nmap hint.
    let out = import(&db, "ivre-scan2db", "hello\n");
    assert!(!stderr(&out).contains("Nmap"), "{}", stderr(&out));
}

#[test]
fn a_zeek_conn_log_names_the_flow_importer() {
    let db = TestDb::new();
    let conn = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n\
                #path\tconn\n#open\t2024-01-02-10-00-00\n\
                #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
                #types\ttime\tstring\taddr\tport\taddr\tport\tenum\n\
                1704189600.000000\tCabc\t192.0.2.1\t40000\t198.51.100.2\t443\ttcp\n\
                1704189601.000000\tCdef\t192.0.2.1\t40001\t198.51.100.2\t443\ttcp\n";
    let out = import(&db, "ivre-passiverecon2db", conn);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let message = stderr(&out);
    let errors: Vec<&str> = message.lines().filter(|l| l.contains("error:")).collect();
    assert_eq!(errors.len(), 1, "one message, not one per line: {message}");
    assert!(
        errors[0]
            .starts_with("ivre-passiverecon2db: error: <stdin>: line 7: this is a Zeek `conn` log"),
        "{message}"
    );
    assert!(errors[0].contains("ivre-zeek2db"), "{message}");
    assert_eq!(db.scalar("SELECT count(*) FROM passive"), 0);
}
