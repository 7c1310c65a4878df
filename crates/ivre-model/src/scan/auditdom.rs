//! `ivre-auditdom` (spec scans.md §2.15): the host records of a DNS audit,
//! built from the answers of a domain's name servers, and the Nmap-like XML
//! (scanner `ivre auditdom`) or IVRE JSON they are written as. No network
//! here: the tool asks the questions and hands the answers in.
//!
//! The checks, and the records each gives (the server's name, without its
//! trailing dot, as a `user` hostname):
//! - zone transfer (AXFR) from each name server address: on success, one
//!   record for the server with an open `tcp/PORT` `domain` port and a
//!   `dns-zone-transfer` script `[{domain, records: [{name, ttl, class,
//!   type, data}]}]`, plus one record per A / AAAA record of the zone
//!   (hostname of type `A` / `AAAA`, no port);
//! - consistency: the same question (`DOMAIN NS`, `DOMAIN MX`,
//!   `_smtp._tls.DOMAIN TXT`) asked to every server; each server whose
//!   answer differs from the most common one gets a `dns-check-consistency`
//!   script on `udp/PORT` `[{domain, name, rtype, value, reference_value}]`;
//! - `dns-domains` on `udp/PORT` of every server: `[{domain, parents}]`;
//! - `dns-domains-mx` on `tcp/25` of every address of every mail exchanger
//!   the servers named: `[{domain, parents, priority}]`;
//! - `dns-tls-rpt` on `udp/PORT` of every server: its TLS-RPT record
//!   (RFC 8460) `[{domain, value?, warnings?}]`.

use crate::scan::output::{nmap_xml_host, xml_escape};
use crate::scan::record::{format_datetime, name_domains, Host, Port};
use crate::scan::script::Script;
use chrono::NaiveDateTime;
use regex::Regex;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::OnceLock;

/// One resource record of an answer, in presentation format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneRecord {
    /// Owner name, with its trailing dot, as the server sent it.
    pub name: String,
    pub ttl: u32,
    pub class: String,
    pub rtype: String,
    pub data: String,
}

/// One address of one of the domain's name servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The name server's name (trailing dot or not).
    pub name: String,
    pub addr: IpAddr,
    /// The DNS port asked (53 but in tests).
    pub port: u16,
}

/// When a check ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

/// A record for `addr` named `name` (type `kind`), up, in `w`.
fn host(addr: &IpAddr, name: &str, kind: &str, w: Window) -> Host {
    let mut h = Host::new(addr.to_string());
    h.state = Some("up".into());
    h.add_hostname(name, kind);
    h.starttime = Some(w.start);
    h.endtime = Some(w.end);
    h
}

/// Adds one port holding one script; `service`: the port is open and runs it.
fn add_port(h: &mut Host, proto: &str, port: u16, service: bool, script: Script) {
    let mut p = Port::new(proto, port.into());
    if service {
        p.state_state = Some("open".into());
        p.service_name = Some("domain".into());
    }
    p.scripts = Some(vec![script]);
    h.ports.get_or_insert_with(Vec::new).push(p);
    h.recompute_openports();
}

fn script(id: &str, output: String, data: Value) -> Script {
    let mut s = Script::new(id, output);
    s.data = Some(data);
    s
}

