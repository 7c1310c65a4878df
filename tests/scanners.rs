//! ivre-scan2db on the outputs of other scanners (Zgrab2, Nuclei, httpx,
//! tlsx, dnsx): real samples from the tools (tests/data/<tool>/), checked
//! against what they contain, and the `scancli --json` round trip.

use crate::common::*;

fn path(rel: &str) -> String {
    data(rel).to_str().unwrap().to_string()
}

const ZGRAB2: &[&str] = &[
    "zgrab2/ftp-default.json",
    "zgrab2/http-http.json",
    "zgrab2/http-https.json",
    "zgrab2/mysql-8.0.json",
    "zgrab2/smtp-ehlo.04.json",
    "zgrab2/ssh-ssh.json",
    "zgrab2/telnet-telnet.json",
];

const OTHERS: &[&str] = &[
    "nuclei/bbot-nuclei.json",
    "httpx/bbot-httpx.json",
    "tlsx/tlsx-readme.json",
    "dnsx/bbot-dnsx.json",
];

fn import(db: &TestDb, files: &[&str], extra: &[&str]) {
    let paths: Vec<String> = files.iter().map(|f| path(f)).collect();
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(paths.iter().map(String::as_str));
    let out = tool("ivre-scan2db", db, &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn text(db: &TestDb, sql: &str) -> String {
    db.client()
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

#[test]
fn zgrab2_samples_give_their_ports_services_and_scripts() {
    let db = TestDb::new();
    import(&db, ZGRAB2, &["-s", "zgrab"]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_file WHERE format = 'zgrab2'"),
        7
    );
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 7);
    // one open port per sample, on the protocol's port
    let ports = text(
        &db,
        "SELECT string_agg(port || '/' || service_name || coalesce('/' || service_tunnel, ''), ',' ORDER BY port)
         FROM scan_port WHERE state = 'open'",
    );
    assert_eq!(
        ports,
        "21/ftp,22/ssh,23/telnet,25/smtp,80/http,443/http/ssl,3306/mysql"
    );
    // the domain Zgrab2 was given ("target") is a user hostname of every record
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_hostname WHERE name = 'target' AND type = 'user'"),
        7
    );
    // banners, as the samples have them (first lines, no trailing CRLF)
    assert_eq!(
        text(
            &db,
            "SELECT output FROM scan_script WHERE name = 'banner' AND port = 21"
        ),
        "220 (vsFTPd 3.0.3)"
    );
    assert_eq!(
        text(
            &db,
            "SELECT output FROM scan_script WHERE name = 'banner' AND port = 22"
        ),
        "SSH-2.0-OpenSSH_7.2p2 Ubuntu-4ubuntu2.4"
    );
    assert_eq!(
        text(
            &db,
            "SELECT output FROM scan_script WHERE name = 'smtp-commands'"
        ),
        "ba06a6536f7e Hi Unknown [172.17.0.4], PIPELINING, 8BITMIME"
    );
    // HTTP: headers (with the status line first), server, body and its hash
    assert_eq!(
        text(
            &db,
            "SELECT data->'http-headers'->0->>'value' FROM scan_script WHERE name = 'http-headers' AND port = 80"
        ),
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        text(
            &db,
            "SELECT data->'http-server-header'->>0 FROM scan_script WHERE name = 'http-server-header' AND port = 443"
        ),
        "lighttpd/1.4.35"
    );
    assert_eq!(
        text(
            &db,
            "SELECT output FROM scan_script WHERE name = 'http-content' AND port = 443"
        ),
        "<html><body>HTTPS INDEX</body></html>"
    );
    assert_eq!(
        text(
            &db,
            "SELECT data->'http-content'->>'body_sha256' FROM scan_script WHERE name = 'http-content' AND port = 80"
        ),
        "c11fdc020dbb3150da741f51dcf0423c5ce93a798e91bd5c1957ea7299f4e103"
    );
    // TLS: the certificate is parsed as Nmap's are; the hashes are those
    // Zgrab2 computed in the same record
    assert_eq!(
        text(
            &db,
            "SELECT string_agg(port || ':' || (data->'ssl-cert'->0->>'sha1'), ',' ORDER BY port)
             FROM scan_script WHERE name = 'ssl-cert'"
        ),
        "443:c01879102500381394bd392ef771b0da1837e286,3306:0d477fa7d961c7d7d31bfd5c826ab44361675e8e"
    );
    assert_eq!(
        text(
            &db,
            "SELECT data->'ssl-cert'->0->>'serial_number' FROM scan_script WHERE name = 'ssl-cert' AND port = 443"
        ),
        "15229406698539618719"
    );
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM scan_hostname WHERE type = 'cert-subject-cn' AND name = 'target'"
        ),
        1
    );
    // SSH: algorithms with HASSH, host key
    assert_eq!(
        text(
            &db,
            "SELECT data->'ssh2-enum-algos'->'hassh'->>'version' FROM scan_script WHERE name = 'ssh2-enum-algos'"
        ),
        "1.1"
    );
    assert_eq!(
        text(
            &db,
            "SELECT (data->'ssh-hostkey'->0->>'type') || ' ' || (data->'ssh-hostkey'->0->>'bits') FROM scan_script WHERE name = 'ssh-hostkey'"
        ),
        "ecdsa-sha2-nistp256 256"
    );
    // MySQL: version, greeting
    assert_eq!(
        text(
            &db,
            "SELECT service_product || ' ' || service_version FROM scan_port WHERE port = 3306"
        ),
        "MySQL 8.0.3-rc-log"
    );
    assert_eq!(
        text(
            &db,
            "SELECT data->'mysql-info'->>'Auth Plugin Name' FROM scan_script WHERE name = 'mysql-info'"
        ),
        "mysql_native_password"
    );
    // times from the module timestamps
    assert_eq!(
        text(
            &db,
            "SELECT to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM scan_host h JOIN scan_port p ON p.host_id = h.id WHERE p.port = 22"
        ),
        "2018-04-06 19:42:32"
    );
}

