//! Uploads to `ivre-httpd` (`POST /cgi/scans`): stored as `ivre-scan2db`
//! stores the same file, once only, gated by the upload permission and
//! `--upload`, limited in size, audited.

use crate::common::*;
use crate::web::Server;

const BOUNDARY: &str = "ivre-test-boundary-7d1f";

/// A multipart/form-data body with these text fields and files.
fn form(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, data) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"result\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn key(db: &TestDb, name: &str, perm: &str) -> String {
    let out = tool(
        "ivre-httpd",
        db,
        &["keys", "add", name, "--perm", perm],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    format!("Bearer {}", stdout(&out).trim())
}

fn addresses(db: &TestDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT host(addr) || ' ' || array_to_string(categories, ',') || ' ' || source \
             FROM scan_host ORDER BY addr, id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn upload_equals_a_cli_import_once() {
    let db = TestDb::new();
    let s = Server::start(&db, &["--auth", "--upload"]);
    let uploader = key(&db, "uploader", "read,upload");
    let sample_name = "test-T22.xml.bz2";
    let data = std::fs::read(sample(sample_name)).unwrap();
    let body = form(
        &[("source", "UPLOAD"), ("categories", "b,a,a")],
        &[(sample_name, &data)],
    );
    let ctype = format!("multipart/form-data; boundary={BOUNDARY}");
    let headers = [
        ("Content-Type", ctype.as_str()),
        ("Authorization", uploader.as_str()),
    ];
    let r = s.post("/scans", &headers, &body).ok();
    let v = r.json();
    assert_eq!(v["count"], 1, "{v}");
    let hosts = v["files"][0]["hosts"].as_i64().unwrap();
    assert!(hosts > 0, "{v}");
    // The same file through ivre-scan2db gives the same records.
    let cli = TestDb::new();
    let out = tool(
        "ivre-scan2db",
        &cli,
        &["-c", "a,b", "-s", "UPLOAD", &sample(sample_name)],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(addresses(&db), addresses(&cli));
    assert_eq!(addresses(&db).len() as i64, hosts);
    // Exactly once: the same content again stores nothing.
    let r = s.post("/scans", &headers, &body).ok();
    assert_eq!(r.json()["files"][0]["hosts"], 0);
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), hosts);
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM web_audit WHERE event = 'upload' AND key_name = 'uploader'"
        ),
        2
    );
    // Gates: the permission, the source, the size.
    let reader = key(&db, "reader", "read");
    let r = s.post(
        "/scans",
        &[
            ("Content-Type", ctype.as_str()),
            ("Authorization", reader.as_str()),
        ],
        &body,
    );
    assert_eq!(r.status, 403);
    let r = s.post(
        "/scans",
        &headers,
        &form(&[("categories", "x")], &[(sample_name, &data)]),
    );
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("source"));
    let r = s.post("/scans", &headers, b"--x--");
    assert!(
        r.status == 400 || r.status == 415,
        "{} {}",
        r.status,
        r.body
    );
    let small = Server::start(&db, &["--auth", "--upload", "--max-upload", "0"]);
    assert_eq!(small.post("/scans", &headers, &body).status, 413);
    let closed = Server::start(&db, &["--auth"]);
    assert_eq!(closed.post("/scans", &headers, &body).status, 403);
    // Without a key (loopback, no --auth): a browser's upload needs our Referer.
    let open = Server::start(&db, &["--upload"]);
    let r = open.post("/scans", &[("Content-Type", ctype.as_str())], &body);
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("Referer"));
}

