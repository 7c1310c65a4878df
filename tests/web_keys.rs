//! API keys over the web API (`/cgi/auth/api-keys`, `/cgi/auth/admin/api-keys`,
//! `/cgi/auth/me`): a key manages the keys of its owner and never makes a
//! key that may do or see more than itself; an admin key manages every
//! key; a revocation takes effect at once, even on a server that cached
//! the key; every change is in the audit log.

use crate::common::*;
use crate::web::{db, Resp, Server};
use serde_json::{json, Value};
use std::process;

fn name(what: &str) -> String {
    format!("{what}-{}", process::id())
}

/// A key made with `ivre-httpd keys add` (owner: `owner`).
pub fn cli_key(name: &str, owner: &str, perm: &str, filter: Option<&str>) -> String {
    let mut args = vec!["keys", "add", name, "--owner", owner, "--perm", perm];
    if let Some(f) = filter {
        args.extend(["--filter", f]);
    }
    let out = tool("ivre-httpd", db(), &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

fn auth(key: &str) -> String {
    format!("Bearer {key}")
}

fn get(s: &Server, path: &str, key: &str) -> Resp {
    s.request("GET", path, &[], &[("Authorization", &auth(key))])
}

fn create(s: &Server, key: &str, body: Value) -> Resp {
    s.post(
        "/auth/api-keys",
        &[
            ("Authorization", &auth(key)),
            ("Content-Type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
}

fn delete(s: &Server, path: &str, key: &str) -> Resp {
    s.request("DELETE", path, &[], &[("Authorization", &auth(key))])
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect()
}

fn scans_count(s: &Server, key: &str) -> Resp {
    get(s, "/scans/count", key)
}

#[test]
fn a_key_manages_its_owners_keys_within_its_own_rights() {
    let s = Server::start(db(), &["--auth", "--key-cache", "600"]);
    let owner = name("alice@example.com");
    let root = cli_key(&name("alice-main"), &owner, "read", Some("80"));
    let other = cli_key(&name("bob-main"), &name("bob@example.com"), "read", None);
    // Without a key: 401; /auth/me names the key.
    assert_eq!(s.get("/auth/api-keys", &[]).status, 401);
    let me = get(&s, "/auth/me", &root).ok().json();
    assert_eq!(me["authenticated"], true);
    assert_eq!(me["email"], owner.as_str());
    assert_eq!(me["is_admin"], false);
    // Create: the secret once, a working key, its owner's, filtered as
    // its maker plus what was asked.
    let r = create(
        &s,
        &root,
        json!({"name": name("alice-laptop"), "base_filter": "service:http"}),
    )
    .ok();
    let made = r.json();
    let new_key = made["key"].as_str().unwrap().to_string();
    assert!(
        new_key.starts_with("ivre_") && new_key.len() == 48,
        "{made}"
    );
    assert_eq!(made["user_email"], owner.as_str());
    assert_eq!(made["base_filter"], "80 service:http");
    let via_new: i64 = scans_count(&s, &new_key).ok().body.trim().parse().unwrap();
    // The maker's filter (80) plus the asked one.
    let via_q = get_q(&s, &root, "service:http");
    assert_eq!(via_new, via_q);
    assert!(via_new > 0 && via_new < 945, "{via_new}");
    // Neither more permissions nor an other owner.
    let r = create(
        &s,
        &root,
        json!({"name": name("alice-up"), "permissions": ["read", "upload"]}),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = create(
        &s,
        &root,
        json!({"name": name("alice-x"), "owner": "mallory"}),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // Bad bodies are 400s naming the fault; a taken name too.
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": name("z"), "permissions": ["root"]}),
        json!({"name": name("z"), "base_filter": "port:80"}),
        json!({"name": name("z"), "colour": "red"}),
        json!({"name": name("alice-laptop")}),
    ] {
        let r = create(&s, &root, body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
    // The list: the owner's keys only, the secret nowhere.
    let list = get(&s, "/auth/api-keys", &root).ok();
    assert!(!list.body.contains(&new_key[5..]) && !list.body.contains("argon2"));
    let list = list.json();
    assert_eq!(names(&list), vec![name("alice-main"), name("alice-laptop")]);
    assert!(list[1]["revoked_at"].is_null());
    assert_eq!(list[1]["key_prefix"], &new_key[..12]);
    // Another owner's key is not found; revoke own: refused at once
    // (the server had it cached), and listed as revoked.
    let bobs = get(&s, "/auth/api-keys", &other).ok().json();
    let bob_id = bobs[0]["key_hash"].as_str().unwrap().to_string();
    assert_eq!(
        delete(&s, &format!("/auth/api-keys/{bob_id}"), &root).status,
        404
    );
    assert_eq!(scans_count(&s, &other).status, 200);
    let id = list[1]["key_hash"].as_str().unwrap();
    delete(&s, &format!("/auth/api-keys/{id}"), &root).ok();
    assert_eq!(scans_count(&s, &new_key).status, 401);
    assert_eq!(
        delete(&s, &format!("/auth/api-keys/{id}"), &root).status,
        404
    );
    let list = get(&s, "/auth/api-keys", &root).ok().json();
    assert!(list[1]["revoked_at"].is_string());
    // The admin routes are the admin's.
    assert_eq!(get(&s, "/auth/admin/api-keys", &root).status, 403);
    assert_eq!(
        delete(&s, &format!("/auth/admin/api-keys/{bob_id}"), &root).status,
        403
    );
    // Audited, with who did it and from where.
    let audited = db().scalar(&format!(
        "SELECT count(*) FROM web_audit WHERE key_name = '{}' AND method IS NOT NULL \
         AND details->>'by' = '{}' AND event IN ('key_add', 'key_revoke')",
        name("alice-laptop"),
        name("alice-main")
    ));
    assert_eq!(audited, 2);
}

fn get_q(s: &Server, key: &str, q: &str) -> i64 {
    s.request(
        "GET",
        "/scans/count",
        &[("q", q)],
        &[("Authorization", &auth(key))],
    )
    .ok()
    .body
    .trim()
    .parse()
    .unwrap()
}

#[test]
fn an_admin_key_manages_every_key_and_a_revocation_reaches_other_servers() {
    let s1 = Server::start(db(), &["--auth", "--key-cache", "600"]);
    let s2 = Server::start(db(), &["--auth", "--key-cache", "600"]);
    let admin = cli_key(&name("root"), &name("root@example.com"), "admin", None);
    let carol = cli_key(&name("carol"), &name("carol@example.com"), "read", None);
    // Both servers cache carol's key.
    assert_eq!(scans_count(&s1, &carol).ok().body.trim(), "945");
    assert_eq!(scans_count(&s2, &carol).ok().body.trim(), "945");
    assert_eq!(get(&s1, "/auth/me", &admin).ok().json()["is_admin"], true);
    let all = get(&s1, "/auth/admin/api-keys", &admin).ok().json();
    let names = names(&all);
    assert!(
        names.contains(&name("carol")) && names.contains(&name("root")),
        "{names:?}"
    );
    // An admin makes a key for someone else, with what it wants.
    let made = create(
        &s1,
        &admin,
        json!({"name": name("dave-up"), "owner": name("dave@example.com"),
               "permissions": ["read", "upload"], "base_filter": "category:X"}),
    )
    .ok()
    .json();
    assert_eq!(made["user_email"], name("dave@example.com").as_str());
    assert_eq!(made["permissions"], json!(["read", "upload"]));
    let dave = made["key"].as_str().unwrap();
    assert_eq!(scans_count(&s2, dave).ok().body.trim(), "0");
    // Revoking carol's key on s1: s2 refuses it at once too.
    let id = all
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name("carol").as_str())
        .unwrap()["key_hash"]
        .as_str()
        .unwrap()
        .to_string();
    delete(&s1, &format!("/auth/admin/api-keys/{id}"), &admin).ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while scans_count(&s2, &carol).status != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "s2 still accepts a revoked key"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(scans_count(&s1, &carol).status, 401);
    assert_eq!(
        delete(&s1, "/auth/admin/api-keys/not-a-number", &admin).status,
        404
    );
    // `keys list` shows owners.
    let out = tool("ivre-httpd", db(), &["keys", "list"], None);
    assert!(stdout(&out)
        .lines()
        .any(|l| l.starts_with(&format!("{}\t", name("dave-up")))
            && l.contains(&format!("owner {}", name("dave@example.com")))));
}