#[test]
fn zgrab2_port_option_and_unknown_modules() {
    let db = TestDb::new();
    // a module Zgrab2 has but this reader does not know is kept whole, as a host script
    let input = br#"{"ip":"192.0.2.7","data":{"ssh":{"status":"success","protocol":"ssh","result":{"server_id":{"raw":"SSH-2.0-x"}}},"modbus":{"status":"success","protocol":"modbus","result":{"function_code":43},"timestamp":"2024-01-01T00:00:00Z"}}}
{"domain":"not-an-address","data":{"ftp":{"status":"success","result":{"banner":"220 x"}}}}
"#;
    let out = tool(
        "ivre-scan2db",
        &db,
        &["--zgrab-port", "2222", "-"],
        Some(input),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 1);
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_port WHERE port = 2222 AND service_name = 'ssh'"),
        1
    );
    assert_eq!(
        text(
            &db,
            "SELECT (data->'zgrab2-modbus'->'result'->>'function_code') FROM scan_script WHERE name = 'zgrab2-modbus' AND port = -1"
        ),
        "43"
    );
}

#[test]
fn other_tools_give_what_their_samples_hold() {
    let db = TestDb::new();
    import(&db, OTHERS, &[]);
    let formats = text(
        &db,
        "SELECT string_agg(format, ',' ORDER BY format) FROM scan_file",
    );
    assert_eq!(formats, "dnsx,httpx,nuclei,tlsx");
    // Nuclei (old key spelling "template" plus "template-id", "matched-at")
    assert_eq!(
        text(
            &db,
            "SELECT s.output FROM scan_script s WHERE s.name = 'http-nuclei'"
        ),
        "[info] Wappalyzer Technology Detection (caddy) found at https://api.publicapis.org:443/health"
    );
    assert_eq!(
        text(
            &db,
            "SELECT data->'nuclei'->0->>'template' FROM scan_script WHERE name = 'http-nuclei'"
        ),
        "tech-detect"
    );
    assert_eq!(
        text(
            &db,
            "SELECT doc->'tags'->0->>'value' || ':' || (doc->'tags'->0->>'type') FROM scan_host h JOIN scan_file f ON f.id = h.file_id WHERE f.format = 'nuclei'"
        ),
        "Nuclei:info"
    );
    // httpx (httpx 1 keys): the address, the URL's host name, headers, server
    assert_eq!(
        text(
            &db,
            "SELECT host(h.addr) || ' ' || p.port || ' ' || p.service_name || '/' || p.service_tunnel
             FROM scan_host h JOIN scan_file f ON f.id = h.file_id JOIN scan_port p ON p.host_id = h.id
             WHERE f.format = 'httpx'"
        ),
        "138.197.231.124 443 http/ssl"
    );
    assert_eq!(
        text(
            &db,
            "SELECT data->'http-server-header'->>0 FROM scan_script WHERE name = 'http-server-header'"
        ),
        "Caddy"
    );
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM scan_hostname WHERE name = 'api.publicapis.org' AND type = 'user'"
        ),
        2
    );
    // tlsx without the PEM: the partial certificate, dates set (IVRE's bug fixed)
    assert_eq!(
        text(
            &db,
            "SELECT (data->'ssl-cert'->0->>'not_before') || ' / ' || (data->'ssl-cert'->0->>'not_after') FROM scan_script WHERE name = 'ssl-cert'"
        ),
        "2022-03-14 00:00:00 / 2023-03-14 23:59:59"
    );
    assert_eq!(
        text(
            &db,
            "SELECT data->'ssl-tlsx'->>'cipher' FROM scan_script WHERE name = 'ssl-tlsx'"
        ),
        "TLS_AES_256_GCM_SHA384"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_hostname WHERE type = 'cert-san-dns'"),
        8
    );
    // dnsx: the A answer is a record with the queried name as an A hostname
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM scan_hostname n JOIN scan_host h ON h.id = n.host_id
             WHERE n.type = 'A' AND n.name = 'api.publicapis.org' AND host(h.addr) = '138.197.231.124'"
        ),
        1
    );
}

