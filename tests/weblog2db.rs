//! `ivre-weblog2db` over a real Apache combined log (elastic/examples):
//! user agents stored per client, counted once per request, bad lines named,
//! a re-run skipped (exactly once).

use crate::common::{data, stderr, stdout, tool, TestDb};

#[test]
fn apache_combined_log_user_agents() {
    let db = TestDb::new();
    let log = data("weblog/apache_logs.excerpt");
    let log = log.to_str().unwrap();
    let out = tool("ivre-weblog2db", &db, &["-s", "WEB", log], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        db.scalar("SELECT count(*) FROM passive WHERE recontype = 'HTTP_CLIENT_HEADER' AND source = 'USER-AGENT' AND sensor = 'WEB'"),
        19
    );
    assert_eq!(db.scalar("SELECT sum(count)::bigint FROM passive"), 39);
    // Times come from the log ([17/May/2015:10:05:.. +0000]).
    assert_eq!(
        db.scalar("SELECT count(*) FROM passive WHERE firstseen < '2015-05-17 10:05:00+00' OR lastseen > '2015-05-17 10:06:00+00'"),
        0
    );
    let googlebot = tool(
        "ivre-ipinfo",
        &db,
        &["--count", "--useragent", "/Googlebot/"],
        None,
    );
    assert_eq!(stdout(&googlebot), "3\n", "{}", stderr(&googlebot));
    let one = tool("ivre-ipinfo", &db, &["--json", "93.114.45.13"], None);
    let rec: serde_json::Value = serde_json::from_str(stdout(&one).trim()).unwrap();
    assert_eq!(rec["count"], 6);
    assert_eq!(
        rec["value"],
        "Mozilla/5.0 (X11; Linux x86_64; rv:25.0) Gecko/20100101 Firefox/25.0"
    );
    assert_eq!(rec["firstseen"], "2015-05-17 10:05:04.000000");
    assert_eq!(rec["lastseen"], "2015-05-17 10:05:45.000000");
    // The same file again: skipped, nothing counted twice.
    let out = tool("ivre-weblog2db", &db, &["-s", "WEB", log], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("already imported"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.scalar("SELECT sum(count)::bigint FROM passive"), 39);
}

#[test]
fn bad_lines_are_named_and_skipped() {
    let db = TestDb::new();
    let text = std::fs::read_to_string(data("weblog/apache_logs.excerpt")).unwrap();
    let mut lines: Vec<&str> = text.lines().take(3).collect();
    lines.insert(
        1,
        "www.example.com - - [17/May/2015:10:05:56 +0000] \"GET / HTTP/1.1\" 200 1",
    );
    let input = lines.join("\n") + "\n";
    let out = tool(
        "ivre-weblog2db",
        &db,
        &["-s", "W", "-"],
        Some(input.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("<stdin>: line 2: client \"www.example.com\" is not an IP address"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.scalar("SELECT sum(count)::bigint FROM passive"), 3);
}
