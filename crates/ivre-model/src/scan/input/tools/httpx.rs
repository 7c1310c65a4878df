//! httpx NDJSON (spec scans.md §2.9), current keys (`raw_header`, `body`,
//! `status_code`, `host_ip`, `tech`) and those of httpx 1 (`response-header`,
//! `response-body`, `status-code`, `host` holding the address).
//!
//! Failed records are skipped. The address is `host_ip` or `host` and must
//! be an IP; the host name of the URL becomes a `user` hostname. The port is
//! `http`, with the ssl tunnel when the scheme is https. `title` gives
//! `http-title`, `webserver` `http-server-header`, `tech` /
//! `technologies` `http-httpx`, the raw header (base64 with `-irrb`)
//! `http-headers`, the body `http-content`, and `tls` the tlsx scripts.

use super::*;
use base64::Engine;
use serde_json::json;

pub(super) fn hosts(obj: &Map<String, Value>) -> Result<Vec<Host>, String> {
    if obj.get("failed").and_then(Value::as_bool) == Some(true) {
        return Ok(Vec::new());
    }
    let Some(addr) = first_str(obj, &["host_ip", "host"]).and_then(ip_literal) else {
        return Ok(Vec::new());
    };
    let url = first_str(obj, &["url", "input"]).and_then(Url::parse);
    let port = match obj.get("port") {
        Some(Value::String(s)) => s.trim().parse::<u16>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        _ => None,
    }
    .or_else(|| url.as_ref().map(Url::port_or_default))
    .unwrap_or(80);
    let port = i64::from(port);
    let tls = get_str(obj, "scheme").map_or_else(
        || url.as_ref().is_some_and(Url::is_tls),
        |s| s.eq_ignore_ascii_case("https"),
    );
    let mut host = new_host(addr, obj.get("timestamp").and_then(parse_time));
    if let Some(u) = &url {
        if ip_literal(&u.host).is_none() {
            host.add_hostname(&u.host, "user");
        }
    }
    set_service(&mut host, "tcp", port, "http", tls);
    if let Some(t) = opt_str(obj, "title")?.filter(|t| !t.is_empty()) {
        add_script(
            &mut host,
            "tcp",
            port,
            script("http-title", t, Some(json!({ "title": t }))),
        );
    }
    if let Some(w) = opt_str(obj, "webserver")?.filter(|w| !w.is_empty()) {
        add_script(
            &mut host,
            "tcp",
            port,
            script("http-server-header", w, Some(json!([w]))),
        );
    }
    let tech: Vec<Value> = ["tech", "technologies"]
        .iter()
        .filter_map(|k| obj.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(|t| match t.split_once(':') {
            Some((n, v)) => json!({"name": n, "version": v}),
            None => json!({ "name": t }),
        })
        .collect();
    if !tech.is_empty() {
        let out = tech
            .iter()
            .map(|t| match t.get("version").and_then(Value::as_str) {
                Some(v) => format!("{} {v}", t["name"].as_str().unwrap_or_default()),
                None => t["name"].as_str().unwrap_or_default().to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        add_script(
            &mut host,
            "tcp",
            port,
            script("http-httpx", out, Some(json!({ "technologies": tech }))),
        );
    }
    if let Some(raw) = first_str(obj, &["raw_header", "response-header", "header"]) {
        let bytes = if raw.starts_with("HTTP/") {
            raw.as_bytes().to_vec()
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(raw.trim())
                .unwrap_or_else(|_| raw.as_bytes().to_vec())
        };
        let headers = crate::scan::scripts::parse_headers_raw(&bytes);
        if !headers.is_empty() {
            let text = String::from_utf8_lossy(&bytes);
            let output = text.trim_end().replace("\r\n", "\n");
            add_script(
                &mut host,
                "tcp",
                port,
                script("http-headers", output, Some(Value::Array(headers))),
            );
        }
    }
    if let Some(body) = first_str(obj, &["body", "response-body", "headless_body"]) {
        let hash = obj
            .get("hash")
            .and_then(|h| h.get("body_sha256"))
            .and_then(Value::as_str)
            .or_else(|| get_str(obj, "body-sha256"));
        if obj.get("title").is_some() {
            // the title is httpx's own
            add_script(
                &mut host,
                "tcp",
                port,
                script(
                    "http-content",
                    body,
                    hash.map(|h| json!({"body_sha256": h})),
                ),
            );
        } else {
            add_body_scripts(&mut host, port, body, hash);
        }
    }
    if let Some(t) = obj.get("tls").and_then(Value::as_object) {
        super::tlsx::add_tls(&mut host, port, t);
    }
    Ok(vec![finish(host)])
}
