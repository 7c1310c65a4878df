//! `ivre-httpd read-role` and `--read-role`: the read routes run as a role
//! that may only SELECT, so that PostgreSQL itself refuses a write through
//! the read pool, even from a session that left read-only mode; the writer
//! (audit log, uploads) keeps the server's role.

use crate::common::*;
use crate::web::{db, Server};

/// Drops the role when the test ends (roles are the cluster's).
struct Role(String);

impl Drop for Role {
    fn drop(&mut self) {
        let mut c = db().client();
        let _ = c.batch_execute(&format!(
            "DROP OWNED BY {0}; REVOKE {0} FROM CURRENT_USER; DROP ROLE {0}",
            self.0
        ));
    }
}

#[test]
fn the_read_pool_cannot_write_even_outside_read_only_mode() {
    let role = Role(format!("web_read_{}", std::process::id()));
    let out = tool("ivre-httpd", db(), &["read-role", &role.0], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("created"), "{}", stdout(&out));
    // Again: idempotent.
    let out = tool("ivre-httpd", db(), &["read-role", &role.0], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("updated"), "{}", stdout(&out));
    // A bad name is a usage error (exit 2), before any SQL.
    let out = tool(
        "ivre-httpd",
        db(),
        &["read-role", "x; DROP TABLE scan_host"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // A session set up as the read pool's, then (as a bug might) put back
    // in read-write mode: PostgreSQL refuses every write by privilege.
    let mut c = db().client();
    ivre_pg::web::enter_read_role(&mut c, &role.0).unwrap();
    c.batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        .unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM scan_host", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 945);
    for sql in [
        "INSERT INTO web_audit (event) VALUES ('refused')",
        "UPDATE scan_host SET source = 'x'",
        "DELETE FROM scan_port",
        "INSERT INTO web_api_key (name, owner, key_prefix, key_hash) VALUES ('x', 'x', 'x', 'x')",
        "CREATE TABLE web_evil (x int)",
    ] {
        let e = c.batch_execute(sql).expect_err(sql);
        assert_eq!(
            e.code().map(|c| c.code()),
            Some("42501"),
            "{sql}: {e:?} (not a privilege refusal)"
        );
    }
    // The server reads as the role (keys included), and writes its audit
    // log with its own.
    let s = Server::start(db(), &["--read-role", &role.0, "--auth"]);
    let before = db().scalar("SELECT count(*) FROM web_audit WHERE event = 'refused'");
    assert_eq!(s.get("/scans/count", &[]).status, 401);
    let after = db().scalar("SELECT count(*) FROM web_audit WHERE event = 'refused'");
    assert_eq!(after, before + 1);
    let out = tool(
        "ivre-httpd",
        db(),
        &["keys", "add", &format!("{}-key", role.0), "--perm", "read"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out).trim().to_string();
    let r = s
        .request(
            "GET",
            "/scans/count",
            &[("q", "service:http")],
            &[("Authorization", &format!("Bearer {key}"))],
        )
        .ok();
    assert_eq!(r.body.trim(), "445");
    drop(s);
    // A role that does not exist: the server says so at start.
    let out = tool(
        "ivre-httpd",
        db(),
        &["--read-role", "web_no_such_role", "--port", "0"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("ivre-httpd read-role"),
        "{}",
        stderr(&out)
    );
}
