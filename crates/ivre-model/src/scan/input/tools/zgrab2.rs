//! Zgrab2 NDJSON: `{"ip"|"domain", "data": {module: {status, protocol,
//! result, timestamp, error}}}` (spec scans.md §2.6).
//!
//! The address is `ip`, or `domain` when it is an IP literal; a record with
//! neither is skipped (Zgrab2 writes one for every target it could not
//! resolve). A `domain` that is a name becomes a `user` hostname.
//! `starttime`/`endtime` are the earliest and latest module timestamps.
//!
//! Each module is read according to its `protocol` (the module name may be a
//! custom label): `http` (port from the request URL, headers, title, body,
//! body hash, redirects, TLS certificates), `tls`, `jarm`, `ssh` (banner,
//! algorithms with HASSH, host key), `ftp`, `smtp`, `pop3`, `imap`,
//! `telnet` (banners, SMTP EHLO), `mysql`, `postgres`, `redis`,
//! `memcached`, `ntp` (service and an info script). The certificates of a
//! TLS handshake (direct or STARTTLS) become `ssl-cert` (the server
//! certificate) and `ssl-cacert` (the chain), parsed as Nmap's are. Any
//! other module is kept whole as a host script `zgrab2-<name>`. Modules
//! without a result (failed connections) are skipped; a record left with no
//! port is skipped.
//!
//! Zgrab2 writes no port outside URLs: the protocol's usual port is used,
//! or `--zgrab-port` when given.

use super::*;
use base64::Engine;
use serde_json::json;

pub(super) fn hosts(obj: &Map<String, Value>, opts: &ToolOptions) -> Result<Vec<Host>, String> {
    let domain = opt_str(obj, "domain")?;
    let addr = match opt_str(obj, "ip")? {
        Some(ip) => ip_literal(ip).ok_or_else(|| format!("invalid address {ip:?}"))?,
        None => match domain.and_then(ip_literal) {
            Some(a) => a,
            None => return Ok(Vec::new()),
        },
    };
    let Some(data) = obj.get("data") else {
        return Ok(Vec::new());
    };
    let data = data.as_object().ok_or("\"data\" is not an object")?;
    let mut host = new_host(addr, None);
    if let Some(d) = domain.filter(|d| ip_literal(d).is_none()) {
        host.add_hostname(d, "user");
    }
    for (name, module) in data {
        let module = module
            .as_object()
            .ok_or_else(|| format!("module {name:?} is not an object"))?;
        if let Some(t) = module.get("timestamp").and_then(parse_time) {
            host.starttime = Some(host.starttime.map_or(t, |s| s.min(t)));
            host.endtime = Some(host.endtime.map_or(t, |e| e.max(t)));
        }
        let Some(result) = module.get("result").and_then(Value::as_object) else {
            continue;
        };
        let protocol = get_str(module, "protocol").unwrap_or(name);
        let port = |default: u16| i64::from(opts.zgrab_port.unwrap_or(default));
        match protocol {
            "http" => http(&mut host, result, opts),
            "tls" => {
                let p = port(443);
                set_service(&mut host, "tcp", p, "ssl", true);
                let log = result.get("handshake_log").and_then(Value::as_object);
                if let Some(log) = log.or(Some(result)) {
                    certificates(&mut host, p, log);
                }
            }
            "jarm" => {
                if let Some(fp) = get_str(result, "fingerprint") {
                    if !fp.is_empty() && fp.bytes().any(|b| b != b'0') {
                        let p = port(443);
                        set_service(&mut host, "tcp", p, "ssl", true);
                        add_script(&mut host, "tcp", p, script("ssl-jarm", fp, None));
                    }
                }
            }
            "ssh" => ssh(&mut host, port(22), result),
            "ftp" => banner_module(&mut host, port(21), "ftp", result),
            "smtp" => banner_module(&mut host, port(25), "smtp", result),
            "pop3" => banner_module(&mut host, port(110), "pop3", result),
            "imap" => banner_module(&mut host, port(143), "imap", result),
            "telnet" => banner_module(&mut host, port(23), "telnet", result),
            "mysql" => mysql(&mut host, port(3306), result),
            "postgres" => info_module(
                &mut host,
                ("tcp", port(5432)),
                "postgresql",
                "pgsql-info",
                result,
            ),
            "redis" => info_module(
                &mut host,
                ("tcp", port(6379)),
                "redis",
                "redis-info",
                result,
            ),
            "memcached" => info_module(
                &mut host,
                ("tcp", port(11211)),
                "memcached",
                "memcached-info",
                result,
            ),
            "ntp" => info_module(&mut host, ("udp", port(123)), "ntp", "ntp-info", result),
            _ => {
                let whole = Value::Object(module.clone());
                add_script(
                    &mut host,
                    "",
                    -1,
                    script(&format!("zgrab2-{name}"), whole.to_string(), Some(whole)),
                );
            }
        }
    }
    if host.ports.as_ref().is_none_or(Vec::is_empty) {
        return Ok(Vec::new());
    }
    Ok(vec![finish(host)])
}