#[test]
fn upload_to_view_stores_the_scan_and_builds_the_view() {
    let db = TestDb::new();
    let s = Server::start(&db, &["--auth", "--upload"]);
    let uploader = key(&db, "uploader", "upload,read");
    let sample_name = "test-T22.xml.bz2";
    let data = std::fs::read(sample(sample_name)).unwrap();
    let body = form(&[("source", "UPLOAD")], &[(sample_name, &data)]);
    let ctype = format!("multipart/form-data; boundary={BOUNDARY}");
    let headers = [
        ("Content-Type", ctype.as_str()),
        ("Authorization", uploader.as_str()),
    ];
    let r = s.post("/view", &headers, &body).ok();
    let v = r.json();
    assert_eq!(v["count"], 1, "{v}");
    assert_eq!(v["view"], "built", "{v}");
    let hosts = db.scalar("SELECT count(DISTINCT addr) FROM scan_host");
    assert!(hosts > 0);
    assert_eq!(db.scalar("SELECT count(*) FROM view_host"), hosts);
    assert_eq!(db.scalar("SELECT count(*) FROM view_pending"), 0);
    let r = s
        .request("GET", "/view/count", &[], &[("Authorization", &uploader)])
        .ok();
    assert_eq!(r.body, format!("{hosts}\n"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM web_audit WHERE event = 'upload' AND path = '/cgi/view'"),
        1
    );
    // Gated like POST /scans.
    let reader = key(&db, "reader", "read");
    let r = s.post(
        "/view",
        &[
            ("Content-Type", ctype.as_str()),
            ("Authorization", reader.as_str()),
        ],
        &body,
    );
    assert_eq!(r.status, 403);
    let closed = Server::start(&db, &["--auth"]);
    assert_eq!(closed.post("/view", &headers, &body).status, 403);
}

#[test]
fn read_sessions_cannot_write() {
    let db = TestDb::new();
    load_records(&db, &golden_records()[..20]);
    // The sessions of the read routes: PostgreSQL refuses any write.
    let target = ivre_pg::DbTarget::resolve(Some(&db.url)).unwrap();
    let pool = ivre_web::pool::Pool::reader(target.clone(), 1, std::time::Duration::from_secs(5));
    assert!(pool.read_only());
    let mut c = pool.session().unwrap();
    let on: String = c
        .query_one("SHOW transaction_read_only", &[])
        .unwrap()
        .get(0);
    assert_eq!(on, "on");
    for sql in [
        "INSERT INTO web_audit (event) VALUES ('upload')",
        "DELETE FROM scan_host",
        "CREATE TABLE intruder (x int)",
        "UPDATE web_api_key SET revoked_at = NULL",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        assert_eq!(
            e.code(),
            Some(&postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION),
            "{sql}: {e}"
        );
    }
    // The writer's (uploads, audit) may.
    let mut w = ivre_web::pool::Pool::writer(target, 1, std::time::Duration::ZERO)
        .session()
        .unwrap();
    let off: String = w
        .query_one("SHOW transaction_read_only", &[])
        .unwrap()
        .get(0);
    assert_eq!(off, "off");
    // Crafted paths and filters reach no SQL text: the records stay.
    let s = Server::start(&db, &[]);
    for path in [
        "/scans/top/x'; DELETE FROM scan_host; --",
        "/scans/distinct/addr); DELETE FROM scan_host; --",
        "/view/top/service;DROP TABLE scan_host",
    ] {
        let r = s.get(path, &[]);
        assert!(r.status < 500, "{path}: {} {}", r.status, r.body);
    }
    let r = s.get(
        "/scans/count",
        &[("q", "\"hostname:x'; DELETE FROM scan_host; --\"")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(db.scalar("SELECT count(*) FROM scan_host"), 20);
}

#[test]
fn flows_cleanup_is_gated_audited_and_a_no_op() {
    let db = TestDb::new();
    let s = Server::start(&db, &["--auth", "--upload"]);
    let uploader = key(&db, "flow-uploader", "upload");
    let reader = key(&db, "flow-reader", "read");
    let post = |s: &Server, k: &str, path: &str| s.post(path, &[("Authorization", k)], b"");
    let r = post(&s, &uploader, "/flows/cleanup").ok();
    assert_eq!(r.json(), serde_json::json!({"status": "ok"}));
    assert_eq!(post(&s, &reader, "/flows/cleanup").status, 403);
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM web_audit WHERE event = 'upload' AND path = '/cgi/flows/cleanup'"
        ),
        1
    );
    let r = post(&s, &uploader, "/flows");
    assert_eq!(r.status, 501);
    assert!(r.json()["error"].as_str().unwrap().contains("ivre-zeek2db"));
    let closed = Server::start(&db, &["--auth"]);
    assert_eq!(post(&closed, &uploader, "/flows/cleanup").status, 403);
}
