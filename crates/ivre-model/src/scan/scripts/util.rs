//! Small helpers shared by the script families: base64, big-number
//! formatting, access to Masscan's raw banner and to Nmap's tables.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{Map, Value};

use super::Script;

pub(crate) fn b64(data: &[u8]) -> String {
    B64.encode(data)
}

/// Decodes standard base64, ignoring ASCII whitespace (PEM bodies are wrapped).
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    B64.decode(clean.as_bytes()).ok()
}

/// The raw bytes of a Masscan banner (`masscan.raw`, stored base64-encoded).
pub(crate) fn masscan_raw(script: &Script) -> Option<Vec<u8>> {
    match script.extra.get("masscan")?.get("raw")? {
        Value::String(s) => b64_decode(s),
        _ => None,
    }
}

/// A big-endian unsigned integer as a decimal string. Numbers in certificates
/// (serials, RSA moduli) exceed 64 bits, and IVRE stores them as decimal
/// strings so that they compare exactly in JSON.
pub(crate) fn be_bytes_to_decimal(bytes: &[u8]) -> String {
    // Little-endian base-1e9 limbs.
    let mut limbs: Vec<u32> = Vec::new();
    for &byte in bytes {
        let mut carry = byte as u64;
        for limb in limbs.iter_mut() {
            let v = (*limb as u64) * 256 + carry;
            *limb = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    match limbs.split_last() {
        None => "0".to_string(),
        Some((top, rest)) => {
            let mut out = top.to_string();
            for limb in rest.iter().rev() {
                out.push_str(&format!("{limb:09}"));
            }
            out
        }
    }
}

/// A hexadecimal string (any case, optional leading `0x`) as a decimal string.
pub(crate) fn hex_to_decimal(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let padded = if t.len() % 2 == 1 {
        format!("0{t}")
    } else {
        t.to_string()
    };
    hex::decode(padded).ok().map(|b| be_bytes_to_decimal(&b))
}

/// A string member of an object, if present.
pub(crate) fn get_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// Every line of `text` starting with two spaces and `key: value`, as pairs
/// (the common layout of NSE's default output of a flat table).
pub(crate) fn parse_flat_output(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let (k, v) = line.split_once(':')?;
            Some((k.trim().to_string(), v.trim_start().to_string()))
        })
        .collect()
}

/// The original form of a table key whose dots were turned into `_` (a
/// MongoDB restriction kept by the NSE-to-JSON conversion): found among the
/// `  <key>:` header lines of the script's output. Unchanged if not found.
pub(crate) fn restore_key(key: &str, output: &str) -> String {
    if key.contains('_') {
        for line in output.lines() {
            let cand = line.trim().trim_end_matches(':').trim_end();
            if cand.len() == key.len() && cand != key && cand.replace('.', "_") == key {
                return cand.to_string();
            }
        }
    }
    key.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_conversion() {
        assert_eq!(be_bytes_to_decimal(&[]), "0");
        assert_eq!(be_bytes_to_decimal(&[0x10, 0x03]), "4099");
        assert_eq!(
            be_bytes_to_decimal(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
            "18446744073709551616"
        );
        assert_eq!(hex_to_decimal("0x01000001").as_deref(), Some("16777217"));
        assert_eq!(hex_to_decimal("abc").as_deref(), Some("2748"));
    }
}