/// The DER certificates of a TLS handshake log: the server certificate,
/// then the chain.
fn handshake_certs(log: &Map<String, Value>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let b64 = |v: &Value| {
        v.get("raw")
            .and_then(Value::as_str)
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
    };
    let Some(certs) = log.get("server_certificates") else {
        return (Vec::new(), Vec::new());
    };
    let leaf = certs.get("certificate").and_then(b64).into_iter().collect();
    let chain = certs
        .get("chain")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(b64)
        .collect();
    (leaf, chain)
}

/// `ssl-cert` and `ssl-cacert` from a handshake log.
fn certificates(host: &mut Host, port: i64, log: &Map<String, Value>) {
    let (leaf, chain) = handshake_certs(log);
    let mut fx = Effects::default();
    for (id, ders) in [("ssl-cert", leaf), ("ssl-cacert", chain)] {
        if ders.is_empty() {
            continue;
        }
        let s = crate::scan::scripts::ssl_cert_script(id, &ders, &mut fx);
        if s.data
            .as_ref()
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            port_mut(host, "tcp", port)
                .scripts
                .get_or_insert_with(Vec::new)
                .push(s);
        }
    }
    apply_effects(host, fx);
}

/// A STARTTLS handshake inside a module result (`tls` or `tls_log`).
fn starttls(host: &mut Host, port: i64, result: &Map<String, Value>) {
    for key in ["tls", "tls_log"] {
        if let Some(log) = result
            .get(key)
            .and_then(|t| t.get("handshake_log"))
            .and_then(Value::as_object)
        {
            certificates(host, port, log);
        }
    }
}

fn http(host: &mut Host, result: &Map<String, Value>, opts: &ToolOptions) {
    let Some(resp) = result.get("response").and_then(Value::as_object) else {
        return;
    };
    let request = resp.get("request").and_then(Value::as_object);
    let url = request
        .and_then(|r| r.get("url"))
        .and_then(Value::as_object);
    let tls_log = request
        .and_then(|r| r.get("tls_log"))
        .and_then(|t| t.get("handshake_log"))
        .and_then(Value::as_object);
    let scheme = url.and_then(|u| get_str(u, "scheme")).unwrap_or("");
    let tls = scheme == "https" || tls_log.is_some();
    let url_port = url
        .and_then(|u| get_str(u, "host"))
        .and_then(|h| Url::parse(h).and_then(|u| u.port));
    let port = i64::from(
        url_port
            .or(opts.zgrab_port)
            .unwrap_or(if tls { 443 } else { 80 }),
    );
    let path = url.and_then(|u| get_str(u, "path")).unwrap_or("/");
    set_service(host, "tcp", port, "http", tls);
    if let Some(log) = tls_log {
        certificates(host, port, log);
    }
    if !(path.is_empty() || path == "/") {
        // IVRE reads only a few special paths; the rest is not the site's root
        if path == "/.well-known/security.txt" {
            if let Some(body) = get_str(resp, "body") {
                security_txt(host, port, body);
            }
        }
        return;
    }
    headers(host, port, resp);
    if let Some(body) = get_str(resp, "body") {
        add_body_scripts(host, port, body, get_str(resp, "body_sha256"));
    }
    if let Some(chain) = result
        .get("redirect_response_chain")
        .and_then(Value::as_array)
    {
        redirects(host, port, chain);
    }
}

/// The status line of a Zgrab2 response: `HTTP/1.1 200 OK`.
fn status_line(resp: &Map<String, Value>) -> String {
    let proto = resp
        .get("protocol")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("HTTP/1.1");
    match get_str(resp, "status_line") {
        Some(s) => format!("{proto} {s}"),
        None => match resp.get("status_code").and_then(Value::as_i64) {
            Some(c) => format!("{proto} {c}"),
            None => proto.to_string(),
        },
    }
}

