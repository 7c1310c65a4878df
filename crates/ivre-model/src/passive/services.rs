//! `infos.service_*` of passive records (spec passive.md §1.4): server
//! banners and `Server:` headers are identified with Nmap's service probes,
//! as `-sV` would identify them.

use super::PassiveRecord;
use crate::escape::decode;
use crate::probes::ServiceProbes;
use serde_json::Value;

/// Adds the service fields of an Nmap match to the infos of a server-side
/// banner or `Server` header. CPEs are not kept (IVRE drops them here).
pub fn add_service_infos(rec: &mut PassiveRecord, probes: &ServiceProbes) {
    let (probe, data): (&str, Vec<u8>) = match (rec.recontype.as_str(), rec.source.as_deref()) {
        ("HTTP_SERVER_HEADER", Some("SERVER")) => (
            "GetRequest",
            format!(
                "HTTP/1.1 200 OK\r\nServer: {}\r\n\r\n",
                String::from_utf8_lossy(&decode(&rec.value))
            )
            .into_bytes(),
        ),
        ("TCP_SERVER_BANNER", _) => ("NULL", decode(&rec.value)),
        ("SSH_CLIENT" | "SSH_SERVER", _) => {
            let mut banner = decode(&rec.value);
            banner.extend_from_slice(b"\r\n");
            ("NULL", banner)
        }
        _ => return,
    };
    let port = rec.port.unwrap_or(0);
    let Some(m) = probes.match_banner(&[probe], "tcp", port, &data) else {
        return;
    };
    let infos = rec.infos_mut();
    for (key, value) in m.port_fields() {
        if !matches!(value, Value::Null) {
            infos.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn probes() -> ServiceProbes {
        ServiceProbes::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/nmap/nmap-service-probes"
        ))
        .unwrap()
    }

    fn rec(recontype: &str, source: Option<&str>, value: &str) -> PassiveRecord {
        let mut r = PassiveRecord::new(recontype, value, Utc::now());
        r.source = source.map(String::from);
        r
    }

    #[test]
    fn banners_and_server_headers_are_identified_as_ivre_stores_them() {
        let p = probes();
        let mut r = rec("HTTP_SERVER_HEADER", Some("SERVER"), "Apache");
        add_service_infos(&mut r, &p);
        let i = r.infos.unwrap();
        assert_eq!(i["service_name"], "http");
        assert_eq!(i["service_product"], "Apache httpd");

        let mut r = rec(
            "TCP_SERVER_BANNER",
            None,
            "* OK Microsoft Exchange IMAP4rev1 server version 5.5.2650.23 (umr-mail02) ready\\x0d\\x0a",
        );
        add_service_infos(&mut r, &p);
        let i = r.infos.unwrap();
        assert_eq!(i["service_product"], "Microsoft Exchange imapd");
        assert_eq!(i["service_version"], "5.5.2650.23");

        let mut r = rec("SSH_SERVER", None, "SSH-1.99-OpenSSH_3.1p1");
        add_service_infos(&mut r, &p);
        let i = r.infos.unwrap();
        assert_eq!(i["service_product"], "OpenSSH");
        assert_eq!(i["service_version"], "3.1p1");
        assert_eq!(i["service_extrainfo"], "protocol 1.99");

        let mut r = rec("DNS_ANSWER", Some("A-1.1.1.1-53"), "example.com");
        add_service_infos(&mut r, &p);
        assert!(r.infos.is_none());
    }
}
