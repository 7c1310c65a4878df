//! Script-specific merges (spec §2.6, second table) and the `scanner` host
//! script built from passive observations of scanning clients.
//!
//! A union script keeps its structured value as a list: the newer record's
//! elements first, then the older elements it lacks (by the script's key).
//! The output is regenerated from the union (certificates) or is the union
//! of the output lines (one line per element for the scripts this module
//! builds). Any other script present on both sides: the newer copy wins.

use serde_json::{json, Map, Value};

use crate::scan::scripts::cert_output;
use crate::scan::Script;

/// Separates the certificates of a merged `ssl-cert` output.
pub const CERT_SEPARATOR: &str =
    "\n-------------------------------------------------------------------------------\n";

/// Merges two copies of one script (same id) of the same port.
pub(crate) fn merge_script(older: Script, newer: Script) -> Script {
    match newer.id.as_str() {
        "ssl-cert" | "ssl-cacert" => union_list(older, newer, &|v| field(v, "sha256"), true),
        "ssl-ja3-client" => union_list(older, newer, &|v| field(v, "md5"), false),
        "ssl-ja3-server" => union_list(
            older,
            newer,
            &|v| {
                json!([
                    field(v, "md5"),
                    v.get("client").map_or(Value::Null, |c| field(c, "md5"))
                ])
            },
            false,
        ),
        "ssl-ja4-client" => union_list(older, newer, &|v| field(v, "ja4"), false),
        "http-user-agent" => union_list(older, newer, &Value::clone, false),
        "http-app" => union_list(
            older,
            newer,
            &|v| json!([field(v, "application"), field(v, "path")]),
            false,
        ),
        "http-nuclei" | "network-nuclei" => union_list(
            older,
            newer,
            &|v| {
                json!([
                    field(v, "name"),
                    field(v, "url"),
                    field(v, "template"),
                    field(v, "host"),
                    field(v, "path")
                ])
            },
            false,
        ),
        "http-git" => merge_http_git(older, newer),
        "dns-zone-transfer"
        | "dns-domains"
        | "dns-domains-mx"
        | "dns-tls-rpt"
        | "dns-check-consistency" => merge_dns_lists(older, newer),
        "scanner" => merge_scanner(older, newer),
        _ => newer,
    }
}

fn field(v: &Value, key: &str) -> Value {
    v.get(key).cloned().unwrap_or(Value::Null)
}

/// The output lines of `newer`, then those of `older` it lacks.
fn union_lines(older: &str, newer: &str) -> String {
    let mut lines: Vec<&str> = newer.lines().collect();
    for l in older.lines() {
        if !lines.contains(&l) {
            lines.push(l);
        }
    }
    lines.join("\n")
}

/// Union of two list values by `key`; `certs` regenerates the certificate
/// output, otherwise the output lines are unioned. When either value is not
/// a list, the newer script wins.
fn union_list(older: Script, newer: Script, key: &dyn Fn(&Value) -> Value, certs: bool) -> Script {
    let (Some(Value::Array(old)), Some(Value::Array(new))) = (&older.data, &newer.data) else {
        return newer;
    };
    let mut all = new.clone();
    let mut keys: Vec<Value> = all.iter().map(key).collect();
    for v in old {
        let k = key(v);
        if !keys.contains(&k) {
            keys.push(k);
            all.push(v.clone());
        }
    }
    let output = if certs {
        all.iter()
            .map(cert_output)
            .collect::<Vec<_>>()
            .join(CERT_SEPARATOR)
    } else {
        union_lines(&older.output, &newer.output)
    };
    Script {
        output,
        data: Some(Value::Array(all)),
        ..newer
    }
}

/// `http-git`: per repository, the union of the files found.
fn merge_http_git(older: Script, newer: Script) -> Script {
    let (Some(Value::Array(old)), Some(Value::Array(new))) = (&older.data, &newer.data) else {
        return newer;
    };
    let mut all = new.clone();
    for repo in old {
        let name = field(repo, "repository");
        match all.iter_mut().find(|r| field(r, "repository") == name) {
            Some(Value::Object(r)) => {
                let mut files: Vec<Value> = r
                    .get("files-found")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for f in repo
                    .get("files-found")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if !files.contains(f) {
                        files.push(f.clone());
                    }
                }
                r.insert("files-found".into(), Value::Array(files));
            }
            _ => all.push(repo.clone()),
        }
    }
    Script {
        output: union_lines(&older.output, &newer.output),
        data: Some(Value::Array(all)),
        ..newer
    }
}

/// A domain name's labels from the TLD down (`www.example.com` sorts as
/// `com.example.www`).
fn domain_order(v: &Value) -> Vec<String> {
    let d = v
        .get("domain")
        .and_then(Value::as_str)
        .or(v.as_str())
        .unwrap_or_default();
    d.trim_end_matches('.')
        .rsplit('.')
        .map(str::to_ascii_lowercase)
        .collect()
}

