//! Service identification of banners captured without Nmap's own service
//! detection (Masscan): the raw bytes kept in a script's `masscan.raw` are
//! matched against `nmap-service-probes`, and a match fills the port's
//! `service_*` fields and the host's CPEs, as Nmap's `-sV` would.
//!
//! Probes are tried in IVRE's order: the caller's extra probes
//! (`scan2db --masscan-probes`), then `GetRequest` for HTTP responses or
//! `NULL` for plain banners. For line-oriented protocols only the first line
//! is matched, as IVRE does.

use super::record::{Host, Port};
use crate::probes::{banner_first_line, ServiceProbes};
use base64::Engine;

/// Services whose banner is matched on its first line only.
const FIRST_LINE_SERVICES: &[&str] = &["ftp", "imap", "pop3", "smtp", "ssh"];

/// Fingerprints every port of `host` that carries a raw banner.
pub fn fingerprint_banners(host: &mut Host, probes: &ServiceProbes, extra_probes: &[String]) {
    let Some(ports) = host.ports.as_mut() else {
        return;
    };
    let mut cpes = Vec::new();
    for port in ports.iter_mut().filter(|p| p.port >= 0) {
        let Some((script_id, banner)) = raw_banner(port) else {
            continue;
        };
        let default_probe = if script_id == "http-headers" {
            "GetRequest"
        } else {
            "NULL"
        };
        let mut names: Vec<&str> = extra_probes.iter().map(String::as_str).collect();
        names.push(default_probe);
        let service = port.service_name.as_deref().unwrap_or("");
        let data = if FIRST_LINE_SERVICES.contains(&service)
            || script_id == "banner" && service.is_empty()
        {
            banner_first_line(&banner)
        } else {
            &banner[..]
        };
        let protocol = port.protocol.as_deref().unwrap_or("tcp");
        let Ok(number) = u16::try_from(port.port) else {
            continue;
        };
        let Some(m) = probes.match_banner(&names, protocol, number, data) else {
            // Unidentified, an HTTP response is still HTTP (as IVRE stores it).
            if script_id == "http-headers" && port.service_name.is_none() {
                port.service_name = Some("http".into());
            }
            continue;
        };
        let (name, tunnel) = m.name_and_tunnel();
        port.service_name = Some(name.to_owned());
        if let Some(t) = tunnel {
            port.service_tunnel = Some(t.to_owned());
        }
        port.service_product = m.product.clone();
        port.service_version = m.version.clone();
        port.service_extrainfo = m.extrainfo.clone();
        port.service_hostname = m.hostname.clone();
        port.service_ostype = m.ostype.clone();
        port.service_devicetype = m.devicetype.clone();
        cpes.extend(
            m.cpes
                .iter()
                .map(|c| (c.clone(), format!("ports.port:{}", port.port))),
        );
    }
    for (cpe, origin) in cpes {
        host.add_cpe(&cpe, &origin);
    }
}

/// The first script of the port built from a raw capture, and its bytes.
fn raw_banner(port: &Port) -> Option<(&str, Vec<u8>)> {
    port.scripts.as_ref()?.iter().find_map(|s| {
        let raw = s.extra.get("masscan")?.get("raw")?.as_str()?;
        if !matches!(s.id.as_str(), "banner" | "http-headers") {
            return None;
        }
        let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
        Some((s.id.as_str(), bytes))
    })
}
