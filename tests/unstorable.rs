//! Values PostgreSQL cannot store: text with U+0000 is stored escaped
//! (`\x00`) with a warning naming the file and line, a value out of range
//! refuses its record only; nothing else of the file is lost.

use crate::common::*;

/// Text of the rows of one query, in order.
fn texts(db: &TestDb, sql: &str) -> Vec<String> {
    db.client()
        .query(sql, &[])
        .expect(sql)
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn scan2db_escapes_nul_and_refuses_a_port_out_of_range() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nul.json");
    std::fs::write(
        &file,
        concat!(
            r#"{"addr":"10.0.0.1","hostnames":[{"type":"PTR","name":"a\u0000b.example.com"}],"#,
            r#""ports":[{"protocol":"tcp","port":80,"state_state":"open","#,
            r#""scripts":[{"id":"http-title","output":"x\u0000y\\z"}]}]}"#,
            "\n",
            r#"{"addr":"10.0.0.2","ports":[{"protocol":"tcp","port":443,"state_state":"open"}]}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = tool("ivre-scan2db", &db, &[file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nul.json: line 1: host 10.0.0.1: U+0000 stored escaped"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 2);
    assert_eq!(
        texts(&db, "SELECT name FROM scan_hostname"),
        [r"a\x00b.example.com"]
    );
    // The backslash is escaped too, so that the text decodes to the original bytes.
    assert_eq!(texts(&db, "SELECT output FROM scan_script"), [r"x\x00y\\z"]);

    let file = dir.path().join("range.json");
    std::fs::write(
        &file,
        concat!(
            r#"{"addr":"10.0.1.1","ports":[{"protocol":"tcp","port":22,"state_state":"open"}]}"#,
            "\n",
            r#"{"addr":"10.0.1.2","ports":[{"protocol":"tcp","port":70000,"state_state":"open"}]}"#,
            "\n",
            r#"{"addr":"10.0.1.3","ports":[{"protocol":"udp","port":99999999999}]}"#,
            "\n",
            r#"{"addr":"10.0.1.4","ports":[{"protocol":"tcp","port":25,"state_state":"open"}]}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = tool("ivre-scan2db", &db, &[file.to_str().unwrap()], None);
    // Something of the file was not stored: exit status 1, the rest is kept.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("range.json: line 2: host 10.0.1.2 not stored: port 70000 is out of range"),
        "{err}"
    );
    assert!(
        err.contains(
            "range.json: line 3: host 10.0.1.3 not stored: port 99999999999 is out of range"
        ),
        "{err}"
    );
    assert_eq!(
        texts(
            &db,
            "SELECT host(addr) FROM scan_host WHERE addr << '10.0.1.0/24' ORDER BY addr"
        ),
        ["10.0.1.1", "10.0.1.4"]
    );
    assert_eq!(
        db.scalar("SELECT host_count FROM scan_file WHERE name LIKE '%range.json'"),
        2
    );
}

#[test]
fn passiverecon2db_escapes_nul_and_refuses_a_port_out_of_range() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recon.log");
    let header = std::fs::read_to_string(data("passive/zeek/passive_recon.log"))
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let line = |host: &str, port: &str, rt: &str, source: &str, value: &str| {
        format!("1.5\tC\t{host}\t{port}\tPassiveRecon::{rt}\t{source}\t{value}\t-\n")
    };
    let log = [
        header,
        line(
            "10.0.0.1",
            "-",
            "DNS_ANSWER",
            "A-10.0.0.53-53",
            "ok.example.com",
        ),
        line(
            "10.0.0.2",
            "-",
            "DNS_ANSWER",
            "A-10.0.0.53-53",
            "evil\0name.example.com",
        ),
        line("10.0.0.3", "80", "HTTP_SERVER_HEADER", "SERVER", "nginx"),
        line(
            "10.0.0.4",
            "70000",
            "HTTP_SERVER_HEADER",
            "SERVER",
            "apache",
        ),
        line("10.0.0.5", "80", "HTTP_SERVER_HEADER", "SERVER", "lighttpd"),
    ]
    .concat();
    std::fs::write(&file, log).unwrap();
    let out = tool("ivre-passiverecon2db", &db, &[file.to_str().unwrap()], None);
    let err = stderr(&out);
    // The line with the port out of range is a bad line: reported, skipped, exit status 1.
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("recon.log: line 10: U+0000 stored escaped (\\x00) in value"),
        "{err}"
    );
    assert!(
        err.contains("recon.log: line 12: invalid srvport \"70000\""),
        "{err}"
    );
    assert_eq!(
        texts(&db, "SELECT host(addr) FROM passive ORDER BY addr"),
        ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5"]
    );
    assert_eq!(
        texts(&db, "SELECT value FROM passive WHERE addr = '10.0.0.2'"),
        [r"evil\x00name.example.com"]
    );

    // Zeek JSON: the NUL comes as a JSON escape.
    let file = dir.path().join("recon.json");
    std::fs::write(
        &file,
        concat!(
            r#"{"ts":1.5,"uid":"C","host":"10.0.1.1","srvport":80,"recon_type":"PassiveRecon::HTTP_SERVER_HEADER","source":"SERVER","value":"a\u0000b"}"#,
            "\n",
            r#"{"ts":1.5,"uid":"C","host":"10.0.1.2","srvport":80,"recon_type":"PassiveRecon::HTTP_SERVER_HEADER","source":"SERVER","value":"nginx"}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = tool("ivre-passiverecon2db", &db, &[file.to_str().unwrap()], None);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("recon.json: line 1: U+0000 stored escaped (\\x00) in value"),
        "{err}"
    );
    assert_eq!(
        texts(
            &db,
            "SELECT value FROM passive WHERE addr << '10.0.1.0/24' ORDER BY addr"
        ),
        [r"a\x00b", "nginx"]
    );
}
