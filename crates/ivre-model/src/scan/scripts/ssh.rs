//! `ssh-hostkey` (list of host keys) and `ssh2-enum-algos` (with the HASSH
//! fingerprint of the server, so that SSH stacks can be grouped by
//! fingerprint even when they lie in their banner).

use serde_json::{json, Map, Value};

use super::Script;
use crate::crypto::{bit_len, md5_hex, sha1_hex, sha256_hex};

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

fn take_u32(data: &mut &[u8]) -> Option<usize> {
    if data.len() < 4 {
        return None;
    }
    let v = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    *data = &data[4..];
    Some(v)
}

fn take_string<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = take_u32(data)?;
    if data.len() < len {
        return None;
    }
    let (s, rest) = data.split_at(len);
    *data = rest;
    Some(s)
}

/// The payloads of the binary SSH packets following the banner line
/// (a patched Masscan keeps the server's KEXINIT and key-exchange reply).
fn ssh_packets(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some(len) = take_u32(&mut data) {
        // Masscan truncates long banners: a partial packet is not used.
        if len == 0 || data.len() < len {
            break;
        }
        let (pkt, rest) = data.split_at(len);
        data = rest;
        let pad = pkt[0] as usize;
        if pkt.len() > pad + 1 {
            out.push(&pkt[1..pkt.len() - pad]);
        } else if pkt.len() > 1 {
            out.push(&pkt[1..]);
        }
    }
    out
}

/// `ssh2-enum-algos` from a KEXINIT payload (message 20).
fn kexinit_script(payload: &[u8]) -> Option<Script> {
    let mut data = payload.get(17..)?; // type + 16-byte cookie
    let mut lists = Vec::new();
    for _ in 0..10 {
        let s = take_string(&mut data)?;
        let s = String::from_utf8_lossy(s);
        let items: Vec<String> = s
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        lists.push(items);
    }
    // Server-to-client lists for the directional algorithms.
    let fields = [
        ("kex_algorithms", &lists[0]),
        ("server_host_key_algorithms", &lists[1]),
        ("encryption_algorithms", &lists[3]),
        ("mac_algorithms", &lists[5]),
        ("compression_algorithms", &lists[7]),
        ("languages", &lists[9]),
    ];
    let mut output = String::from("\n");
    let mut table = Map::new();
    let mut lines = Vec::new();
    for (key, list) in fields {
        lines.push(format!("  {key} ({})", list.len()));
        lines.extend(list.iter().map(|a| format!("      {a}")));
        table.insert(key.into(), json!(list));
    }
    output.push_str(&lines.join("\n"));
    let mut script = Script::new("ssh2-enum-algos", output);
    script.data = Some(Value::Object(table));
    Some(script)
}

/// `ssh-hostkey` from a key-exchange reply (messages 31 and 33) whose first
/// field is the server's host key blob.
fn hostkey_script(payload: &[u8]) -> Option<Script> {
    let mut data = payload.get(1..)?;
    let blob = take_string(&mut data)?;
    let mut fields = blob;
    let ktype = String::from_utf8_lossy(take_string(&mut fields)?).to_string();
    let bits = match ktype.as_str() {
        "ssh-rsa" => {
            let _e = take_string(&mut fields)?;
            bit_len(take_string(&mut fields)?)
        }
        "ssh-dss" => bit_len(take_string(&mut fields)?),
        "ssh-ed25519" => 256,
        t if t.starts_with("ecdsa-sha2-nistp") => t
            .trim_start_matches("ecdsa-sha2-nistp")
            .parse()
            .unwrap_or(0),
        _ => 0,
    };
    let fingerprint = md5_hex(blob);
    let key = super::util::b64(blob);
    let label = match ktype.as_str() {
        "ssh-rsa" => "RSA".to_string(),
        "ssh-dss" => "DSA".to_string(),
        "ssh-ed25519" => "ED25519".to_string(),
        t if t.starts_with("ecdsa-") => "ECDSA".to_string(),
        t => t.to_ascii_uppercase(),
    };
    let colons = fingerprint
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(":");
    let mut script = Script::new(
        "ssh-hostkey",
        format!("\n  {bits} {colons} ({label})\n{ktype} {key}"),
    );
    script.data = Some(json!([{
        "type": ktype, "bits": bits, "fingerprint": fingerprint, "key": key,
    }]));
    Some(script)
}

/// Masscan `ssh` banners become a `banner` script with the first line kept;
/// the binary KEXINIT and key-exchange reply a patched Masscan records give
/// `ssh2-enum-algos` (with HASSH) and `ssh-hostkey`.
pub(crate) fn process_banner(mut script: Script, raw: &[u8]) -> Vec<Script> {
    let Some(nl) = raw.iter().position(|&b| b == b'\n') else {
        return vec![script];
    };
    let first = String::from_utf8_lossy(&raw[..nl]);
    let first = first.trim_end_matches('\r');
    if !first.starts_with("SSH-") {
        return vec![script];
    }
    script.output = first.to_string();
    let mut out = vec![script];
    for payload in ssh_packets(&raw[nl + 1..]) {
        match payload.first() {
            Some(20) => {
                if let Some(s) = kexinit_script(payload) {
                    out.extend(process_algos(s));
                }
            }
            Some(31) | Some(33) => out.extend(hostkey_script(payload)),
            _ => {}
        }
    }
    out
}
