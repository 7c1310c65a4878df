//! tlsx NDJSON (spec scans.md §2.10), also the `tls` member of httpx.
//!
//! Failed probes (`probe_status: false`) are skipped. The address is `ip`,
//! or `host` when it is an IP; the port (`port`, 443 by default) gets the
//! ssl tunnel. A `certificate` PEM is parsed fully; otherwise a partial
//! certificate is built from `fingerprint_hash`, `subject_dn`, `issuer_dn`,
//! `subject_cn`, `subject_an`, `serial`, `self_signed` and the validity
//! dates. IVRE reads those dates from a key that does not exist (`"fld"`)
//! and never sets them: here `not_before` / `not_after` are set.
//! `jarm_hash` gives `ssl-jarm`; `tls_version`, `cipher` and
//! `tls_connection` give `ssl-tlsx`.

use super::*;
use serde_json::json;

pub(super) fn hosts(obj: &Map<String, Value>) -> Result<Vec<Host>, String> {
    if obj.get("probe_status").and_then(Value::as_bool) == Some(false) {
        return Ok(Vec::new());
    }
    let addr = match opt_str(obj, "ip")?.and_then(ip_literal) {
        Some(a) => a,
        None => match opt_str(obj, "host")?.and_then(ip_literal) {
            Some(a) => a,
            None => return Ok(Vec::new()),
        },
    };
    let port = match obj.get("port") {
        None | Some(Value::Null) => 443,
        Some(Value::String(s)) => s
            .trim()
            .parse::<u16>()
            .map_err(|_| format!("invalid port {s:?}"))?,
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| format!("invalid port {n}"))?,
        Some(_) => return Err("\"port\" is not a number".into()),
    };
    let mut host = new_host(addr, obj.get("timestamp").and_then(parse_time));
    add_tls(&mut host, i64::from(port), obj);
    Ok(vec![finish(host)])
}

/// The scripts of one tlsx result on `port` (tlsx records and httpx `tls`).
pub(super) fn add_tls(host: &mut Host, port: i64, obj: &Map<String, Value>) {
    set_service(host, "tcp", port, "ssl", true);
    let mut fx = Effects::default();
    let cert_script = match get_str(obj, "certificate") {
        Some(pem) => {
            let ders = crate::scan::scripts::pem_blocks(pem);
            Some(crate::scan::scripts::ssl_cert_script(
                "ssl-cert", &ders, &mut fx,
            ))
        }
        None => partial_cert(obj, &mut fx),
    };
    if let Some(s) = cert_script.filter(|s| {
        s.data
            .as_ref()
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    }) {
        port_mut(host, "tcp", port)
            .scripts
            .get_or_insert_with(Vec::new)
            .push(s);
    }
    apply_effects(host, fx);
    if let Some(j) = get_str(obj, "jarm_hash").filter(|j| j.bytes().any(|b| b != b'0')) {
        add_script(host, "tcp", port, script("ssl-jarm", j, None));
    }
    let mut tlsx = Map::new();
    let mut out = Vec::new();
    for key in ["tls_version", "cipher", "tls_connection"] {
        if let Some(v) = get_str(obj, key) {
            out.push(format!("{key}: {v}"));
            tlsx.insert(key.into(), json!(v));
        }
    }
    if !tlsx.is_empty() {
        add_script(
            host,
            "tcp",
            port,
            script("ssl-tlsx", out.join("\n"), Some(Value::Object(tlsx))),
        );
    }
}

/// `CN=a, O=b` → `commonName=a/organizationName=b` and the matching object.
fn dn(text: &str) -> (String, Map<String, Value>) {
    let mut parts = Vec::new();
    let mut obj = Map::new();
    let mut cur = String::new();
    let mut escaped = false;
    let mut items = Vec::new();
    for c in text.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            ',' if !escaped => items.push(std::mem::take(&mut cur)),
            _ => {
                escaped = false;
                cur.push(c);
            }
        }
    }
    items.push(cur);
    for item in items {
        let Some((k, v)) = item.trim().split_once('=') else {
            continue;
        };
        let k = match k.trim() {
            "CN" => "commonName",
            "O" => "organizationName",
            "OU" => "organizationalUnitName",
            "C" => "countryName",
            "ST" => "stateOrProvinceName",
            "L" => "localityName",
            "E" | "emailAddress" => "emailAddress",
            other => other,
        };
        let v = v.trim();
        parts.push(format!("{k}={v}"));
        obj.entry(k.to_string()).or_insert_with(|| json!(v));
    }
    (parts.join("/"), obj)
}