/// `dns-*` lists: union of the elements, sorted in domain order.
fn merge_dns_lists(older: Script, newer: Script) -> Script {
    let (Some(Value::Array(old)), Some(Value::Array(new))) = (&older.data, &newer.data) else {
        return newer;
    };
    let mut all = new.clone();
    for v in old {
        if !all.contains(v) {
            all.push(v.clone());
        }
    }
    all.sort_by_key(domain_order);
    Script {
        output: union_lines(&older.output, &newer.output),
        data: Some(Value::Array(all)),
        ..newer
    }
}

/// The structured value of a `scanner` host script: what a scanning client
/// was seen doing. Every list is sorted and without duplicates, so that two
/// values merge by plain unions.
///
/// JSON: `{"ports": [{"proto", "port", "count"}], "scanners": [{"name",
/// "probes": [{"proto", "value"}]}], "probes": [{"proto", "value"}],
/// "http_uris": [{"method", "version", "uri"}], "dns_queries": [{"query",
/// "qtype", "qclass"}], "stun": [{...}]}` (empty members omitted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScannerData {
    /// `(protocol, port) -> count` of probes received.
    pub ports: std::collections::BTreeMap<(String, u16), u64>,
    /// Scanner name -> its probes `(protocol, value)`.
    pub scanners: std::collections::BTreeMap<String, Vec<(String, String)>>,
    /// Probe values that no scanner name was found for.
    pub probes: Vec<(String, String)>,
    pub http_uris: Vec<(String, String, String)>,
    pub dns_queries: Vec<(String, String, String)>,
    /// STUN requests (`type`, `length`, `transaction_id`, `magic`), as objects.
    pub stun: Vec<Value>,
}

