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

pub(crate) fn process_s7(
    mut script: Script,
    raw: Option<&[u8]>,
    effects: &mut Effects,
) -> Vec<Script> {
    let data = match (raw, script.data.take()) {
        (Some(raw), _) => {
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
