//! Finalisation of a merged view host (spec §2.3 step 6, §2.7, §3.8): what
//! is derived from the whole host rather than merged.

use std::net::IpAddr;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::merge::sorted_map;
use crate::scan::honeypot::clean_synack_honeypot;
use crate::scan::{Host, Tag};

/// Hostnames a view host keeps at most (IVRE's `VIEW_MAX_HOSTNAMES_COUNT`);
/// beyond, they are dropped and the host is tagged [`TOO_MANY_HOSTNAMES`].
pub const MAX_HOSTNAMES: usize = 200;

/// The `info` of the `CDN` tag of a host that had too many hostnames.
pub const TOO_MANY_HOSTNAMES: &str = "Too many hostnames";

/// Closed (or filtered) ports at or above which they are folded into
/// `extraports` (IVRE's `clean_nonopen_ports`).
pub const MAX_NONOPEN_PORTS: usize = 200;

/// What the data purpose knows about an address (§3.3, §3.4). Implemented
/// outside this crate (e.g. over MaxMind files and tag lists); the view
/// only asks.
pub trait Enrich {
    /// The `infos` of an address, with IVRE's keys (`as_num`, `as_name`,
    /// `country_code`, `country_name`, `region_code`, `region_name`,
    /// `city`, `postal_code`, `coordinates` as `[lat, lon]`,
    /// `coordinates_accuracy_radius`, ...), without `tags`; as IVRE, the
    /// City database's keys win over the Country database's. `None` when
    /// nothing is known.
    fn infos(&self, addr: IpAddr) -> Option<Map<String, Value>>;

    /// The tags of an address: reserved address types, TOR exit nodes,
    /// CDN / cloud ranges, listed scanners (those whose data is available).
    fn address_tags(&self, _addr: IpAddr) -> Vec<Tag> {
        Vec::new()
    }
}

/// Finalises a merged host: address tags and `infos` from `enrich` (when
/// given; existing `infos` keys are overwritten, others kept), automatic
/// tags from the host's own data (services whose name, product or extra
/// information says honeypot, TOR-like certificates, scanning clients,
/// scanner hostnames), SYN-ACK honeypot pruning, the
/// hostname limit, non-open ports folded into `extraports` when too many,
/// and `openports`. Running it twice gives the same host.
pub fn finalize(host: &mut Host, enrich: Option<&dyn Enrich>) {
    if let (Some(enrich), Some(ip)) = (enrich, host.ip()) {
        host.add_tags(enrich.address_tags(ip));
        if let Some(infos) = enrich.infos(ip) {
            let mut all = host.infos.take().unwrap_or_default();
            all.extend(infos);
            host.infos = Some(sorted_map(all));
        }
    }
    if host
        .hostnames
        .as_ref()
        .is_some_and(|h| h.len() > MAX_HOSTNAMES)
    {
        host.hostnames = None;
        host.add_tags([too_many_hostnames_tag()]);
    }
    let tags = auto_tags(host);
    host.add_tags(tags);
    clean_synack_honeypot(host);
    fold_nonopen_ports(host);
    if let Some(tags) = host.tags.as_mut() {
        tags.sort_by(|a, b| a.value.cmp(&b.value));
    }
    if host.ports.as_ref().is_some_and(Vec::is_empty) {
        host.ports = None;
    }
    host.recompute_openports();
}

fn tag(value: &str, kind: &str, info: String) -> Tag {
    Tag {
        value: value.into(),
        kind: kind.into(),
        info: Some(vec![info]),
        extra: Map::new(),
    }
}

/// The `CDN` / "Too many hostnames" tag.
pub(crate) fn too_many_hostnames_tag() -> Tag {
    tag("CDN", "info", TOO_MANY_HOSTNAMES.into())
}

pub(crate) fn has_too_many_hostnames_tag(h: &Host) -> bool {
    h.tags
        .iter()
        .flatten()
        .any(|t| t.value == "CDN" && t.info.iter().flatten().any(|i| i == TOO_MANY_HOSTNAMES))
}

fn tor_subject() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^commonName=www\.[a-z2-7]{8,20}\.net$").expect("static regex"))
}

fn tor_issuer() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^commonName=www\.[a-z2-7]{8,20}\.(com|net)$").expect("static regex")
    })
}

