//! Host assembly shared by the scan readers: scripts go through the
//! catalogue ([`scripts::process`]) in the context of their port, the host-level
//! effects it reports (hostnames, CPEs, MACs) are applied to the host, and
//! Masscan banners become fake Nmap scripts (spec scans.md §2.4).
//!
//! A banner script is `{"id", "output", "masscan": {"raw": <base64 of the
//! unescaped bytes>, "encoded": <the banner as Masscan wrote it>}}` with no
//! structured value; the catalogue builds the structured values (`ssl-cert`,
//! `s7-info`, `smb-os-discovery`, `ike-info`, ...).
//!
//! For `X509`/`X509CA` banners (Masscan writes the DER certificate in base64),
//! `output` and `masscan.encoded` are the base64 DER text as written by Masscan,
//! and `masscan.raw` is base64 of those ASCII bytes (as IVRE stores it): the
//! catalogue base64-decodes `output` to get the DER.
//!
//! Service identification of banners (matching `nmap-service-probes`) is not
//! done here: the port gets only `service_tunnel=ssl` (ssl, X509, X509CA) and
//! the fixed names for `s7comm` (`iso-tsap`) and `smb` (`netbios-ssn` on 139,
//! `microsoft-ds` elsewhere).

use super::record::{Host, Port};
use super::script::Script;
use super::scripts::{self, Effects, PortContext};
use base64::Engine;
use serde_json::{json, Map, Value};

/// Runs a script through the catalogue ([`scripts::process`]) in the context
/// of `port` (the `-1` pseudo-port for host scripts), appends the resulting
/// scripts to the port, sets the service fields the catalogue reported on the
/// port, and collects the host-level effects (hostnames, CPEs, MACs) in
/// `host_effects`, to be applied with [`apply_effects`].
pub fn process_port_script(port: &mut Port, script: Script, host_effects: &mut Effects) {
    let mut fx = Effects::default();
    let out = {
        let ctx = PortContext {
            port: u16::try_from(port.port).ok(),
            protocol: port.protocol.as_deref(),
            service_name: port.service_name.as_deref(),
        };
        scripts::process(script, &ctx, &mut fx)
    };
    port.scripts.get_or_insert_with(Vec::new).extend(out);
    if !fx.service.is_empty() && port.port >= 0 {
        set_port_fields(port, std::mem::take(&mut fx.service));
    }
    host_effects.hostnames.append(&mut fx.hostnames);
    host_effects.cpes.append(&mut fx.cpes);
    host_effects.macs.append(&mut fx.macs);
}

/// Sets port fields given by name (`service_name`, ...), keeping the port
/// valid: a value of the wrong type is ignored.
pub fn set_port_fields(port: &mut Port, fields: Map<String, Value>) {
    let Ok(Value::Object(mut v)) = serde_json::to_value(&*port) else {
        return;
    };
    for (k, val) in fields {
        let old = v.insert(k.clone(), val);
        if serde_json::from_value::<Port>(Value::Object(v.clone())).is_err() {
            match old {
                Some(o) => v.insert(k, o),
                None => v.remove(&k),
            };
        }
    }
    if let Ok(p) = serde_json::from_value(Value::Object(v)) {
        *port = p;
    }
}

/// Applies what the script catalogue reported to the host.
pub fn apply_effects(host: &mut Host, effects: Effects) {
    for (name, kind) in effects.hostnames {
        host.add_hostname(&name, &kind);
    }
    for (cpe, origin) in effects.cpes {
        host.add_cpe(&cpe, &origin);
    }
    for mac in effects.macs {
        host.add_mac(&mac);
    }
}

/// Canonical text of an IP address, or None.
pub fn canonical_ip(addr: &str) -> Option<String> {
    addr.trim()
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|a| a.to_string())
}

/// The script id IVRE gives to a Masscan service name.
fn script_id(masscan_name: &str) -> &'static str {
    match masscan_name {
        "http" => "http-headers",
        "http.server" => "http-server-header",
        "title" => "http-title",
        "html" => "http-content",
        "X509" => "ssl-cert",
        "X509CA" => "ssl-cacert",
        "s7comm" => "s7-info",
        "rdp" => "rdp-nla-support",
        "smb" => "smb-os-discovery",
        // ssh (IVRE's "ssh-banner", renamed), ftp, unknown, vnc, imap, pop,
        // smtp, telnet and anything else
        _ => "banner",
    }
}

/// Undoes Masscan's `\xHH` escaping (other bytes are kept as they are).
pub fn unescape_banner(banner: &str) -> Vec<u8> {
    let b = banner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() && b[i + 1] == b'x' {
            if let (Some(h), Some(l)) = (hex_val(b[i + 2]), hex_val(b[i + 3])) {
                out.push(h << 4 | l);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// The human output of raw bytes: printable ASCII, tab, CR and LF kept,
/// other bytes written `\xHH`.
pub fn printable(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len());
    for &c in raw {
        if (0x20..0x7f).contains(&c) || matches!(c, b'\t' | b'\n' | b'\r') {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// Builds the fake script for a Masscan `<service name banner>` and applies
/// the fixed service fields to the port.
pub fn banner_script(port: &mut Port, name: &str, banner: &str) -> Script {
    match name {
        "ssl" | "X509" | "X509CA" => port.service_tunnel = Some("ssl".into()),
        "s7comm" => port.service_name = Some("iso-tsap".into()),
        "smb" => {
            port.service_name = Some(
                if port.port == 139 {
                    "netbios-ssn"
                } else {
                    "microsoft-ds"
                }
                .into(),
            )
        }
        _ => {}
    }
    let raw = unescape_banner(banner);
    let output = match name {
        "X509" | "X509CA" => banner.to_string(),
        // the banner line only; a patched Masscan appends the binary KEXINIT
        // (left in masscan.raw for the catalogue)
        "ssh" => {
            let end = raw
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .unwrap_or(raw.len());
            printable(&raw[..end])
        }
        _ => printable(&raw),
    };
    let mut extra = Map::new();
    extra.insert(
        "masscan".into(),
        json!({
            "raw": base64::engine::general_purpose::STANDARD.encode(&raw),
            "encoded": banner,
        }),
    );
    Script {
        id: script_id(name).to_string(),
        output,
        data: None,
        extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_and_printable() {
        let raw = unescape_banner("SSH-2.0-x\\x0d\\x0a\\x00\\x5c\\xZZ");
        assert_eq!(raw, b"SSH-2.0-x\r\n\x00\\\\xZZ");
        assert_eq!(printable(&raw), "SSH-2.0-x\r\n\\x00\\\\xZZ");
        assert_eq!(printable(b"\x03\x00A"), "\\x03\\x00A");
    }
}