#[test]
fn json_export_of_these_records_reimports_unchanged() {
    let first = TestDb::new();
    let mut all: Vec<&str> = ZGRAB2.to_vec();
    all.extend(OTHERS);
    import(&first, &all, &["-c", "SCANNERS"]);
    let export = tool("ivre-scancli", &first, &["--json"], None);
    assert!(export.status.success(), "{}", stderr(&export));
    let second = TestDb::new();
    let load = tool(
        "ivre-scan2db",
        &second,
        &["--force", "-"],
        Some(&export.stdout),
    );
    assert!(load.status.success(), "{}", stderr(&load));
    let again = tool("ivre-scancli", &second, &["--json"], None);
    let parse = |out: &[u8]| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (a, b) = (parse(&export.stdout), parse(&again.stdout));
    assert_eq!(a.len(), 11);
    assert_eq!(a, b);
}

#[test]
fn test_mode_prints_the_records() {
    let out = run_tool(
        "ivre-scan2db",
        &[
            "-t",
            &path("zgrab2/ssh-ssh.json"),
            &path("dnsx/bbot-dnsx.json"),
        ],
        None,
        |_| {},
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let recs: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["ports"][0]["port"], 22);
    assert_eq!(recs[1]["hostnames"][0]["type"], "A");
}

#[test]
fn bad_lines_name_the_file_and_line_and_store_nothing() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(data("zgrab2/ftp-default.json")).unwrap();
    for (name, bad) in [
        ("syntax.json", "{\"ip\": \"192.0.2.1\", \"data\": {"),
        ("address.json", "{\"ip\": \"999.1.1.1\", \"data\": {}}"),
        ("data.json", "{\"ip\": \"192.0.2.1\", \"data\": [1]}"),
    ] {
        let f = dir.path().join(name);
        std::fs::write(&f, format!("{good}{bad}\n")).unwrap();
        let out = tool("ivre-scan2db", &db, &[f.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(name) && err.contains("line 2"), "{err}");
    }
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM scan_file"), 0);
}
