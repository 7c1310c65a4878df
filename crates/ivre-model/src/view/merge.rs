//! The merge rules of two partial hosts of one address (spec §2.6).
//!
//! Most rules are "newer wins" (the more recent record by `endtime`) or
//! unions. So that the view of a host does not depend on the order its
//! records were imported in:
//! * the "newer" record is decided by a total order ([`recency`]): `endtime`,
//!   then `starttime`, then the canonical JSON text of the records;
//! * every list the merge produces is sorted (ports by protocol and number,
//!   scripts by id, hostnames, CPEs, tags, traces, categories, sources) and
//!   every map has sorted keys.
//!
//! [`merge`] is commutative, and associative on records taken in time order
//! (`merge(merge(a, b), c) == merge(a, merge(b, c))` when `a`, `b`, `c` are
//! sorted by [`recency`]). In any other order it is not always: when the
//! newest record lacks a "newer wins" value (a port, a script), the value of
//! the newest record that has it is wanted, and a merged record has only
//! one `endtime` to tell how old its values are. [`merge_all`] therefore
//! sorts its inputs by [`recency`] and folds them oldest first: its result
//! only depends on the set of inputs. Build a host with `merge_all` over
//! all its records (or fold them in [`recency`] order), not by merging new
//! records into a stored view one at a time.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::finalize::{has_too_many_hostnames_tag, MAX_HOSTNAMES};
use super::scripts::merge_script;
use super::source_list;
use crate::scan::honeypot::{clean_synack_honeypot, is_real_service_port};
use crate::scan::record::{merge_tags, Cpe, Hostname, Port, Source, Trace};
use crate::scan::{Host, Script};

/// Merges two partial hosts of the same address (§2.6). See the module
/// documentation for the order guarantees.
pub fn merge(a: Host, b: Host) -> Host {
    match recency(&a, &b) {
        Ordering::Greater => merge_ordered(b, a),
        _ => merge_ordered(a, b),
    }
}

/// Merges any number of partial hosts of one address; `None` when there is
/// none. The inputs are sorted by [`recency`] first, so the result is the
/// same whatever order they come in.
pub fn merge_all(hosts: impl IntoIterator<Item = Host>) -> Option<Host> {
    let mut keyed: Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>, Host)> = hosts
        .into_iter()
        .map(|h| (end_key(&h), start_key(&h), h))
        .collect();
    keyed.sort_by_key(|k| (k.0, k.1));
    // Ties on the times are broken by the canonical text, computed for the
    // tied records only.
    let mut i = 0;
    while i < keyed.len() {
        let mut j = i + 1;
        while j < keyed.len() && (keyed[j].0, keyed[j].1) == (keyed[i].0, keyed[i].1) {
            j += 1;
        }
        if j - i > 1 {
            keyed[i..j].sort_by_cached_key(|k| canonical_text(&k.2));
        }
        i = j;
    }
    let mut hosts = keyed.into_iter().map(|k| k.2);
    let first = hosts.next()?;
    // A lone record is folded into an empty host too, so that it comes out
    // in the same normal form (sorted lists, openports) as a merged one.
    Some(hosts.fold(merge_ordered(Host::default(), first), merge_ordered))
}

/// The total order deciding which of two records is the newer one:
/// `endtime` (a missing one counts as the oldest), then `starttime`, then
/// the canonical JSON text (sorted keys).
pub fn recency(a: &Host, b: &Host) -> Ordering {
    (end_key(a), start_key(a))
        .cmp(&(end_key(b), start_key(b)))
        .then_with(|| canonical_text(a).cmp(&canonical_text(b)))
}

fn end_key(h: &Host) -> Option<NaiveDateTime> {
    h.endtime
}

fn start_key(h: &Host) -> Option<NaiveDateTime> {
    h.starttime
}

/// JSON text with every object's keys sorted.
fn canonical_text(h: &Host) -> String {
    serde_json::to_value(h)
        .map(|v| sorted_value(v).to_string())
        .unwrap_or_default()
}

