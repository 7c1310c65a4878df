//! Industrial protocols: `s7-info` (Siemens S7, from Nmap's script or from
//! Masscan's binary S7comm responses) and `modbus-discover`.
//!
//! Masscan's `s7comm` banner is the concatenation of TPKT frames: the COTP
//! connection confirm, the S7 setup-communication reply, then "read SZL"
//! user-data replies for SZL 0x0011 (module identification, 28-byte
//! records) and 0x001c (component identification, 34-byte records).

use regex::Regex;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

use super::{Effects, Script};

/// Nmap's `s7-info` labels → IVRE's keys.
fn s7_key(label: &str) -> Option<&'static str> {
    Some(match label {
        "Module" => "module",
        "Basic Hardware" => "hardware",
        "Version" => "version",
        "System Name" => "system_name",
        "Module Type" => "module_name",
        "Serial Number" => "module_sn",
        "Plant Identification" => "plant",
        "Copyright" => "copyright",
        _ => return None,
    })
}

/// An `s7-info` table with Nmap's labels renamed to IVRE's keys (other
/// keys kept); also used to migrate old IVRE records.
pub(crate) fn rename_s7(table: Map<String, Value>) -> Map<String, Value> {
    table
        .into_iter()
        .map(|(k, v)| match s7_key(&k) {
            Some(n) => (n.to_string(), v),
            None => (k, v),
        })
        .collect()
}

/// A fixed-width S7 string: NUL padding and surrounding spaces removed.
fn s7_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim().to_string()
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize)
}

/// One SZL reply (the S7 PDU of a TPKT frame) into `out`.
fn parse_szl(pdu: &[u8], out: &mut Map<String, Value>) -> Option<()> {
    if *pdu.first()? != 0x32 || *pdu.get(1)? != 0x07 {
        return None;
    }
    let param_len = be16(pdu, 6)?;
    let data = pdu.get(10 + param_len..)?;
    // return code (0xff = success), transport size, length
    if *data.first()? != 0xff {
        return None;
    }
    let szl_id = be16(data, 4)?;
    let rec_len = be16(data, 8)?;
    let count = be16(data, 10)?;
    let mut records = data.get(12..)?;
    for _ in 0..count {
        // Masscan truncates the last reply: a short last record is kept.
        if rec_len < 2 || records.len() < 2 {
            break;
        }
        let (rec, rest) = records.split_at(rec_len.min(records.len()));
        records = rest;
        let index = be16(rec, 0)?;
        let key = match (szl_id & 0xff, index) {
            (0x11, 1) => "module",
            (0x11, 6) => "hardware",
            (0x11, 7) => "firmware",
            (0x11, 0x81) => "vipa_firmware",
            (0x11, 0x82) => "svn_cpu",
            (0x1c, 1) => "system_name",
            (0x1c, 2) => "module_name",
            (0x1c, 3) => "plant",
            (0x1c, 4) => "copyright",
            (0x1c, 5) => "module_sn",
            (0x1c, 7) => "module_type",
            (0x1c, 0x0b) => "location",
            _ => continue,
        };
        let text = if szl_id & 0xff == 0x11 {
            s7_string(&rec[2..rec.len().min(22)])
        } else {
            s7_string(&rec[2..])
        };
        out.insert(key.into(), json!(text));
    }
    Some(())
}

/// Parses Masscan's binary S7comm banner into `s7-info` keys.
pub fn parse_s7_banner(raw: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    let mut rest = raw;
    while rest.len() >= 4 && rest[0] == 3 {
        // A truncated last frame (Masscan caps banners) is parsed as far as it goes.
        let len = be16(rest, 2).unwrap_or(0).min(rest.len());
        if len < 4 {
            break;
        }
        let frame = &rest[4..len];
        rest = &rest[len..];
        // COTP header: length byte, then that many bytes.
        if let Some(&li) = frame.first() {
            if let Some(pdu) = frame.get(li as usize + 1..) {
                parse_szl(pdu, &mut out);
            }
        }
    }
    out
}