/// `EB:1B:6F` or `eb1b6f` → the decimal string, when it is hexadecimal.
fn serial_decimal(s: &str) -> String {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return s.to_string();
    }
    // long division by 10 on the hexadecimal digits
    let mut digits: Vec<u32> = hex.chars().filter_map(|c| c.to_digit(16)).collect();
    let mut out = Vec::new();
    while digits.iter().any(|&d| d != 0) {
        let mut rem = 0u32;
        let mut next = Vec::with_capacity(digits.len());
        for d in &digits {
            let cur = rem * 16 + d;
            next.push(cur / 10);
            rem = cur % 10;
        }
        out.push(char::from_digit(rem, 10).unwrap_or('0'));
        digits = next;
    }
    if out.is_empty() {
        return "0".into();
    }
    out.iter().rev().collect()
}

/// The certificate object tlsx gives without `-cert`.
fn partial_cert(obj: &Map<String, Value>, fx: &mut Effects) -> Option<Script> {
    let mut cert = Map::new();
    if let Some(fp) = obj.get("fingerprint_hash").and_then(Value::as_object) {
        for k in ["md5", "sha1", "sha256"] {
            if let Some(v) = get_str(fp, k) {
                cert.insert(k.into(), json!(v.to_ascii_lowercase()));
            }
        }
    }
    for (key, text_key, obj_key) in [
        ("subject_dn", "subject_text", "subject"),
        ("issuer_dn", "issuer_text", "issuer"),
    ] {
        if let Some(d) = get_str(obj, key) {
            let (text, o) = dn(d);
            cert.insert(text_key.into(), json!(text));
            cert.insert(obj_key.into(), Value::Object(o));
        }
    }
    if let Some(cn) = get_str(obj, "subject_cn") {
        let subject = cert
            .entry("subject")
            .or_insert_with(|| json!({}))
            .as_object_mut()?;
        subject.entry("commonName").or_insert_with(|| json!(cn));
        fx.hostnames
            .push((cn.to_string(), "cert-subject-cn".into()));
    }
    if let Some(b) = obj.get("self_signed").and_then(Value::as_bool) {
        cert.insert("self_signed".into(), json!(b));
    }
    if let Some(s) = get_str(obj, "serial") {
        cert.insert("serial_number".into(), json!(serial_decimal(s)));
    }
    let sans: Vec<&str> = obj
        .get("subject_an")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !sans.is_empty() {
        for s in &sans {
            fx.hostnames.push((s.to_string(), "cert-san-dns".into()));
        }
        cert.insert(
            "san".into(),
            json!(sans.iter().map(|s| format!("DNS:{s}")).collect::<Vec<_>>()),
        );
    }
    let mut times = Vec::new();
    for key in ["not_before", "not_after"] {
        if let Some(t) = obj.get(key).and_then(parse_time) {
            cert.insert(key.into(), json!(t.format("%Y-%m-%d %H:%M:%S").to_string()));
            times.push(t);
        }
    }
    if let [nb, na] = times[..] {
        cert.insert("lifetime".into(), json!((na - nb).num_seconds()));
    }
    if cert.is_empty() {
        return None;
    }
    let cert = Value::Object(cert);
    let output = crate::scan::scripts::cert_output(&cert);
    Some(script("ssl-cert", output, Some(json!([cert]))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_and_serials() {
        let (t, o) = dn("CN=a\\, b, O=Org, C=US");
        assert_eq!(t, "commonName=a, b/organizationName=Org/countryName=US");
        assert_eq!(o["organizationName"], "Org");
        assert_eq!(serial_decimal("0F:FF"), "4095");
        assert_eq!(serial_decimal("00"), "0");
        assert_eq!(serial_decimal("xyz"), "xyz");
    }
}