impl ScannerData {
    /// Reads the structured value of a `scanner` script (unknown members ignored).
    pub fn from_value(v: &Value) -> ScannerData {
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let list = |k: &str| {
            v.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut d = ScannerData::default();
        for p in list("ports") {
            let port = p.get("port").and_then(Value::as_u64).unwrap_or(0);
            let count = p.get("count").and_then(Value::as_u64).unwrap_or(1);
            if let Ok(port) = u16::try_from(port) {
                *d.ports.entry((s(&p, "proto"), port)).or_default() += count;
            }
        }
        for sc in list("scanners") {
            let probes = sc
                .get("probes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| (s(p, "proto"), s(p, "value")))
                .collect();
            d.add_scanner(&s(&sc, "name"), probes);
        }
        d.probes = list("probes")
            .iter()
            .map(|p| (s(p, "proto"), s(p, "value")))
            .collect();
        d.http_uris = list("http_uris")
            .iter()
            .map(|u| (s(u, "method"), s(u, "version"), s(u, "uri")))
            .collect();
        d.dns_queries = list("dns_queries")
            .iter()
            .map(|q| (s(q, "query"), s(q, "qtype"), s(q, "qclass")))
            .collect();
        d.stun = list("stun");
        d.normalize();
        d
    }

    /// Adds a scanner name with its probes.
    pub fn add_scanner(&mut self, name: &str, probes: Vec<(String, String)>) {
        self.scanners
            .entry(name.to_string())
            .or_default()
            .extend(probes);
    }

    /// Adds everything `other` holds (counts are summed).
    pub fn union(&mut self, other: ScannerData) {
        for (k, c) in other.ports {
            *self.ports.entry(k).or_default() += c;
        }
        for (name, probes) in other.scanners {
            self.add_scanner(&name, probes);
        }
        self.probes.extend(other.probes);
        self.http_uris.extend(other.http_uris);
        self.dns_queries.extend(other.dns_queries);
        self.stun.extend(other.stun);
        self.normalize();
    }

    fn normalize(&mut self) {
        for probes in self.scanners.values_mut() {
            probes.sort();
            probes.dedup();
        }
        self.probes.sort();
        self.probes.dedup();
        self.http_uris.sort();
        self.http_uris.dedup();
        self.dns_queries.sort();
        self.dns_queries.dedup();
        self.stun.sort_by_key(Value::to_string);
        self.stun.dedup();
    }

    /// The JSON value (empty members omitted).
    pub fn to_value(&self) -> Value {
        let probe = |(proto, value): &(String, String)| json!({"proto": proto, "value": value});
        let mut m = Map::new();
        if !self.ports.is_empty() {
            let ports: Vec<Value> = self
                .ports
                .iter()
                .map(|((proto, port), count)| json!({"proto": proto, "port": port, "count": count}))
                .collect();
            m.insert("ports".into(), Value::Array(ports));
        }
        if !self.scanners.is_empty() {
            let scanners: Vec<Value> = self
                .scanners
                .iter()
                .map(|(name, probes)| {
                    let mut s = Map::new();
                    s.insert("name".into(), json!(name));
                    if !probes.is_empty() {
                        s.insert("probes".into(), probes.iter().map(probe).collect());
                    }
                    Value::Object(s)
                })
                .collect();
            m.insert("scanners".into(), Value::Array(scanners));
        }
        if !self.probes.is_empty() {
            m.insert("probes".into(), self.probes.iter().map(probe).collect());
        }
        if !self.http_uris.is_empty() {
            let uris = self
                .http_uris
                .iter()
                .map(|(method, version, uri)| json!({"method": method, "version": version, "uri": uri}))
                .collect();
            m.insert("http_uris".into(), uris);
        }
        if !self.dns_queries.is_empty() {
            let queries = self
                .dns_queries
                .iter()
                .map(|(query, qtype, qclass)| json!({"query": query, "qtype": qtype, "qclass": qclass}))
                .collect();
            m.insert("dns_queries".into(), queries);
        }
        if !self.stun.is_empty() {
            m.insert("stun".into(), Value::Array(self.stun.clone()));
        }
        Value::Object(m)
    }

    /// The human output: one line per kind of information.
    pub fn output(&self) -> String {
        let mut lines = Vec::new();
        if !self.ports.is_empty() {
            let ports: Vec<String> = self
                .ports
                .iter()
                .map(|((proto, port), count)| format!("{proto}/{port} ({count})"))
                .collect();
            lines.push(format!("Scanned port(s): {}", ports.join(", ")));
        }
        if !self.scanners.is_empty() {
            let names: Vec<&str> = self.scanners.keys().map(String::as_str).collect();
            lines.push(format!("Scanner(s): {}", names.join(", ")));
        }
        for (proto, value) in &self.probes {
            lines.push(format!("Probe ({proto}): {value}"));
        }
        for (method, version, uri) in &self.http_uris {
            lines.push(format!("HTTP request: {method} {uri} HTTP/{version}"));
        }
        for (query, qtype, qclass) in &self.dns_queries {
            lines.push(format!("DNS query: {query} {qclass} {qtype}"));
        }
        if !self.stun.is_empty() {
            lines.push(format!("STUN request(s): {}", self.stun.len()));
        }
        lines.join("\n")
    }

    /// The `scanner` script holding this value.
    pub fn into_script(self) -> Script {
        let mut s = Script::new("scanner", self.output());
        s.data = Some(self.to_value());
        s
    }
}

fn merge_scanner(older: Script, newer: Script) -> Script {
    let (Some(old), Some(new)) = (&older.data, &newer.data) else {
        return newer;
    };
    let mut d = ScannerData::from_value(new);
    d.union(ScannerData::from_value(old));
    Script {
        extra: newer.extra,
        ..d.into_script()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(id: &str, output: &str, data: Value) -> Script {
        let mut s = Script::new(id, output);
        s.data = Some(data);
        s
    }

    #[test]
    fn user_agents_are_unioned() {
        let a = script("http-user-agent", "curl/7.1", json!(["curl/7.1"]));
        let b = script("http-user-agent", "Wget", json!(["Wget"]));
        let m = merge_script(a, b);
        assert_eq!(m.data, Some(json!(["Wget", "curl/7.1"])));
        assert_eq!(m.output, "Wget\ncurl/7.1");
    }

    #[test]
    fn ja3_server_is_keyed_on_both_hashes() {
        let a = script(
            "ssl-ja3-server",
            "s1 - c1",
            json!([{"md5": "s1", "client": {"md5": "c1"}}]),
        );
        let b = script(
            "ssl-ja3-server",
            "s1 - c2",
            json!([{"md5": "s1", "client": {"md5": "c2"}}]),
        );
        let m = merge_script(a.clone(), b);
        assert_eq!(m.data.unwrap().as_array().unwrap().len(), 2);
        let m = merge_script(a.clone(), a);
        assert_eq!(m.data.unwrap().as_array().unwrap().len(), 1);
    }

    #[test]
    fn unknown_scripts_newer_wins() {
        let a = script("http-title", "old", json!({"title": "old"}));
        let b = script("http-title", "new", json!({"title": "new"}));
        assert_eq!(merge_script(a, b).output, "new");
    }

    #[test]
    fn scanner_values_merge_with_counts() {
        let mut a = ScannerData::default();
        a.ports.insert(("tcp".into(), 22), 2);
        a.add_scanner("Masscan", vec![("tcp".into(), "x".into())]);
        let mut b = ScannerData::default();
        b.ports.insert(("tcp".into(), 22), 1);
        b.ports.insert(("udp".into(), 53), 1);
        b.dns_queries
            .push(("example.com".into(), "A".into(), "IN".into()));
        let m = merge_scanner(a.clone().into_script(), b.clone().into_script());
        let back = ScannerData::from_value(m.data.as_ref().unwrap());
        assert_eq!(back.ports[&("tcp".into(), 22)], 3);
        assert_eq!(back.ports.len(), 2);
        assert_eq!(back.scanners.len(), 1);
        assert_eq!(
            m.output,
            "Scanned port(s): tcp/22 (3), udp/53 (1)\nScanner(s): Masscan\nDNS query: example.com IN A"
        );
        // Commutative
        let m2 = merge_scanner(b.into_script(), a.into_script());
        assert_eq!(m.data, m2.data);
    }

    #[test]
    fn dns_lists_sort_in_domain_order() {
        let a = script("dns-domains", "", json!([{"domain": "b.example.org"}]));
        let b = script("dns-domains", "", json!([{"domain": "a.example.com"}]));
        let m = merge_script(a, b);
        assert_eq!(
            m.data,
            Some(json!([{"domain": "a.example.com"}, {"domain": "b.example.org"}]))
        );
    }
}