/// `http-headers` (and `http-server-header`) from the raw headers, or from
/// Zgrab2's parsed map (`content_type: [..]`, `unknown: [{key, value}]`).
fn headers(host: &mut Host, port: i64, resp: &Map<String, Value>) {
    let status = status_line(resp);
    let mut list = vec![json!({"name": "_status", "value": status})];
    let mut lines = vec![status.clone()];
    if let Some(raw) = get_str(resp, "headers_raw") {
        let parsed = crate::scan::scripts::parse_headers_raw(raw.as_bytes());
        list = parsed;
        if list.first().is_none_or(|h| h["name"] != "_status") {
            list.insert(0, json!({"name": "_status", "value": status}));
        }
        lines = raw.lines().map(str::to_string).collect();
    } else if let Some(h) = resp.get("headers").and_then(Value::as_object) {
        let mut push = |name: &str, values: &Value| {
            let name = name.replace('_', "-").to_ascii_lowercase();
            for v in values.as_array().into_iter().flatten() {
                if let Some(v) = v.as_str() {
                    lines.push(format!("{name}: {v}"));
                    list.push(json!({"name": name, "value": v}));
                }
            }
        };
        for (k, v) in h {
            if k == "unknown" {
                for u in v.as_array().into_iter().flatten() {
                    if let (Some(name), Some(values)) =
                        (u.get("key").and_then(Value::as_str), u.get("value"))
                    {
                        push(name, values);
                    }
                }
            } else {
                push(k, v);
            }
        }
    }
    if list.len() <= 1 {
        return;
    }
    let servers: Vec<Value> = list
        .iter()
        .filter(|h| h["name"] == "server")
        .map(|h| h["value"].clone())
        .collect();
    add_script(
        host,
        "tcp",
        port,
        script("http-headers", lines.join("\n"), Some(Value::Array(list))),
    );
    if !servers.is_empty() {
        let out: Vec<&str> = servers.iter().filter_map(Value::as_str).collect();
        add_script(
            host,
            "tcp",
            port,
            script(
                "http-server-header",
                out.join("\n"),
                Some(Value::Array(servers.clone())),
            ),
        );
    }
}

/// `http-redirects`: the responses Zgrab2 followed before the last one.
fn redirects(host: &mut Host, port: i64, chain: &[Value]) {
    let mut out = Vec::new();
    let mut data = Vec::new();
    for r in chain.iter().filter_map(Value::as_object) {
        let location = r
            .get("headers")
            .and_then(|h| h.get("location"))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str);
        let status = status_line(r);
        out.push(match location {
            Some(l) => format!("{status} -> {l}"),
            None => status.clone(),
        });
        let mut entry = json!({"status": status});
        if let Some(l) = location {
            entry["location"] = json!(l);
        }
        data.push(entry);
    }
    if !data.is_empty() {
        add_script(
            host,
            "tcp",
            port,
            script("http-redirects", out.join("\n"), Some(Value::Array(data))),
        );
    }
}

/// `http-securitytxt`: `{lower-case field: "v1 / v2"}`.
fn security_txt(host: &mut Host, port: i64, body: &str) {
    let mut fields: Map<String, Value> = Map::new();
    for line in body.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k.is_empty() || k.contains(' ') {
                continue;
            }
            let v = v.trim();
            match fields.get_mut(&k) {
                Some(Value::String(old)) => {
                    old.push_str(" / ");
                    old.push_str(v);
                }
                _ => {
                    fields.insert(k, json!(v));
                }
            }
        }
    }
    if !fields.is_empty() {
        let out = fields
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n");
        add_script(
            host,
            "tcp",
            port,
            script("http-securitytxt", out, Some(Value::Object(fields))),
        );
    }
}

fn ssh(host: &mut Host, port: i64, result: &Map<String, Value>) {
    set_service(host, "tcp", port, "ssh", false);
    if let Some(raw) = result
        .get("server_id")
        .and_then(|s| s.get("raw"))
        .and_then(Value::as_str)
    {
        add_script(host, "tcp", port, script("banner", raw.trim_end(), None));
    }
    if let Some(kex) = result.get("server_key_exchange").and_then(Value::as_object) {
        let mut algos = Map::new();
        let mut out = String::new();
        for (nmap, zgrab) in [
            ("kex_algorithms", "kex_algorithms"),
            ("server_host_key_algorithms", "host_key_algorithms"),
            ("encryption_algorithms", "server_to_client_ciphers"),
            ("mac_algorithms", "server_to_client_macs"),
            ("compression_algorithms", "server_to_client_compression"),
        ] {
            let list: Vec<Value> = kex
                .get(zgrab)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|v| v.is_string())
                .cloned()
                .collect();
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!("\n  {nmap}: ({})", list.len()));
            for a in &list {
                out.push_str(&format!("\n      {}", a.as_str().unwrap_or_default()));
            }
            algos.insert(nmap.into(), Value::Array(list));
        }
        if !algos.is_empty() {
            add_script(
                host,
                "tcp",
                port,
                script("ssh2-enum-algos", out, Some(Value::Object(algos))),
            );
        }
    }
    if let Some(key) = result
        .get("key_exchange")
        .and_then(|k| k.get("server_host_key"))
        .and_then(Value::as_object)
    {
        hostkey(host, port, key);
    }
}