fn bare(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The records of a successful zone transfer of `domain` from `server`.
pub fn zone_transfer(
    domain: &str,
    server: &Server,
    records: &[ZoneRecord],
    w: Window,
) -> Vec<Host> {
    let domain = bare(domain);
    let mut out = Vec::new();
    let mut h = host(&server.addr, &server.name, "user", w);
    let name_w = records.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let type_w = records.iter().map(|r| r.rtype.len()).max().unwrap_or(0);
    let mut text = format!("\nDomain: {domain}\n");
    for r in records {
        text.push_str(&format!(
            "| {:name_w$}  {:type_w$}  {}\n",
            r.name, r.rtype, r.data
        ));
    }
    text.push_str("\\\n");
    let data = json!([{
        "domain": domain,
        "records": records.iter().map(|r| json!({
            "name": r.name,
            "ttl": r.ttl.to_string(),
            "class": r.class,
            "type": r.rtype,
            "data": r.data,
        })).collect::<Vec<_>>(),
    }]);
    add_port(
        &mut h,
        "tcp",
        server.port,
        true,
        script("dns-zone-transfer", text, data),
    );
    out.push(h);
    for r in records {
        if matches!(r.rtype.as_str(), "A" | "AAAA") {
            if let Ok(addr) = r.data.trim().parse::<IpAddr>() {
                let h = host(&addr, &r.name, &r.rtype, w);
                if h.hostnames.is_some() {
                    out.push(h);
                }
            }
        }
    }
    out
}

/// The answer most servers gave: ties go to a non-empty answer, then to
/// the first server's.
fn reference(answers: &[(Server, BTreeSet<String>)]) -> Option<&BTreeSet<String>> {
    let mut counts: Vec<(&BTreeSet<String>, usize)> = Vec::new();
    for (_, a) in answers {
        match counts.iter_mut().find(|(v, _)| *v == a) {
            Some((_, n)) => *n += 1,
            None => counts.push((a, 1)),
        }
    }
    let mut best: Option<(&BTreeSet<String>, usize)> = None;
    for (v, n) in counts {
        let better = match best {
            None => true,
            Some((bv, bn)) => n > bn || (n == bn && bv.is_empty() && !v.is_empty()),
        };
        if better {
            best = Some((v, n));
        }
    }
    best.map(|(v, _)| v)
}

/// Python's `repr` of a string, as IVRE prints the values.
fn repr(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// `dns-check-consistency` records: the servers whose answer to
/// `name rtype` is not the most common one (a server that did not answer
/// counts as an empty answer).
pub fn consistency(
    domain: &str,
    name: &str,
    rtype: &str,
    answers: &[(Server, BTreeSet<String>)],
    w: Window,
) -> Vec<Host> {
    let domain = bare(domain);
    let name = bare(name);
    let Some(reference) = reference(answers) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (server, value) in answers {
        if value == reference {
            continue;
        }
        let lines = |v: &BTreeSet<String>| {
            v.iter()
                .map(|x| format!("  {}", repr(x)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let text = format!(
            "DNS inconsistency\n\n{name} ({rtype})\nThis server:\n{}\nMost common answer:\n{}",
            lines(value),
            lines(reference)
        );
        let data = json!([{
            "domain": domain,
            "name": name,
            "rtype": rtype,
            "value": value.iter().collect::<Vec<_>>(),
            "reference_value": reference.iter().collect::<Vec<_>>(),
        }]);
        let mut h = host(&server.addr, &server.name, "user", w);
        add_port(
            &mut h,
            "udp",
            server.port,
            true,
            script("dns-check-consistency", text, data),
        );
        out.push(h);
    }
    out
}

/// `dns-domains` records: each server is authoritative for `domain`.
pub fn domains(domain: &str, servers: &[Server], w: Window) -> Vec<Host> {
    let domain = bare(domain);
    servers
        .iter()
        .map(|server| {
            let mut h = host(&server.addr, &server.name, "user", w);
            add_port(
                &mut h,
                "udp",
                server.port,
                true,
                script(
                    "dns-domains",
                    format!("Server is authoritative for {domain}"),
                    json!([{"domain": domain, "parents": name_domains(&domain)}]),
                ),
            );
            h
        })
        .collect()
}

/// One mail exchanger: `(priority, name, addresses)`.
pub type Exchanger = (String, String, Vec<IpAddr>);

/// Splits an MX record's data (`10 mail.example.com.`).
pub fn parse_mx(data: &str) -> Option<(String, String)> {
    let (prio, name) = data.trim().split_once(char::is_whitespace)?;
    prio.parse::<u16>().ok()?;
    let name = bare(name.trim());
    (!name.is_empty()).then(|| (prio.to_string(), name))
}

/// `dns-domains-mx` records: each address of each exchanger, on `tcp/25`.
pub fn mail_exchangers(domain: &str, exchangers: &[Exchanger], w: Window) -> Vec<Host> {
    let domain = bare(domain);
    let mut out = Vec::new();
    for (prio, name, addrs) in exchangers {
        for addr in addrs {
            let mut h = host(addr, name, "user", w);
            add_port(
                &mut h,
                "tcp",
                25,
                false,
                script(
                    "dns-domains-mx",
                    format!("Server is Mail eXchanger for {domain} (priority {prio})"),
                    json!([{
                        "domain": domain,
                        "parents": name_domains(&domain),
                        "priority": prio,
                    }]),
                ),
            );
            out.push(h);
        }
    }
    out
}

/// The text of a TXT record in presentation format (`"a" "b"` gives `ab`).
pub fn txt_text(data: &str) -> String {
    let mut out = Vec::new();
    let mut bytes = data.bytes().peekable();
    let mut quoted = false;
    while let Some(b) = bytes.next() {
        match b {
            b'"' => quoted = !quoted,
            b'\\' => {
                let digits: Vec<u8> = std::iter::from_fn(|| bytes.next_if(u8::is_ascii_digit))
                    .take(3)
                    .collect();
                if digits.len() == 3 {
                    let n = digits
                        .iter()
                        .fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
                    out.push(u8::try_from(n).unwrap_or(b'?'));
                } else if !digits.is_empty() {
                    out.extend_from_slice(&digits);
                } else if let Some(c) = bytes.next() {
                    out.push(c);
                }
            }
            b' ' | b'\t' if !quoted => {}
            _ => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn https_ok(rest: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}\.?|localhost|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?::\d{1,5})?(?:[/?#]\S*)?$",
        )
        .expect("valid regex")
    })
    .is_match(rest)
}

fn mailto_ok(rest: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").expect("valid regex"))
        .is_match(rest)
}

/// The warnings about one TLS-RPT record (RFC 8460 §3: `v=TLSRPTv1`, then
/// `;`-separated fields, white space allowed around the `;`, one of them
/// `rua=` with a comma-separated list of `https:` and `mailto:` URIs).
pub fn tls_rpt_warnings(value: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    let fields: Vec<&str> = value.split(';').map(str::trim).collect();
    if fields.first() != Some(&"v=TLSRPTv1") {
        warnings.push("TLS-RPT configuration should start with 'v=TLSRPTv1;'".to_string());
    }
    let Some(rua) = fields.iter().find_map(|f| f.strip_prefix("rua=")) else {
        warnings.push(format!(
            "TLS-RPT does not contain an rua entry: {}",
            repr(value)
        ));
        return warnings;
    };
    for uri in rua.split(',').map(str::trim) {
        if let Some(rest) = uri.strip_prefix("https://") {
            if !https_ok(rest) {
                warnings.push(format!(
                    "TLS-RPT contains an invalid HTTPS URL: {}",
                    repr(uri)
                ));
            }
        } else if let Some(rest) = uri.strip_prefix("mailto:") {
            if !mailto_ok(rest) {
                warnings.push(format!(
                    "TLS-RPT contains an invalid e-mail URL: {}",
                    repr(uri)
                ));
            }
        } else {
            warnings.push(format!("TLS-RPT contains an invalid URL: {}", repr(uri)));
        }
    }
    warnings
}

/// `dns-tls-rpt` records: what each server answers for
/// `_smtp._tls.DOMAIN TXT` (the TXT data in presentation format).
pub fn tls_rpt(domain: &str, answers: &[(Server, BTreeSet<String>)], w: Window) -> Vec<Host> {
    let domain = bare(domain);
    answers
        .iter()
        .map(|(server, txts)| {
            let values: Vec<String> = txts.iter().map(|t| txt_text(t)).collect();
            let (text, data) = match values.as_slice() {
                [] => (
                    format!("Domain {domain} has no TLS-RPT configuration"),
                    json!({"domain": domain, "warnings": ["Domain has no TLS-RPT configuration"]}),
                ),
                [value] => {
                    let warnings = tls_rpt_warnings(value);
                    if warnings.is_empty() {
                        (
                            format!("Domain {domain} has a valid TLS-RPT configuration"),
                            json!({"domain": domain, "value": value}),
                        )
                    } else {
                        (
                            format!(
                                "Domain {domain} has a TLS-RPT configuration with warnings:\n{}",
                                warnings.join("\n")
                            ),
                            json!({"domain": domain, "value": value, "warnings": warnings}),
                        )
                    }
                }
                _ => (
                    format!("Domain {domain} has more than one TLS-RPT configuration"),
                    json!({
                        "domain": domain,
                        "value": values.join(" / "),
                        "warnings": ["Domain has more than one TLS-RPT configuration"],
                    }),
                ),
            };
            let mut h = host(&server.addr, &server.name, "user", w);
            add_port(
                &mut h,
                "udp",
                server.port,
                true,
                script("dns-tls-rpt", text, json!([data])),
            );
            h
        })
        .collect()
}

/// The answers of the servers as sets of record data (for the checks).
pub fn answer_set(records: &[ZoneRecord]) -> BTreeSet<String> {
    records.iter().map(|r| r.data.clone()).collect()
}

/// Groups the addresses of the exchangers named in `answers` (MX data),
/// in priority then name order.
pub fn exchangers_named(answers: &[(Server, BTreeSet<String>)]) -> Vec<(String, String)> {
    let mut all: BTreeMap<(u16, String), String> = BTreeMap::new();
    for (_, set) in answers {
        for data in set {
            if let Some((prio, name)) = parse_mx(data) {
                let n = prio.parse::<u16>().unwrap_or(u16::MAX);
                all.insert((n, name), prio);
            }
        }
    }
    all.into_iter()
        .map(|((_, name), prio)| (prio, name))
        .collect()
}

/// The `<nmaprun>` opening of the XML output.
pub fn xml_header(
    w: &mut impl Write,
    args: &str,
    start: NaiveDateTime,
    version: &str,
) -> io::Result<()> {
    writeln!(
        w,
        "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun>\n\
         <nmaprun scanner=\"ivre auditdom\" args=\"{}\" start=\"{}\" startstr=\"{}\" \
         version=\"{}\" xmloutputversion=\"1.04\">\n\
         <scaninfo type=\"audit DNS domain\" protocol=\"dns\" numservices=\"1\" services=\"53\"/>",
        xml_escape(args),
        start.and_utc().timestamp(),
        xml_escape(&format_datetime(&start)),
        xml_escape(version),
    )
}

/// One `<host>` element.
pub fn xml_host(w: &mut impl Write, h: &Host) -> io::Result<()> {
    let v = serde_json::to_value(h).map_err(io::Error::other)?;
    nmap_xml_host(w, &v)
}

/// The `<runstats>` and the closing tag of the XML output.
pub fn xml_footer(
    w: &mut impl Write,
    end: NaiveDateTime,
    elapsed: f64,
    hosts: u64,
) -> io::Result<()> {
    writeln!(
        w,
        "<runstats><finished time=\"{}\" timestr=\"{}\" elapsed=\"{elapsed:.2}\" exit=\"success\"/>\
         <hosts up=\"{hosts}\" down=\"0\" total=\"{hosts}\"/></runstats>\n</nmaprun>",
        end.and_utc().timestamp(),
        xml_escape(&format_datetime(&end)),
    )
}

/// One line of the JSON output.
pub fn json_host(w: &mut impl Write, h: &Host) -> io::Result<()> {
    serde_json::to_writer(&mut *w, h).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> Window {
        let t = crate::scan::record::parse_datetime("2024-01-02 03:04:05").unwrap();
        Window { start: t, end: t }
    }

    fn server(name: &str, addr: &str) -> Server {
        Server {
            name: name.into(),
            addr: addr.parse().unwrap(),
            port: 53,
        }
    }

    fn rr(name: &str, rtype: &str, data: &str) -> ZoneRecord {
        ZoneRecord {
            name: name.into(),
            ttl: 3600,
            class: "IN".into(),
            rtype: rtype.into(),
            data: data.into(),
        }
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn zone_transfer_records() {
        let recs = [
            rr(
                "example.com.",
                "SOA",
                "ns1.example.com. h.example.com. 1 2 3 4 5",
            ),
            rr("www.example.com.", "A", "192.0.2.1"),
            rr("v6.example.com.", "AAAA", "2001:db8::1"),
            rr("bad.example.com.", "A", "not an address"),
            rr(
                "example.com.",
                "SOA",
                "ns1.example.com. h.example.com. 1 2 3 4 5",
            ),
        ];
        let out = zone_transfer(
            "Example.com.",
            &server("ns1.example.com.", "192.0.2.53"),
            &recs,
            w(),
        );
        assert_eq!(out.len(), 3);
        let v = serde_json::to_value(&out[0]).unwrap();
        assert_eq!(v["hostnames"][0]["name"], "ns1.example.com");
        assert_eq!(v["hostnames"][0]["type"], "user");
        let p = &v["ports"][0];
        assert_eq!(
            (p["protocol"].as_str(), p["port"].as_i64()),
            (Some("tcp"), Some(53))
        );
        assert_eq!(p["service_name"], "domain");
        let s = &p["scripts"][0];
        assert_eq!(s["id"], "dns-zone-transfer");
        assert_eq!(s["dns-zone-transfer"][0]["domain"], "example.com");
        assert_eq!(
            s["dns-zone-transfer"][0]["records"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        assert_eq!(s["dns-zone-transfer"][0]["records"][1]["ttl"], "3600");
        assert!(s["output"]
            .as_str()
            .unwrap()
            .contains("\n| www.example.com.  A     192.0.2.1\n"));
        assert_eq!(out[0].openports.as_ref().unwrap().count, 1);
        let names: Vec<_> = out[1..]
            .iter()
            .map(|h| {
                (
                    h.addr.as_str(),
                    h.hostnames.as_ref().unwrap()[0].kind.as_str(),
                )
            })
            .collect();
        assert_eq!(names, [("192.0.2.1", "A"), ("2001:db8::1", "AAAA")]);
    }

    #[test]
    fn consistency_and_reference() {
        let a = set(&["ns1.example.com.", "ns2.example.com."]);
        let answers = vec![
            (server("ns1", "192.0.2.1"), a.clone()),
            (server("ns2", "192.0.2.2"), set(&[])),
            (server("ns3", "192.0.2.3"), a.clone()),
        ];
        let out = consistency("example.com", "example.com", "NS", &answers, w());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].addr, "192.0.2.2");
        let v = serde_json::to_value(&out[0]).unwrap();
        let s = &v["ports"][0]["scripts"][0];
        assert_eq!(s["dns-check-consistency"][0]["value"], json!([]));
        assert_eq!(
            s["dns-check-consistency"][0]["reference_value"],
            json!(["ns1.example.com.", "ns2.example.com."])
        );
        assert_eq!(
            s["output"],
            "DNS inconsistency\n\nexample.com (NS)\nThis server:\n\nMost common answer:\n  'ns1.example.com.'\n  'ns2.example.com.'"
        );
        // a tie between an answer and no answer: the answer is the reference
        let out = consistency("example.com", "example.com", "NS", &answers[..2], w());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].addr, "192.0.2.2");
        // all agree: nothing
        assert!(consistency("example.com", "example.com", "NS", &answers[..1], w()).is_empty());
        assert!(consistency("example.com", "example.com", "NS", &[], w()).is_empty());
    }

    #[test]
    fn tls_rpt_checks() {
        assert!(tls_rpt_warnings("v=TLSRPTv1; rua=mailto:tls@example.com").is_empty());
        assert!(tls_rpt_warnings("v=TLSRPTv1;rua=https://r.example.com/x,mailto:a@b.c").is_empty());
        assert_eq!(
            tls_rpt_warnings("v=TLSRPTv1; rua=https://bad"),
            ["TLS-RPT contains an invalid HTTPS URL: 'https://bad'"]
        );
        assert_eq!(
            tls_rpt_warnings("rua=ftp://x"),
            [
                "TLS-RPT configuration should start with 'v=TLSRPTv1;'",
                "TLS-RPT contains an invalid URL: 'ftp://x'"
            ]
        );
        assert_eq!(
            tls_rpt_warnings("v=TLSRPTv1"),
            ["TLS-RPT does not contain an rua entry: 'v=TLSRPTv1'"]
        );
        let answers = vec![
            (
                server("ns1", "192.0.2.1"),
                set(&["\"v=TLSRPTv1; \" \"rua=mailto:a@b.example\""]),
            ),
            (server("ns2", "192.0.2.2"), set(&[])),
            (
                server("ns3", "192.0.2.3"),
                set(&["\"v=TLSRPTv1;rua=mailto:a@b.example\"", "\"x\""]),
            ),
        ];
        let out: Vec<Value> = tls_rpt("example.com", &answers, w())
            .iter()
            .map(|h| serde_json::to_value(h).unwrap()["ports"][0]["scripts"][0].clone())
            .collect();
        assert_eq!(
            out[0]["output"],
            "Domain example.com has a valid TLS-RPT configuration"
        );
        assert_eq!(
            out[0]["dns-tls-rpt"][0]["value"],
            "v=TLSRPTv1; rua=mailto:a@b.example"
        );
        assert_eq!(
            out[1]["dns-tls-rpt"][0]["warnings"][0],
            "Domain has no TLS-RPT configuration"
        );
        assert_eq!(
            out[2]["output"],
            "Domain example.com has more than one TLS-RPT configuration"
        );
    }

    #[test]
    fn txt_and_mx() {
        assert_eq!(txt_text("\"a b\" \"c\\\"d\\059\""), "a bc\"d;");
        assert_eq!(txt_text("\"\\"), "");
        assert_eq!(
            parse_mx("10 mail.example.com."),
            Some(("10".into(), "mail.example.com".into()))
        );
        assert_eq!(parse_mx("x mail"), None);
        assert_eq!(parse_mx("10"), None);
        let answers = vec![
            (
                server("ns1", "192.0.2.1"),
                set(&["20 b.example.", "10 a.example."]),
            ),
            (server("ns2", "192.0.2.2"), set(&["10 a.example."])),
        ];
        assert_eq!(
            exchangers_named(&answers),
            [
                ("10".to_string(), "a.example".to_string()),
                ("20".into(), "b.example".into())
            ]
        );
        let out = mail_exchangers(
            "example.com",
            &[(
                "10".into(),
                "a.example".into(),
                vec!["192.0.2.25".parse().unwrap()],
            )],
            w(),
        );
        let v = serde_json::to_value(&out[0]).unwrap();
        assert_eq!(v["ports"][0]["port"], 25);
        assert_eq!(
            v["ports"][0]["scripts"][0]["output"],
            "Server is Mail eXchanger for example.com (priority 10)"
        );
        assert_eq!(
            v["ports"][0]["scripts"][0]["dns-domains-mx"][0]["parents"],
            json!(["example.com", "com"])
        );
    }

    #[test]
    fn xml_output() {
        let recs = [
            rr("example.com.", "SOA", "a. b. 1 2 3 4 5"),
            rr("w.example.com.", "A", "192.0.2.1"),
        ];
        let mut out = Vec::new();
        xml_header(&mut out, "ivre-auditdom example.com", w().start, "0.1").unwrap();
        for h in zone_transfer("example.com", &server("ns1", "192.0.2.53"), &recs, w()) {
            xml_host(&mut out, &h).unwrap();
        }
        for h in domains("example.com", &[server("ns1", "192.0.2.53")], w()) {
            xml_host(&mut out, &h).unwrap();
        }
        xml_footer(&mut out, w().end, 0.5, 3).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("scanner=\"ivre auditdom\""));
        assert!(text.contains("<script id=\"dns-zone-transfer\""));
        assert!(text.contains("<script id=\"dns-domains\""));
        assert!(text.ends_with("</nmaprun>\n"));
    }
}