/// Scanning services known by the reverse names of their probes.
const SCANNER_DOMAINS: &[(&str, &str)] = &[
    ("census.shodan.io", "Shodan"),
    ("binaryedge.ninja", "BinaryEdge"),
    ("probe.onyphe.net", "Onyphe"),
    ("censys-scanner.com", "Censys"),
];

/// The tags a host's own data implies.
fn auto_tags(host: &Host) -> Vec<Tag> {
    let mut tags = Vec::new();
    for h in host.hostnames.iter().flatten() {
        for (domain, org) in SCANNER_DOMAINS {
            if h.domains.iter().flatten().any(|d| d == domain) || h.name == *domain {
                tags.push(tag(
                    "Scanner",
                    "warning",
                    format!("Hostname {} suggests a {org} scanner", h.name),
                ));
            }
        }
    }
    for p in host.ports.iter().flatten() {
        let at = format!("{}/{}", p.protocol.as_deref().unwrap_or(""), p.port);
        let says_honeypot = |f: &Option<String>| {
            f.as_deref()
                .is_some_and(|v| v.to_ascii_lowercase().contains("honeypot"))
        };
        if says_honeypot(&p.service_name)
            || says_honeypot(&p.service_product)
            || says_honeypot(&p.service_extrainfo)
        {
            let product = p.service_product.as_deref().unwrap_or("Unknown honeypot");
            tags.push(tag("Honeypot", "warning", format!("{product} on {at}")));
        }
        for s in p.scripts.iter().flatten() {
            match s.id.as_str() {
                "ssl-cert" if is_tor_cert(s.data.as_ref()) => {
                    tags.push(tag("TOR", "info", format!("TOR relay certificate on {at}")));
                }
                "scanner" => {
                    let names: Vec<&str> = s
                        .data
                        .as_ref()
                        .and_then(|d| d.get("scanners"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|x| x.get("name").and_then(Value::as_str))
                        .collect();
                    if names.is_empty() {
                        tags.push(tag("Scanner", "warning", "Seen scanning".into()));
                    }
                    for name in names {
                        tags.push(tag("Scanner", "warning", format!("Seen scanning ({name})")));
                    }
                }
                _ => {}
            }
        }
    }
    tags
}

/// Whether an `ssl-cert` value holds a certificate like those TOR relays generate.
fn is_tor_cert(data: Option<&Value>) -> bool {
    let certs: Vec<&Value> = match data {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => return false,
    };
    certs.iter().any(|c| {
        let text = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
        tor_subject().is_match(text("subject_text")) && tor_issuer().is_match(text("issuer_text"))
    })
}

/// Folds the `closed` and `filtered` ports into `extraports` when there are
/// at least [`MAX_NONOPEN_PORTS`] of a state.
fn fold_nonopen_ports(host: &mut Host) {
    let Some(ports) = host.ports.as_mut() else {
        return;
    };
    for state in ["closed", "filtered"] {
        let n = ports
            .iter()
            .filter(|p| p.state_state.as_deref() == Some(state))
            .count();
        if n < MAX_NONOPEN_PORTS {
            continue;
        }
        let extra = host
            .extraports
            .get_or_insert_with(Default::default)
            .entry(state.to_string())
            .or_default();
        ports.retain(|p| {
            if p.state_state.as_deref() != Some(state) {
                return true;
            }
            extra.total += 1;
            let reason = p.state_reason.clone().unwrap_or_default();
            *extra.reasons.entry(reason).or_default() += 1;
            false
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Port;
    use crate::scan::Script;
    use serde_json::json;

    fn tag_infos(h: &Host, value: &str) -> Vec<String> {
        h.tags
            .iter()
            .flatten()
            .filter(|t| t.value == value)
            .flat_map(|t| t.info.clone().unwrap_or_default())
            .collect()
    }

    struct Reserved;

    impl Enrich for Reserved {
        fn infos(&self, _addr: IpAddr) -> Option<Map<String, Value>> {
            json!({"country_code": "FR", "city": "Paris"})
                .as_object()
                .cloned()
        }
        fn address_tags(&self, _addr: IpAddr) -> Vec<Tag> {
            vec![Tag::parse("Reserved address:info:Address type Private")]
        }
    }

    #[test]
    fn enrichment_overwrites_infos_keys_and_adds_tags() {
        let mut h = Host::new("10.0.0.1");
        h.infos = json!({"city": "Lyon", "as_num": 1}).as_object().cloned();
        finalize(&mut h, Some(&Reserved));
        assert_eq!(
            serde_json::to_value(&h.infos).unwrap(),
            json!({"as_num": 1, "city": "Paris", "country_code": "FR"})
        );
        assert_eq!(tag_infos(&h, "Reserved address"), ["Address type Private"]);
    }

    #[test]
    fn honeypot_tor_and_scanner_tags() {
        let mut h = Host::new("192.0.2.1");
        let mut p = Port::new("tcp", 102);
        p.state_state = Some("open".into());
        p.service_name = Some("honeypot".into());
        p.service_product = Some("MushMush Conpot".into());
        let mut tls = Port::new("tcp", 9001);
        tls.state_state = Some("open".into());
        let mut cert = Script::new("ssl-cert", "");
        cert.data = Some(json!([{
            "subject_text": "commonName=www.abcdefghij.net",
            "issuer_text": "commonName=www.klmnopqrst.com"
        }]));
        tls.scripts = Some(vec![cert]);
        let mut hs = Port::host_scripts();
        let mut sc = Script::new("scanner", "");
        sc.data = Some(json!({"scanners": [{"name": "Masscan"}]}));
        hs.scripts = Some(vec![sc]);
        h.ports = Some(vec![p, tls, hs]);
        h.add_hostname("scanner-01.census.shodan.io", "PTR");
        finalize(&mut h, None);
        assert_eq!(tag_infos(&h, "Honeypot"), ["MushMush Conpot on tcp/102"]);
        assert_eq!(tag_infos(&h, "TOR"), ["TOR relay certificate on tcp/9001"]);
        assert_eq!(
            tag_infos(&h, "Scanner"),
            [
                "Hostname scanner-01.census.shodan.io suggests a Shodan scanner",
                "Seen scanning (Masscan)"
            ]
        );
        let values: Vec<&str> = h.tags.iter().flatten().map(|t| t.value.as_str()).collect();
        assert_eq!(values, ["Honeypot", "Scanner", "TOR"]);
        assert_eq!(h.openports.as_ref().unwrap().count, 2);
    }

    #[test]
    fn services_announcing_a_honeypot() {
        let mut h = Host::new("192.0.2.1");
        let mut p = Port::new("tcp", 12345);
        p.state_state = Some("open".into());
        p.service_name = Some("netbus".into());
        p.service_product = Some("NetBuster".into());
        p.service_extrainfo = Some("honeypot".into());
        let mut ssh = Port::new("tcp", 22);
        ssh.service_name = Some("ssh".into());
        ssh.service_product = Some("Kojoney SSH honeypot".into());
        let mut real = Port::new("tcp", 80);
        real.service_name = Some("http".into());
        h.ports = Some(vec![p, ssh, real]);
        finalize(&mut h, None);
        assert_eq!(
            tag_infos(&h, "Honeypot"),
            ["Kojoney SSH honeypot on tcp/22", "NetBuster on tcp/12345"]
        );
    }

    #[test]
    fn too_many_hostnames_and_closed_ports() {
        let mut h = Host::new("192.0.2.1");
        for i in 0..=MAX_HOSTNAMES {
            h.add_hostname(&format!("h{i}.example.com"), "PTR");
        }
        h.ports = Some(
            (1..=MAX_NONOPEN_PORTS as i64)
                .map(|n| {
                    let mut p = Port::new("tcp", n);
                    p.state_state = Some("closed".into());
                    p.state_reason = Some("reset".into());
                    p
                })
                .collect(),
        );
        finalize(&mut h, None);
        assert!(h.hostnames.is_none());
        assert_eq!(tag_infos(&h, "CDN"), [TOO_MANY_HOSTNAMES]);
        assert!(h.ports.is_none());
        let closed = &h.extraports.as_ref().unwrap()["closed"];
        assert_eq!(closed.total, MAX_NONOPEN_PORTS as i64);
        assert_eq!(closed.reasons["reset"], MAX_NONOPEN_PORTS as i64);
        assert_eq!(h.openports.as_ref().unwrap().count, 0);
    }

    #[test]
    fn synack_honeypots_are_pruned() {
        let mut h = Host::new("192.0.2.1");
        h.ports = Some(
            (1..=300)
                .map(|n| {
                    let mut p = Port::new("tcp", n);
                    p.state_state = Some("open".into());
                    p
                })
                .collect(),
        );
        finalize(&mut h, None);
        assert!(h.ports.is_none());
        assert_eq!(tag_infos(&h, "Honeypot"), ["SYN+ACK honeypot"]);
    }
}