/// Whether Masscan's `s7comm` capture is an S7 exchange: a COTP
/// connection confirm, then only COTP data frames carrying S7 PDUs
/// (protocol id 0x32). A connection request echoed, a disconnect, or a data
/// frame without S7 in it is some other ISO-TSAP service. Masscan cuts long
/// captures: a last frame cut before its payload is accepted.
fn is_s7_exchange(raw: &[u8]) -> bool {
    let mut rest = raw;
    let mut first = true;
    while !rest.is_empty() {
        if rest[0] != 3 || rest.len() < 6 {
            return false;
        }
        let declared = be16(rest, 2).unwrap_or(0);
        let (li, pdu_type) = (rest[4] as usize, rest[5] & 0xf0);
        if first {
            if pdu_type != 0xd0 {
                return false;
            }
        } else {
            if pdu_type != 0xf0 {
                return false;
            }
            let payload = 4 + 1 + li;
            if declared <= payload {
                return false;
            }
            if rest.get(payload).is_some_and(|&b| b != 0x32) {
                return false;
            }
        }
        first = false;
        if declared < 4 {
            return false;
        }
        rest = rest.get(declared..).unwrap_or(&[]);
    }
    !first
}

pub(crate) fn process_s7(
    mut script: Script,
    raw: Option<&[u8]>,
    effects: &mut Effects,
) -> Vec<Script> {
    let data = match (raw, script.data.take()) {
        (Some(raw), _) => {
            if !is_s7_exchange(raw) {
                // Refused or not S7: a plain banner, as IVRE keeps it.
                script.id = "banner".into();
                return vec![script];
            }
            let parsed = parse_s7_banner(raw);
            if parsed.is_empty() {
                return vec![script];
            }
            let mut output = String::from("\n");
            for (k, v) in &parsed {
                output.push_str(&format!("  {k}: {}\n", v.as_str().unwrap_or_default()));
            }
            output.push('\n');
            script.output = output;
            parsed
        }
        (None, Some(Value::Object(t))) => rename_s7(t),
        (None, _) => rename_s7(
            script
                .output
                .lines()
                .filter_map(|l| l.trim_start().split_once(": "))
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
        ),
    };
    if data.get("system_name").and_then(Value::as_str) == Some("Technodrome") {
        // Conpot's default configuration: a honeypot, not a PLC.
        effects
            .service
            .insert("service_name".into(), json!("honeypot"));
        effects
            .service
            .insert("service_product".into(), json!("MushMush Conpot"));
    }
    script.data = (!data.is_empty()).then_some(Value::Object(data));
    vec![script]
}

fn deviceid_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"Device identification: ([^\n]*)").expect("static regex"))
}

pub(crate) fn process_modbus(mut script: Script) -> Vec<Script> {
    if let Some(c) = deviceid_re().captures(&script.output) {
        script.data = Some(json!({"deviceid": c[1].trim_end()}));
    }
    vec![script]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::assemble::unescape_banner;

    #[test]
    fn s7_exchanges_and_other_iso_tsap_services() {
        // Captures of the Masscan sample (test-T102-s7comm.xml).
        let s7 = [
            // connection confirm only, complete or cut
            "\\x03\\x00\\x00\\x0b\\x06\\xd0\\x00\\x14\\x124\\x00",
            "\\x03\\x00\\x00\\x0e\\x09\\xd0\\x00\\x14",
            // then an S7 setup-communication reply
            "\\x03\\x00\\x00\\x16\\x11\\xd0\\x00\\x14\\x00\\x01\\x00\\xc1\\x02\\x01\\x00\\xc2\\x02\\x01\\x02\\xc0\\x01\\x0a\\x03\\x00\\x00\\x1b\\x02\\xf0\\x802\\x03\\x00\\x00\\x00\\x00\\x00\\x08\\x00\\x00\\x00\\x00\\xf0\\x00\\x00\\x01\\x00\\x01\\x00\\xf0",
        ];
        let other = [
            // disconnect request
            "\\x03\\x00\\x00\\x0b\\x06\\x80\\x00",
            // connection request echoed
            "\\x03\\x00\\x00\\x16\\x11\\xe0\\x00\\x00\\x00\\x14\\x00\\xc1\\x02\\x01\\x00\\xc2\\x02\\x01\\x02\\xc0\\x01\\x0a",
            // connection confirm, then a data frame without S7 in it
            "\\x03\\x00\\x00\\x16\\x11\\xd0\\x00\\x14\\x01\\xcc\\x00\\xc1\\x02\\x01\\x00\\xc2\\x02\\x01\\x02\\xc0\\x01\\x0a\\x03\\x00\\x00\\x07\\x02\\xf0\\x00",
            "220 ProFTPD Server ready\\x0d\\x0a",
            "",
        ];
        for b in s7 {
            assert!(is_s7_exchange(&unescape_banner(b)), "{b}");
        }
        for b in other {
            assert!(!is_s7_exchange(&unescape_banner(b)), "{b}");
        }
    }
}
