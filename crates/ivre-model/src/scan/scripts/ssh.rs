//! `ssh-hostkey` (list of host keys) and `ssh2-enum-algos` (with the HASSH
//! fingerprint of the server, so that SSH stacks can be grouped by
//! fingerprint even when they lie in their banner).

use serde_json::{json, Map, Value};

use super::util::{md5_hex, sha1_hex, sha256_hex};
use super::Script;

/// Parses `ssh-hostkey`'s text: `  <bits> <aa:bb:..> (<TYPE>)` lines, each
/// optionally followed by a `<type> <base64>` line.
fn parse_hostkey_text(output: &str) -> Vec<Value> {
    let mut keys: Vec<Map<String, Value>> = Vec::new();
    for line in output.lines() {
        let t = line.trim();
        let parts: Vec<&str> = t.split_whitespace().collect();
        if parts.len() >= 2
            && parts[0].chars().all(|c| c.is_ascii_digit())
            && parts[1].contains(':')
        {
            let mut k = Map::new();
            k.insert("bits".into(), json!(parts[0].parse::<u64>().unwrap_or(0)));
            k.insert("fingerprint".into(), json!(parts[1].replace(':', "")));
            if let Some(kt) = parts.get(2) {
                let kt = kt
                    .trim_matches(|c| c == '(' || c == ')')
                    .to_ascii_lowercase();
                let kt = match kt.as_str() {
                    "rsa" => "ssh-rsa".to_string(),
                    "dsa" => "ssh-dss".to_string(),
                    "ed25519" => "ssh-ed25519".to_string(),
                    "ecdsa" => "ecdsa-sha2-nistp256".to_string(),
                    other => other.to_string(),
                };
                k.insert("type".into(), json!(kt));
            }
            keys.push(k);
        } else if parts.len() == 2
            && (parts[0].starts_with("ssh-") || parts[0].starts_with("ecdsa-"))
        {
            if let Some(last) = keys.last_mut() {
                last.insert("type".into(), json!(parts[0]));
                last.insert("key".into(), json!(parts[1]));
            }
        }
    }
    keys.into_iter().map(Value::Object).collect()
}

/// Normalises Nmap's `ssh-hostkey` table: a list with integer `bits` and a
/// colon-free hexadecimal `fingerprint`.
fn normalise_hostkeys(data: Value) -> Value {
    let list = match data {
        Value::Array(a) => a,
        Value::Object(o) => o.into_iter().map(|(_, v)| v).collect(),
        other => vec![other],
    };
    Value::Array(
        list.into_iter()
            .map(|mut k| {
                if let Some(o) = k.as_object_mut() {
                    if let Some(b) = o.get("bits").and_then(Value::as_str) {
                        if let Ok(n) = b.trim().parse::<u64>() {
                            o.insert("bits".into(), json!(n));
                        }
                    }
                    if let Some(f) = o.get("fingerprint").and_then(Value::as_str) {
                        let f = f.replace(':', "").to_ascii_lowercase();
                        o.insert("fingerprint".into(), json!(f));
                    }
                }
                k
            })
            .collect(),
    )
}

pub(crate) fn process_hostkey(mut script: Script) -> Vec<Script> {
    script.data = match script.data.take() {
        Some(d) => Some(normalise_hostkeys(d)),
        None => {
            let keys = parse_hostkey_text(&script.output);
            (!keys.is_empty()).then_some(Value::Array(keys))
        }
    };
    vec![script]
}

const ALGO_KEYS: &[&str] = &[
    "kex_algorithms",
    "server_host_key_algorithms",
    "encryption_algorithms",
    "mac_algorithms",
    "compression_algorithms",
];

/// Parses `ssh2-enum-algos`'s text: `  name: (n)` headers followed by
/// more-indented algorithm lines.
fn parse_algos_text(output: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if indent <= 2 {
            current = t
                .split_once(':')
                .map(|(k, _)| k.trim().to_string())
                .filter(|k| ALGO_KEYS.contains(&k.as_str()) || k.ends_with("_algorithms"));
            if let Some(k) = &current {
                out.insert(k.clone(), json!([]));
            }
        } else if let Some(k) = &current {
            if let Some(Value::Array(a)) = out.get_mut(k) {
                a.push(json!(t));
            }
        }
    }
    out
}

/// The HASSH fingerprint object of a server (`kex;enc;mac;comp`).
pub fn hassh(algos: &Map<String, Value>) -> Option<Value> {
    let join = |k: &str| -> Option<String> {
        Some(
            algos
                .get(k)?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        )
    };
    let raw = format!(
        "{};{};{};{}",
        join("kex_algorithms")?,
        join("encryption_algorithms")?,
        join("mac_algorithms")?,
        join("compression_algorithms")?
    );
    Some(json!({
        "version": "1.1",
        "raw": raw,
        "md5": md5_hex(raw.as_bytes()),
        "sha1": sha1_hex(raw.as_bytes()),
        "sha256": sha256_hex(raw.as_bytes()),
    }))
}

pub(crate) fn process_algos(mut script: Script) -> Vec<Script> {
    let mut algos = match script.data.take() {
        Some(Value::Object(o)) => o,
        _ => parse_algos_text(&script.output),
    };
    if algos.is_empty() {
        return vec![script];
    }
    if let Some(h) = hassh(&algos) {
        let s = |k: &str| {
            h.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        script.output.push_str(&format!(
            "\n  HASSH\n    version: 1.1\n    raw: {}\n    md5: {}\n    sha1: {}\n    sha256: {}",
            s("raw"),
            s("md5"),
            s("sha1"),
            s("sha256")
        ));
        algos.insert("hassh".into(), h);
    }
    script.data = Some(Value::Object(algos));
    vec![script]
}

/// Masscan `ssh` banners become a `banner` script with the first line kept.
pub(crate) fn process_banner(mut script: Script, raw: &[u8]) -> Vec<Script> {
    let text = String::from_utf8_lossy(raw);
    if let Some(first) = text.split(['\r', '\n']).next() {
        if first.starts_with("SSH-") {
            script.output = first.to_string();
        }
    }
    vec![script]
}
