//! SYN-ACK honeypots: hosts that answer SYN-ACK on hundreds of ports with no
//! real service behind. IVRE (schema 20 migration, view merge) keeps only
//! their real ports and tags them, so that `--port 443` does not count a host
//! whose "open" 443 is one of a thousand `tcpwrapped` answers.

use super::record::{Host, Port, Tag};

/// Open ports at or above which a host is checked (IVRE's `VIEW_SYNACK_HONEYPOT_COUNT`).
pub const SYNACK_HONEYPOT_COUNT: usize = 200;

/// The `info` of the `Honeypot` tag given to SYN-ACK honeypots.
pub const SYNACK_HONEYPOT_INFO: &str = "SYN+ACK honeypot";

/// Whether a port shows a real service: the host-script port, a named service
/// other than `tcpwrapped`, or a script other than a lone empty or
/// middlebox-error banner.
pub fn is_real_service_port(port: &Port) -> bool {
    if port.port == -1 {
        return true;
    }
    if port
        .service_name
        .as_deref()
        .is_some_and(|n| n != "tcpwrapped")
    {
        return true;
    }
    match port.scripts.as_deref() {
        None | Some([]) => false,
        Some([only]) if only.id == "banner" => {
            let out = only.output.trim();
            !(out.is_empty() || out.contains("BIG-IP") || out.contains("SonicWALL"))
        }
        Some(_) => true,
    }
}

/// Removes the fake open ports of a SYN-ACK honeypot and tags it. Returns
/// whether the host was one.
pub fn clean_synack_honeypot(host: &mut Host) -> bool {
    let Some(ports) = host.ports.as_mut() else {
        return false;
    };
    let open = ports.iter().filter(|p| p.is_open()).count();
    let fake = ports
        .iter()
        .filter(|p| p.is_open() && !is_real_service_port(p))
        .count();
    if open < SYNACK_HONEYPOT_COUNT || fake <= SYNACK_HONEYPOT_COUNT {
        return false;
    }
    ports.retain(|p| !p.is_open() || is_real_service_port(p));
    host.add_tags([Tag {
        value: "Honeypot".into(),
        kind: "warning".into(),
        info: Some(vec![SYNACK_HONEYPOT_INFO.into()]),
        extra: Default::default(),
    }]);
    host.recompute_openports();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(n: i64, service: Option<&str>) -> Port {
        let mut p = Port::new("tcp", n);
        p.state_state = Some("open".into());
        p.service_name = service.map(String::from);
        p
    }

    #[test]
    fn fake_ports_are_removed_and_real_ones_kept() {
        let mut host = Host::new("192.0.2.1");
        let mut ports: Vec<Port> = (1..=300).map(|n| open(n, Some("tcpwrapped"))).collect();
        ports.push(open(8080, Some("http")));
        host.ports = Some(ports);
        assert!(clean_synack_honeypot(&mut host));
        let ports = host.ports.as_ref().unwrap();
        assert_eq!(ports.len(), 1);
        assert_eq!(ports[0].port, 8080);
        assert_eq!(host.tags.as_ref().unwrap()[0].value, "Honeypot");
    }

    #[test]
    fn busy_real_hosts_are_left_alone() {
        let mut host = Host::new("192.0.2.1");
        host.ports = Some((1..=300).map(|n| open(n, Some("http"))).collect());
        assert!(!clean_synack_honeypot(&mut host));
        assert_eq!(host.ports.as_ref().unwrap().len(), 300);
    }
}