/// A JSON value whose objects (recursively) have their keys sorted.
pub(crate) fn sorted_value(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(sorted_map(m)),
        Value::Array(a) => Value::Array(a.into_iter().map(sorted_value).collect()),
        other => other,
    }
}

/// A map with its keys sorted (recursively).
pub(crate) fn sorted_map(m: Map<String, Value>) -> Map<String, Value> {
    let sorted: BTreeMap<String, Value> = m.into_iter().collect();
    sorted
        .into_iter()
        .map(|(k, v)| (k, sorted_value(v)))
        .collect()
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The sorted union of two optional lists (`None` when both are `None`).
fn union_sorted(a: Option<Vec<String>>, b: Option<Vec<String>>) -> Option<Vec<String>> {
    if a.is_none() && b.is_none() {
        return None;
    }
    let mut all: Vec<String> = a.into_iter().chain(b).flatten().collect();
    all.sort();
    all.dedup();
    Some(all)
}

fn has_synack_honeypot_tag(h: &Host) -> bool {
    h.tags.iter().flatten().any(|t| {
        t.value == "Honeypot"
            && t.info
                .iter()
                .flatten()
                .any(|i| i == crate::scan::honeypot::SYNACK_HONEYPOT_INFO)
    })
}

/// Merges `older` into `newer`, `newer` being the more recent record.
fn merge_ordered(older: Host, newer: Host) -> Host {
    let mut older = older;
    let mut newer = newer;
    // A SYN-ACK honeypot's fake ports must not come back through the other side.
    if has_synack_honeypot_tag(&older) {
        retain_real_ports(&mut newer);
    }
    if has_synack_honeypot_tag(&newer) {
        retain_real_ports(&mut older);
    }
    let skip_hostnames = has_too_many_hostnames_tag(&older) || has_too_many_hostnames_tag(&newer);
    let mut out = Host {
        addr: if newer.addr.is_empty() {
            older.addr
        } else {
            newer.addr
        },
        starttime: min_opt(older.starttime, newer.starttime),
        endtime: max_opt(older.endtime, newer.endtime),
        state: if older.state.as_deref() == Some("up") {
            older.state
        } else {
            newer.state
        },
        state_reason: newer.state_reason.or(older.state_reason),
        state_reason_ttl: newer.state_reason_ttl.or(older.state_reason_ttl),
        categories: union_sorted(older.categories, newer.categories),
        source: merge_sources(older.source.as_ref(), newer.source.as_ref()),
        os: newer.os.or(older.os),
        traces: merge_traces(older.traces, newer.traces),
        cpes: merge_cpes(older.cpes, newer.cpes),
        infos: merge_maps(older.infos, newer.infos),
        addresses: merge_addresses(older.addresses, newer.addresses),
        extraports: match (older.extraports, newer.extraports) {
            (Some(e), None) | (None, Some(e)) => Some(e),
            _ => None,
        },
        ports: merge_ports(older.ports, newer.ports),
        schema_version: newer.schema_version.or(older.schema_version),
        hostnames: None,
        tags: None,
        openports: None,
        extra: merge_maps(Some(older.extra), Some(newer.extra)).unwrap_or_default(),
    };
    let mut tags = older.tags.take().unwrap_or_default();
    merge_tags(&mut tags, newer.tags.take().unwrap_or_default());
    if !skip_hostnames {
        let hostnames = merge_hostnames(older.hostnames, newer.hostnames);
        if hostnames.len() > MAX_HOSTNAMES {
            merge_tags(&mut tags, [super::finalize::too_many_hostnames_tag()]);
        } else if !hostnames.is_empty() {
            out.hostnames = Some(hostnames);
        }
    }
    out.tags = (!tags.is_empty()).then_some(tags);
    clean_synack_honeypot(&mut out);
    sort_tags(&mut out);
    out.recompute_openports();
    out
}

fn sort_tags(h: &mut Host) {
    if let Some(tags) = h.tags.as_mut() {
        tags.sort_by(|a, b| a.value.cmp(&b.value));
    }
}

/// Keeps the ports that show a real service (and the non-open ones).
fn retain_real_ports(h: &mut Host) {
    if let Some(ports) = h.ports.as_mut() {
        ports.retain(|p| !p.is_open() || is_real_service_port(p));
    }
}

fn merge_sources(older: Option<&Source>, newer: Option<&Source>) -> Option<Source> {
    if older.is_none() && newer.is_none() {
        return None;
    }
    let mut all = source_list(older);
    all.extend(source_list(newer));
    all.sort();
    all.dedup();
    Some(Source::Many(all))
}

/// Key-level union, the newer value winning; keys sorted. `None` when empty.
fn merge_maps(
    older: Option<Map<String, Value>>,
    newer: Option<Map<String, Value>>,
) -> Option<Map<String, Value>> {
    let mut all = older.unwrap_or_default();
    for (k, v) in newer.unwrap_or_default() {
        all.insert(k, v);
    }
    (!all.is_empty()).then(|| sorted_map(all))
}

/// Newer traces, plus older ones for a (protocol, port) the newer lack.
fn merge_traces(older: Option<Vec<Trace>>, newer: Option<Vec<Trace>>) -> Option<Vec<Trace>> {
    let mut all = newer.unwrap_or_default();
    for t in older.unwrap_or_default() {
        if !all
            .iter()
            .any(|n| n.protocol == t.protocol && n.port == t.port)
        {
            all.push(t);
        }
    }
    all.sort_by(|a, b| (&a.protocol, a.port).cmp(&(&b.protocol, b.port)));
    (!all.is_empty()).then_some(all)
}

fn cpe_key(c: &Cpe) -> (&str, &str, &str, &str) {
    (&c.kind, &c.vendor, &c.product, &c.version)
}

/// Newer CPEs; an older one equal but for its origins adds them.
fn merge_cpes(older: Option<Vec<Cpe>>, newer: Option<Vec<Cpe>>) -> Option<Vec<Cpe>> {
    let mut all = newer.unwrap_or_default();
    for c in older.unwrap_or_default() {
        match all.iter_mut().find(|n| cpe_key(n) == cpe_key(&c)) {
            Some(n) => n.origins.extend(c.origins),
            None => all.push(c),
        }
    }
    for c in &mut all {
        c.origins.sort();
        c.origins.dedup();
    }
    all.sort_by(|a, b| cpe_key(a).cmp(&cpe_key(b)));
    (!all.is_empty()).then_some(all)
}

/// Union by (type, name), the newer `domains` winning; sorted by name then type.
fn merge_hostnames(older: Option<Vec<Hostname>>, newer: Option<Vec<Hostname>>) -> Vec<Hostname> {
    let mut all = newer.unwrap_or_default();
    for h in older.unwrap_or_default() {
        if !all.iter().any(|n| n.kind == h.kind && n.name == h.name) {
            all.push(h);
        }
    }
    all.sort_by(|a, b| (&a.name, &a.kind).cmp(&(&b.name, &b.kind)));
    all.dedup_by(|a, b| a.name == b.name && a.kind == b.kind);
    all
}

/// Per type, the sorted union of lower-cased values.
fn merge_addresses(
    older: Option<BTreeMap<String, Vec<String>>>,
    newer: Option<BTreeMap<String, Vec<String>>>,
) -> Option<BTreeMap<String, Vec<String>>> {
    if older.is_none() && newer.is_none() {
        return None;
    }
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (kind, values) in older.into_iter().chain(newer).flatten() {
        all.entry(kind)
            .or_default()
            .extend(values.into_iter().map(|v| v.to_ascii_lowercase()));
    }
    for values in all.values_mut() {
        values.sort();
        values.dedup();
    }
    Some(all)
}

type PortKey = (Option<String>, i64);

fn port_key(p: &Port) -> PortKey {
    (p.protocol.clone(), p.port)
}

/// Protocol order with a missing protocol last, then the port number.
fn port_order(a: &Port, b: &Port) -> Ordering {
    match (&a.protocol, &b.protocol) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then(a.port.cmp(&b.port))
}

/// Ports keyed by (protocol, port): newer ports are the base, an older
/// port with the same key brings its missing scripts, its service when the
/// newer one has none (or its missing `service_*` keys for the same
/// service) and its screenshot; older ports with new keys are added.
fn merge_ports(older: Option<Vec<Port>>, newer: Option<Vec<Port>>) -> Option<Vec<Port>> {
    let mut by_key: BTreeMap<PortKey, Port> = BTreeMap::new();
    // One record may hold the same key twice (the host-script port of an
    // odd input): fold those first, later entries being the newer.
    for p in older.unwrap_or_default() {
        insert_port(&mut by_key, p);
    }
    let mut newer_by_key: BTreeMap<PortKey, Port> = BTreeMap::new();
    for p in newer.unwrap_or_default() {
        insert_port(&mut newer_by_key, p);
    }
    for (k, p) in newer_by_key {
        let merged = match by_key.remove(&k) {
            Some(old) => merge_port(old, p),
            None => p,
        };
        by_key.insert(k, merged);
    }
    let mut all: Vec<Port> = by_key.into_values().collect();
    for p in &mut all {
        sort_scripts(p);
    }
    all.sort_by(port_order);
    (!all.is_empty()).then_some(all)
}

fn insert_port(map: &mut BTreeMap<PortKey, Port>, p: Port) {
    let k = port_key(&p);
    let merged = match map.remove(&k) {
        Some(old) => merge_port(old, p),
        None => p,
    };
    map.insert(k, merged);
}

fn sort_scripts(p: &mut Port) {
    if let Some(scripts) = p.scripts.as_mut() {
        scripts.sort_by(|a, b| a.id.cmp(&b.id));
    }
}

/// Merges an older port into the newer port with the same key.
fn merge_port(older: Port, newer: Port) -> Port {
    let mut out = newer;
    let mut older = older;
    out.scripts = merge_scripts(older.scripts.take(), out.scripts.take());
    match (&out.service_name, &older.service_name) {
        (None, _) => copy_service(&older, &mut out, true),
        (Some(n), Some(o)) if n == o => copy_service(&older, &mut out, false),
        _ => {}
    }
    if out.screenshot.is_none() && out.screendata.is_none() && out.screenwords.is_none() {
        out.screenshot = older.screenshot;
        out.screendata = older.screendata;
        out.screenwords = older.screenwords;
    }
    out
}

/// Copies the `service_*` fields of `from`: all of them (`all`), or only
/// those `to` lacks.
fn copy_service(from: &Port, to: &mut Port, all: bool) {
    macro_rules! fields {
        ($($f:ident),*) => {
            $(
                if all || to.$f.is_none() {
                    if all || from.$f.is_some() {
                        to.$f = from.$f.clone();
                    }
                }
            )*
        };
    }
    fields!(
        service_name,
        service_product,
        service_version,
        service_extrainfo,
        service_ostype,
        service_devicetype,
        service_hostname,
        service_tunnel,
        service_method,
        service_conf,
        service_servicefp,
        service_proto,
        service_rpcnum,
        service_lowver,
        service_highver
    );
}

/// Scripts by id: newer ones kept (merged with the older copy when a
/// script-specific merge exists), older ones the newer port lacks added.
fn merge_scripts(older: Option<Vec<Script>>, newer: Option<Vec<Script>>) -> Option<Vec<Script>> {
    if older.is_none() && newer.is_none() {
        return None;
    }
    let mut all: Vec<Script> = Vec::new();
    for s in older
        .into_iter()
        .flatten()
        .chain(newer.into_iter().flatten())
    {
        match all.iter().position(|x| x.id == s.id) {
            Some(i) => {
                let old = all.swap_remove(i);
                all.push(merge_script(old, s));
            }
            None => all.push(s),
        }
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Some(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::record::{parse_datetime, ExtraPorts, Os};
    use crate::scan::Tag;
    use serde_json::json;

    fn host(end: &str) -> Host {
        let mut h = Host::new("192.0.2.1");
        h.starttime = parse_datetime(end);
        h.endtime = parse_datetime(end);
        h
    }

    fn open(proto: &str, n: i64) -> Port {
        let mut p = Port::new(proto, n);
        p.state_state = Some("open".into());
        p
    }

    fn script(id: &str, output: &str) -> Script {
        Script::new(id, output)
    }

    /// Both orders give the same result; returns it.
    fn both(a: &Host, b: &Host) -> Host {
        let ab = merge(a.clone(), b.clone());
        let ba = merge(b.clone(), a.clone());
        assert_eq!(
            serde_json::to_string(&ab).unwrap(),
            serde_json::to_string(&ba).unwrap()
        );
        ab
    }

    #[test]
    fn times_are_min_and_max() {
        let mut a = host("2021-01-01 00:00:00");
        a.endtime = parse_datetime("2021-03-01 00:00:00");
        let b = host("2021-02-01 00:00:00");
        let m = both(&a, &b);
        assert_eq!(m.starttime, parse_datetime("2021-01-01 00:00:00"));
        assert_eq!(m.endtime, parse_datetime("2021-03-01 00:00:00"));
        let mut c = Host::new("192.0.2.1");
        c.starttime = None;
        c.endtime = None;
        let m = both(&a, &c);
        assert_eq!(m.starttime, a.starttime);
        assert_eq!(m.endtime, a.endtime);
    }

    #[test]
    fn up_once_is_up_otherwise_the_newer_state() {
        let mut old = host("2021-01-01 00:00:00");
        let mut new = host("2021-02-01 00:00:00");
        old.state = Some("up".into());
        old.state_reason = Some("syn-ack".into());
        new.state = Some("down".into());
        let m = both(&old, &new);
        assert_eq!(m.state.as_deref(), Some("up"));
        assert_eq!(m.state_reason.as_deref(), Some("syn-ack"));
        new.state_reason = Some("no-response".into());
        assert_eq!(
            both(&old, &new).state_reason.as_deref(),
            Some("no-response")
        );
        old.state = Some("down".into());
        new.state = Some("up".into());
        assert_eq!(both(&old, &new).state.as_deref(), Some("up"));
        // A DNS answer (no state) newer than a down host: no state.
        new.state = None;
        assert_eq!(both(&old, &new).state, None);
    }

    #[test]
    fn categories_and_sources_are_sorted_unions() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        a.categories = Some(vec!["TEST".into()]);
        b.categories = Some(vec!["PASSIVE".into(), "TEST".into()]);
        a.source = Some(Source::One("scan-2".into()));
        b.source = Some(Source::Many(vec!["sensor".into(), "scan-1".into()]));
        let m = both(&a, &b);
        assert_eq!(m.categories.as_deref().unwrap(), ["PASSIVE", "TEST"]);
        assert_eq!(
            m.source,
            Some(Source::Many(vec![
                "scan-1".into(),
                "scan-2".into(),
                "sensor".into()
            ]))
        );
    }

    #[test]
    fn os_and_infos_newer_wins() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        a.os = Some(Os {
            fingerprint: Some("old".into()),
            ..Os::default()
        });
        let m = both(&a, &b);
        assert_eq!(m.os.unwrap().fingerprint.as_deref(), Some("old"));
        b.os = Some(Os {
            fingerprint: Some("new".into()),
            ..Os::default()
        });
        assert_eq!(both(&a, &b).os.unwrap().fingerprint.as_deref(), Some("new"));
        a.infos = json!({"city": "Paris", "as_num": 1}).as_object().cloned();
        b.infos = json!({"as_num": 2}).as_object().cloned();
        assert_eq!(
            serde_json::to_value(both(&a, &b).infos).unwrap(),
            json!({"as_num": 2, "city": "Paris"})
        );
    }

    #[test]
    fn traces_keep_the_newer_per_protocol_and_port() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        let trace = |proto: &str, port: i64, hops: usize| Trace {
            protocol: Some(proto.into()),
            port: Some(port),
            hops: vec![Default::default(); hops],
            extra: Map::new(),
        };
        a.traces = Some(vec![trace("tcp", 80, 1), trace("udp", 53, 1)]);
        b.traces = Some(vec![trace("tcp", 80, 2)]);
        let m = both(&a, &b);
        let t = m.traces.unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].port, t[0].hops.len()), (Some(80), 2));
        assert_eq!(t[1].protocol.as_deref(), Some("udp"));
    }

    #[test]
    fn cpes_merge_their_origins() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        a.add_cpe("cpe:/a:openbsd:openssh:8.9", "ports.port:22");
        a.add_cpe("cpe:/o:linux:linux_kernel", "os");
        b.add_cpe("cpe:/a:openbsd:openssh:8.9", "ports.port:2222");
        let m = both(&a, &b);
        let c = m.cpes.unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].origins, ["ports.port:22", "ports.port:2222"]);
        assert_eq!(c[1].kind, "o");
    }

    #[test]
    fn hostnames_union_and_limit() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        a.add_hostname("www.example.com", "PTR");
        a.add_hostname("www.example.com", "A");
        b.add_hostname("www.example.com", "PTR");
        b.add_hostname("mail.example.com", "A");
        let m = both(&a, &b);
        let names: Vec<(&str, &str)> = m
            .hostnames
            .iter()
            .flatten()
            .map(|h| (h.name.as_str(), h.kind.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("mail.example.com", "A"),
                ("www.example.com", "A"),
                ("www.example.com", "PTR")
            ]
        );
        // Beyond the limit: dropped, and the host is tagged.
        for i in 0..=MAX_HOSTNAMES {
            b.add_hostname(&format!("h{i}.example.com"), "A");
        }
        let m = both(&a, &b);
        assert!(m.hostnames.is_none());
        assert!(has_too_many_hostnames_tag(&m));
        // Once tagged, hostnames are no longer merged in.
        let mut c = host("2021-03-01 00:00:00");
        c.add_hostname("new.example.com", "PTR");
        assert!(both(&m, &c).hostnames.is_none());
    }

    #[test]
    fn mac_addresses_are_lower_case_unions() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        a.add_address("mac", "00:11:22:33:44:AA");
        b.add_mac("00:11:22:33:44:bb");
        b.add_mac("00:11:22:33:44:aa");
        let m = both(&a, &b);
        assert_eq!(
            m.addresses.unwrap()["mac"],
            ["00:11:22:33:44:aa", "00:11:22:33:44:bb"]
        );
    }

    #[test]
    fn tags_union_by_value_with_sorted_infos() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        a.add_tags([Tag::parse("Scanner:warning:B"), Tag::parse("TOR:info:x")]);
        b.add_tags([Tag::parse("Scanner:warning:A"), Tag::parse("CDN:info:c")]);
        let m = both(&a, &b);
        let t = m.tags.unwrap();
        let values: Vec<&str> = t.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(values, ["CDN", "Scanner", "TOR"]);
        assert_eq!(t[1].info.as_deref().unwrap(), ["A", "B"]);
    }

    #[test]
    fn a_synack_honeypot_tag_prunes_the_other_side() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        a.add_tags([Tag {
            value: "Honeypot".into(),
            kind: "warning".into(),
            info: Some(vec![crate::scan::honeypot::SYNACK_HONEYPOT_INFO.into()]),
            extra: Map::new(),
        }]);
        let mut real = open("tcp", 22);
        real.service_name = Some("ssh".into());
        let mut wrapped = open("tcp", 23);
        wrapped.service_name = Some("tcpwrapped".into());
        b.ports = Some(vec![real, wrapped, open("tcp", 24)]);
        let m = both(&a, &b);
        let ports: Vec<i64> = m.ports.iter().flatten().map(|p| p.port).collect();
        assert_eq!(ports, [22]);
    }

    #[test]
    fn extraports_only_from_one_side() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        let extra = || {
            let mut m = BTreeMap::new();
            m.insert(
                "closed".to_string(),
                ExtraPorts {
                    total: 997,
                    reasons: BTreeMap::new(),
                },
            );
            Some(m)
        };
        a.extraports = extra();
        assert!(both(&a, &b).extraports.is_some());
        b.extraports = extra();
        assert!(both(&a, &b).extraports.is_none());
    }

    #[test]
    fn same_port_merged_scripts_and_services() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        let mut old80 = open("tcp", 80);
        old80.service_name = Some("http".into());
        old80.service_product = Some("Apache httpd".into());
        old80.service_version = Some("2.4".into());
        old80.scripts = Some(vec![script("http-title", "old"), script("banner", "b")]);
        old80.screenshot = Some("field".into());
        old80.screendata = Some("AAAA".into());
        let mut new80 = open("tcp", 80);
        new80.service_name = Some("http".into());
        new80.service_product = Some("nginx".into());
        new80.scripts = Some(vec![script("http-title", "new")]);
        a.ports = Some(vec![old80.clone(), open("tcp", 22)]);
        b.ports = Some(vec![new80.clone(), open("udp", 53), Port::host_scripts()]);
        let m = both(&a, &b);
        let ports = m.ports.as_ref().unwrap();
        let keys: Vec<(Option<&str>, i64)> = ports
            .iter()
            .map(|p| (p.protocol.as_deref(), p.port))
            .collect();
        assert_eq!(
            keys,
            [
                (Some("tcp"), 22),
                (Some("tcp"), 80),
                (Some("udp"), 53),
                (None, -1)
            ]
        );
        let p80 = &ports[1];
        // Same service: the newer product, the older version (the newer has none).
        assert_eq!(p80.service_product.as_deref(), Some("nginx"));
        assert_eq!(p80.service_version.as_deref(), Some("2.4"));
        // Scripts: the newer copy wins, a missing one is added, sorted by id.
        let scripts: Vec<(&str, &str)> = p80
            .scripts
            .iter()
            .flatten()
            .map(|s| (s.id.as_str(), s.output.as_str()))
            .collect();
        assert_eq!(scripts, [("banner", "b"), ("http-title", "new")]);
        assert_eq!(p80.screendata.as_deref(), Some("AAAA"));

        // Different service names: the newer port's service stays whole.
        let mut other = new80.clone();
        other.service_name = Some("http-proxy".into());
        other.service_product = None;
        b.ports = Some(vec![other]);
        let m = both(&a, &b);
        let p80 = &m.ports.unwrap()[1];
        assert_eq!(p80.service_name.as_deref(), Some("http-proxy"));
        assert_eq!(p80.service_product, None);
        assert_eq!(p80.service_version, None);

        // No service on the newer port: every service field of the older.
        let mut bare = open("tcp", 80);
        bare.state_reason = Some("passive".into());
        b.ports = Some(vec![bare]);
        let m = both(&a, &b);
        let p80 = &m.ports.unwrap()[1];
        assert_eq!(p80.service_product.as_deref(), Some("Apache httpd"));
        assert_eq!(p80.state_reason.as_deref(), Some("passive"));
    }

    #[test]
    fn openports_follow_the_merged_ports() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-02-01 00:00:00");
        a.ports = Some(vec![open("tcp", 22)]);
        b.ports = Some(vec![open("tcp", 80), open("tcp", 22)]);
        let m = both(&a, &b);
        assert_eq!(
            serde_json::to_value(m.openports).unwrap(),
            json!({"count": 2, "tcp": {"count": 2, "ports": [22, 80]}})
        );
    }

    #[test]
    fn equal_times_still_give_one_result() {
        let mut a = host("2021-01-01 00:00:00");
        let mut b = host("2021-01-01 00:00:00");
        a.state_reason = Some("syn-ack".into());
        b.state_reason = Some("passive".into());
        a.os = Some(Os::default());
        both(&a, &b);
        let all = merge_all([a.clone(), b.clone()]).unwrap();
        let rev = merge_all([b, a]).unwrap();
        assert_eq!(all, rev);
    }

    #[test]
    fn merge_all_of_nothing_is_none() {
        assert!(merge_all(Vec::new()).is_none());
        let one = host("2021-01-01 00:00:00");
        assert_eq!(merge_all([one.clone()]).unwrap().addr, one.addr);
    }
}
