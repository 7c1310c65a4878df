//! Access control of `ivre-httpd`: API keys (created and revoked with
//! `ivre-httpd keys`), 401 without or with a wrong key, 403 without the
//! permission, base filters ANDed to every query of every purpose (a key
//! never sees records outside its filter), the audit log.

use crate::common::*;
use crate::web::{db, Server};
use std::process;

/// A key name no other test uses.
fn name(what: &str) -> String {
    format!("{what}-{}", process::id())
}

fn add_key(name: &str, perm: &str, filter: Option<&str>) -> String {
    let mut args = vec!["keys", "add", name, "--perm", perm];
    if let Some(f) = filter {
        args.extend(["--filter", f]);
    }
    let out = tool("ivre-httpd", db(), &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out).trim().to_string();
    assert!(key.starts_with("ivre_") && key.len() == 48, "{key:?}");
    key
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

fn count_with(s: &Server, path: &str, key: &str, q: &str) -> i64 {
    let r = s
        .request("GET", path, &[("q", q)], &[("Authorization", &bearer(key))])
        .ok();
    r.body.trim().parse().unwrap()
}

#[test]
fn keys_required_401_then_valid_then_revoked() {
    let s = Server::start(db(), &["--auth", "--key-cache", "0"]);
    let r = s.get("/scans/count", &[]);
    assert_eq!(r.status, 401);
    assert!(r.json()["error"].as_str().unwrap().contains("API key"));
    // /config stays public (the UIs load it before anything else).
    assert_eq!(s.get("/config", &[]).status, 200);
    let wrong = "ivre_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let r = s.request(
        "GET",
        "/scans/count",
        &[],
        &[("Authorization", &bearer(wrong))],
    );
    assert_eq!(r.status, 401);
    let n = name("reader");
    let key = add_key(&n, "read", None);
    assert_eq!(count_with(&s, "/scans/count", &key, ""), 945);
    assert_eq!(count_with(&s, "/scans/count", &key, "service:http"), 445);
    let r = s
        .request("GET", "/scans/count", &[], &[("X-API-Key", &key)])
        .ok();
    assert_eq!(r.body, "945\n");
    // A key that differs in its secret part only is refused.
    let mut forged = key.clone();
    let last = if forged.ends_with('A') { "B" } else { "A" };
    forged.replace_range(forged.len() - 1.., last);
    let r = s.request(
        "GET",
        "/scans/count",
        &[],
        &[("Authorization", &bearer(&forged))],
    );
    assert_eq!(r.status, 401);
    let out = tool("ivre-httpd", db(), &["keys", "revoke", &n], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = s.request(
        "GET",
        "/scans/count",
        &[],
        &[("Authorization", &bearer(&key))],
    );
    assert_eq!(r.status, 401);
    let out = tool("ivre-httpd", db(), &["keys", "list"], None);
    let line = stdout(&out)
        .lines()
        .find(|l| l.starts_with(&format!("{n}\t")))
        .map(str::to_string)
        .unwrap();
    assert!(line.contains("revoked"), "{line}");
    assert!(line.contains(&key[..12]) && !line.contains(&key), "{line}");
    // The refusals are in the audit log, and the key changes.
    let refused = db().scalar(
        "SELECT count(*) FROM web_audit WHERE event = 'refused' AND status = 401 \
         AND path = '/cgi/scans/count'",
    );
    assert!(refused >= 3, "{refused}");
    let changes = db().scalar(&format!(
        "SELECT count(*) FROM web_audit WHERE key_name = '{n}' AND event IN ('key_add', 'key_revoke')"
    ));
    assert_eq!(changes, 2);
    // Append-only.
    let mut c = db().client();
    assert!(c.execute("UPDATE web_audit SET status = 0", &[]).is_err());
    assert!(c.execute("DELETE FROM web_audit", &[]).is_err());
    assert!(c.batch_execute("TRUNCATE web_audit").is_err());
    // The key is stored hashed only.
    let stored = db().scalar(&format!(
        "SELECT count(*) FROM web_api_key WHERE name = '{n}' AND key_hash LIKE '$argon2id$%' \
         AND strpos(key_hash, '{}') = 0",
        &key[5..]
    ));
    assert_eq!(stored, 1);
}

#[test]
fn base_filters_apply_to_every_query_of_every_purpose() {
    let s = Server::start(db(), &["--auth"]);
    let port80 = add_key(&name("port80"), "read", Some("80"));
    let other = add_key(&name("other"), "read", Some("category:OTHER"));
    assert_eq!(count_with(&s, "/scans/count", &port80, ""), 299);
    assert_eq!(count_with(&s, "/scans/count", &port80, "!80"), 0);
    assert_eq!(count_with(&s, "/scans/count", &port80, "service:http"), {
        count_with(&s, "/scans/count", &port80, "80 service:http")
    });
    assert_eq!(count_with(&s, "/scans/count", &other, ""), 0);
    let auth = [("Authorization", bearer(&port80))];
    let h: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ips = s.request("GET", "/scans/onlyips", &[], &h).ok().json();
    assert_eq!(ips.as_array().unwrap().len(), 299);
    let recs = s
        .request("GET", "/scans", &[("q", "limit:0 fields:ports.port")], &h)
        .ok()
        .json();
    let recs = recs.as_array().unwrap();
    assert_eq!(recs.len(), 299);
    for r in recs {
        assert!(r["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["port"] == 80));
    }
    let top: i64 = s.request("GET", "/scans/top/category", &[], &h).ok().json()[0]["value"]
        .as_i64()
        .unwrap();
    assert_eq!(top, 299);
    // Passive: "80" is the server port there.
    let passive80 = db().scalar("SELECT count(*) FROM passive WHERE port = 80");
    assert_eq!(count_with(&s, "/passive/count", &port80, ""), passive80);
    // category: is the sensor of passive records: none is OTHER.
    assert_eq!(count_with(&s, "/passive/count", &other, ""), 0);
    let (dns_name,): (String,) = {
        let row = db()
            .client()
            .query_one(
                "SELECT value FROM passive WHERE recontype = 'DNS_ANSWER' LIMIT 1",
                &[],
            )
            .unwrap();
        (row.get(0),)
    };
    let oh = [("Authorization", bearer(&other))];
    let oh: Vec<(&str, &str)> = oh.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s
        .request("GET", &format!("/passivedns/{dns_name}"), &[], &oh)
        .ok();
    assert_eq!(r.body, "", "passive DNS obeys the base filter");
    let r = s
        .request("GET", "/scans/distinct/addr", &[("q", "limit:0")], &oh)
        .ok();
    assert_eq!(r.json(), serde_json::json!([]));
    // A host filter cannot narrow flows: refused, not ignored as in IVRE.
    let r = s.request("GET", "/flows", &[("q", r#"{"count": true}"#)], &oh);
    assert_eq!(r.status, 403);
}

#[test]
fn missing_permission_403_and_non_loopback_needs_keys() {
    let s = Server::start(db(), &["--auth"]);
    let uploader = add_key(&name("uploader"), "upload", None);
    let r = s.request(
        "GET",
        "/scans/count",
        &[],
        &[("Authorization", &bearer(&uploader))],
    );
    assert_eq!(r.status, 403);
    assert!(r.json()["error"].as_str().unwrap().contains("read"));
    let refused = db().scalar(&format!(
        "SELECT count(*) FROM web_audit WHERE event = 'refused' AND status = 403 \
         AND key_name = '{}'",
        name("uploader")
    ));
    assert_eq!(refused, 1);
    let admin = add_key(&name("admin"), "admin", None);
    assert_eq!(count_with(&s, "/scans/count", &admin, ""), 945);
    // A bad base filter or permission is refused at creation.
    let out = tool(
        "ivre-httpd",
        db(),
        &["keys", "add", &name("bad"), "--filter", "port:80"],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("port:80"), "{}", stderr(&out));
    let out = tool(
        "ivre-httpd",
        db(),
        &["keys", "add", &name("bad2"), "--perm", "root"],
        None,
    );
    assert!(!out.status.success());
    // Listening beyond loopback turns keys on by default.
    let open = Server::start(db(), &["--bind", "0.0.0.0"]);
    assert_eq!(open.get("/scans/count", &[]).status, 401);
    let local = Server::start(db(), &[]);
    assert_eq!(local.get("/scans/count", &[]).status, 200);
}

#[test]
fn a_revocation_takes_effect_at_once_despite_the_key_cache() {
    // The default cache (30 s) and a longer one: the revocation is heard.
    let s = Server::start(db(), &["--auth", "--key-cache", "600"]);
    let n = name("cached");
    let key = add_key(&n, "read", None);
    assert_eq!(count_with(&s, "/scans/count", &key, ""), 945);
    let status = || {
        s.request(
            "GET",
            "/scans/count",
            &[],
            &[("Authorization", &bearer(&key))],
        )
        .status
    };
    // Cached now: a second request needs no database lookup of the key.
    assert_eq!(status(), 200);
    let out = tool("ivre-httpd", db(), &["keys", "revoke", &n], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let revoked = std::time::Instant::now();
    loop {
        if status() == 401 {
            break;
        }
        assert!(
            revoked.elapsed() < std::time::Duration::from_secs(5),
            "a revoked key is still accepted (cache 600 s)"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_audit_log_for_admin_keys_only() {
    let s = Server::start(db(), &[]);
    let admin = add_key(&name("auditor"), "admin", None);
    let reader = add_key(&name("nosy"), "read", None);
    // A refusal to find in the log.
    let r = s.request(
        "GET",
        "/scans/count",
        &[],
        &[(
            "Authorization",
            "Bearer ivre_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )],
    );
    assert_eq!(r.status, 401);
    assert_eq!(s.get("/audit/", &[]).status, 401);
    let r = s.request(
        "GET",
        "/audit/",
        &[],
        &[("Authorization", &bearer(&reader))],
    );
    assert_eq!(r.status, 403);
    let get = |path: &str, q: &[(&str, &str)]| {
        s.request("GET", path, q, &[("Authorization", &bearer(&admin))])
    };
    let all = get("/audit/count", &[]).ok();
    let total: i64 = all.body.trim().parse().unwrap();
    assert_eq!(total, db().scalar("SELECT count(*) FROM web_audit"));
    let refused: i64 = get(
        "/audit/count",
        &[("event_type", "refused"), ("since", "1h")],
    )
    .ok()
    .body
    .trim()
    .parse()
    .unwrap();
    assert!(refused >= 1);
    let events = get("/audit/", &[("event_type", "refused"), ("limit", "2")])
        .ok()
        .json();
    let events = events.as_array().unwrap();
    assert!(!events.is_empty() && events.len() <= 2);
    let e = &events[0];
    assert_eq!(e["event_type"], "refused");
    assert!(e["created_at"].as_str().unwrap().ends_with('Z'), "{e}");
    assert!(e["resource"]["route"].is_string(), "{e}");
    assert!(e["outcome"].is_i64(), "{e}");
    // Newest first.
    if events.len() == 2 {
        assert!(events[0]["created_at"].as_str() >= events[1]["created_at"].as_str());
    }
    let id = e["event_id"].as_str().unwrap();
    assert_eq!(get(&format!("/audit/{id}"), &[]).ok().json(), *e);
    assert_eq!(get("/audit/999999999", &[]).status, 404);
    assert_eq!(get("/audit/x", &[]).status, 404);
    // Key changes by name; a future window is empty.
    let n = name("auditor");
    let r = get(
        "/audit/count",
        &[("key_name", &n), ("event_type", "key_add")],
    )
    .ok();
    assert_eq!(r.body, "1\n");
    let r = get("/audit/count", &[("since", "2999-01-01T00:00:00Z")]).ok();
    assert_eq!(r.body, "0\n");
    for bad in [
        ("event_type", "login"),
        ("since", "yesterday"),
        ("limit", "x"),
    ] {
        let r = get("/audit/", &[bad]);
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
    }
}