/// `ssh-hostkey` from Zgrab2's `server_host_key`: Nmap's shape, with the
/// MD5 fingerprint of the key blob.
fn hostkey(host: &mut Host, port: i64, key: &Map<String, Value>) {
    use md5::Digest;
    let Some(raw) = get_str(key, "raw") else {
        return;
    };
    let Ok(blob) = base64::engine::general_purpose::STANDARD.decode(raw) else {
        return;
    };
    let kind = get_str(key, "algorithm").unwrap_or("unknown");
    let bits = ["rsa_public_key", "ecdsa_public_key", "dsa_public_key"]
        .iter()
        .find_map(|k| {
            key.get(*k)
                .and_then(|v| v.get("length"))
                .and_then(Value::as_i64)
        })
        .or_else(|| key.contains_key("ed25519_public_key").then_some(256))
        .unwrap_or(if kind == "ssh-ed25519" { 256 } else { 0 });
    let fp = hex::encode(md5::Md5::digest(&blob));
    let colons = fp
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":");
    let label = match kind {
        "ssh-rsa" => "RSA".to_string(),
        "ssh-dss" => "DSA".to_string(),
        "ssh-ed25519" => "ED25519".to_string(),
        k if k.starts_with("ecdsa-") => "ECDSA".to_string(),
        k => k.to_string(),
    };
    let data = json!([{"type": kind, "bits": bits, "fingerprint": fp, "key": raw}]);
    add_script(
        host,
        "tcp",
        port,
        script(
            "ssh-hostkey",
            format!("\n  {bits} {colons} ({label})"),
            Some(data),
        ),
    );
}

/// The modules that give a banner: `banner` (the first line), plus
/// `smtp-commands` from SMTP's EHLO answer.
fn banner_module(host: &mut Host, port: i64, service: &str, result: &Map<String, Value>) {
    set_service(host, "tcp", port, service, false);
    if let Some(banner) = get_str(result, "banner") {
        let b = banner.trim_end();
        if !b.is_empty() {
            add_script(host, "tcp", port, script("banner", b, None));
        }
    }
    if let Some(ehlo) = get_str(result, "ehlo") {
        let items: Vec<&str> = ehlo
            .lines()
            .map(|l| l.trim())
            .filter(|l| l.len() > 4)
            .map(|l| l[4..].trim())
            .filter(|l| !l.is_empty())
            .collect();
        if !items.is_empty() {
            add_script(
                host,
                "tcp",
                port,
                script("smtp-commands", items.join(", "), None),
            );
        }
    }
    starttls(host, port, result);
}

/// MySQL's greeting: service and version, `mysql-info` as Nmap's.
fn mysql(host: &mut Host, port: i64, result: &Map<String, Value>) {
    set_service(host, "tcp", port, "mysql", false);
    let version = get_str(result, "server_version");
    if let Some(v) = version {
        let p = port_mut(host, "tcp", port);
        p.service_product = Some("MySQL".into());
        p.service_version = Some(v.to_string());
    }
    let mut data = Map::new();
    let mut out = Vec::new();
    if let Some(p) = result.get("protocol_version").and_then(Value::as_i64) {
        out.push(format!("Protocol: {p}"));
        data.insert("Protocol".into(), json!(p));
    }
    if let Some(v) = version {
        out.push(format!("Version: {v}"));
        data.insert("Version".into(), json!(v));
    }
    if let Some(id) = result.get("connection_id").and_then(Value::as_i64) {
        out.push(format!("Thread ID: {id}"));
        data.insert("Thread ID".into(), json!(id));
    }
    let flags = |k: &str| -> Vec<String> {
        result
            .get(k)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.as_bool() == Some(true))
            .map(|(k, _)| k.clone())
            .collect()
    };
    let caps = flags("capability_flags");
    if !caps.is_empty() {
        out.push(format!("Some Capabilities: {}", caps.join(", ")));
        data.insert("Some Capabilities".into(), json!(caps));
    }
    let status = flags("status_flags");
    if !status.is_empty() {
        out.push(format!("Status: {}", status.join(", ")));
        data.insert("Status".into(), json!(status.join(", ")));
    }
    if let Some(a) = get_str(result, "auth_plugin_name") {
        out.push(format!("Auth Plugin Name: {a}"));
        data.insert("Auth Plugin Name".into(), json!(a));
    }
    if !data.is_empty() {
        add_script(
            host,
            "tcp",
            port,
            script("mysql-info", out.join("\n"), Some(Value::Object(data))),
        );
    }
    starttls(host, port, result);
}

