//! `*-ntlm-info` scripts (http, imap, ms-sql, nntp, pop3, rdp, smtp, telnet,
//! and smb through `smb-os-discovery`): all stored as script `ntlm-info`
//! with the protocol in `protocol`, so that one filter finds a Windows
//! domain whatever the service that leaked it.

use serde_json::{json, Map, Value};

use super::util::parse_flat_output;
use super::{Effects, Script};

/// Records the `ntlm` hostname of an ntlm-info value.
pub(crate) fn add_hostname(data: &Map<String, Value>, effects: &mut Effects) {
    if let Some(name) = data.get("DNS_Computer_Name").and_then(Value::as_str) {
        let pair = (name.to_string(), "ntlm".to_string());
        if !name.is_empty() && !effects.hostnames.contains(&pair) {
            effects.hostnames.push(pair);
        }
    }
}

pub(crate) fn process(mut script: Script, effects: &mut Effects) -> Vec<Script> {
    let protocol = script
        .id
        .strip_suffix("-ntlm-info")
        .unwrap_or_default()
        .to_string();
    script.id = "ntlm-info".to_string();
    let mut data = match script.data.take() {
        Some(Value::Object(o)) => o,
        _ => parse_flat_output(&script.output)
            .into_iter()
            .map(|(k, v)| (k, json!(v)))
            .collect(),
    };
    // ms-sql-ntlm-info: `{"\\instance": {...}}` is unwrapped.
    if data.len() == 1 {
        let (k, v) = data.iter().next().expect("one element");
        if let (true, Value::Object(inner)) = (k.starts_with('\\') || k.contains(':'), v) {
            data = inner.clone();
        }
    }
    if data.is_empty() {
        return vec![script];
    }
    if !protocol.is_empty() {
        data.insert("protocol".into(), json!(protocol));
    }
    add_hostname(&data, effects);
    script.data = Some(Value::Object(data));
    vec![script]
}