/// A service module kept as an info script: the scalar members of the
/// result (TLS logs and raw packets aside), one `key: value` line each.
fn info_module(
    host: &mut Host,
    (proto, port): (&str, i64),
    service: &str,
    id: &str,
    result: &Map<String, Value>,
) {
    set_service(host, proto, port, service, false);
    let mut data = Map::new();
    let mut out = Vec::new();
    for (k, v) in result {
        if matches!(
            k.as_str(),
            "tls" | "tls_log" | "raw_packets" | "info_response"
        ) {
            continue;
        }
        match v {
            Value::String(s) => out.push(format!("{k}: {}", s.trim_end())),
            Value::Number(n) => out.push(format!("{k}: {n}")),
            Value::Bool(b) => out.push(format!("{k}: {b}")),
            Value::Null => continue,
            _ => {}
        }
        data.insert(k.clone(), v.clone());
    }
    if service == "redis" {
        if let Some(v) = get_str(result, "version") {
            let p = port_mut(host, proto, port);
            p.service_product = Some("Redis key-value store".into());
            p.service_version = Some(v.to_string());
        }
    }
    if !data.is_empty() {
        add_script(
            host,
            proto,
            port,
            script(id, out.join("\n"), Some(Value::Object(data))),
        );
    }
    starttls(host, port, result);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Host {
        let Value::Object(o) = serde_json::from_str(line).unwrap() else {
            panic!()
        };
        let mut h = hosts(&o, &ToolOptions::default()).unwrap();
        assert_eq!(h.len(), 1);
        h.remove(0)
    }

    #[test]
    fn jarm_and_unknown_module() {
        let h = one(
            r#"{"ip":"192.0.2.1","data":{"jarm":{"status":"success","protocol":"jarm","result":{"fingerprint":"29d29d00029d29d00042d43d00041d5de67cc9954cc85372523050f20b5007"},"timestamp":"2024-01-01T00:00:00Z"},"x":{"status":"success","result":{"a":1}}}}"#,
        );
        let ports = h.ports.as_ref().unwrap();
        let jarm = ports.iter().find(|p| p.port == 443).unwrap();
        let s = &jarm.scripts.as_ref().unwrap()[0];
        assert_eq!(s.id, "ssl-jarm");
        assert_eq!(s.data.as_ref().unwrap().as_str().unwrap().len(), 62);
        let hs = ports.iter().find(|p| p.port == -1).unwrap();
        let s = &hs.scripts.as_ref().unwrap()[0];
        assert_eq!(s.id, "zgrab2-x");
        assert_eq!(s.data.as_ref().unwrap()["result"]["a"], 1);
    }

    #[test]
    fn skipped_and_bad() {
        let o = |s: &str| -> Map<String, Value> { serde_json::from_str(s).unwrap() };
        let opts = ToolOptions::default();
        assert!(hosts(&o(r#"{"domain":"target","data":{}}"#), &opts)
            .unwrap()
            .is_empty());
        assert!(hosts(
            &o(r#"{"ip":"192.0.2.1","data":{"ftp":{"status":"connection-timeout","error":"x"}}}"#),
            &opts
        )
        .unwrap()
        .is_empty());
        assert!(hosts(&o(r#"{"ip":"nope","data":{}}"#), &opts).is_err());
        assert!(hosts(&o(r#"{"ip":"192.0.2.1","data":[]}"#), &opts).is_err());
        assert!(hosts(&o(r#"{"ip":"192.0.2.1","data":{"a":1}}"#), &opts).is_err());
        // odd shapes inside modules are ignored, not fatal
        let h = hosts(
            &o(r#"{"ip":"[2001:db8::1]","data":{"http":{"result":{"response":{"request":{"url":{"host":"x:notaport"}},"headers":[1],"body":5}}},"ssh":{"result":{"server_key_exchange":{"kex_algorithms":[1]},"key_exchange":{"server_host_key":{"raw":"!!"}}}}}}"#),
            &opts,
        )
        .unwrap();
        assert_eq!(h[0].addr, "2001:db8::1");
    }
}
