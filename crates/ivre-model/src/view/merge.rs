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
//! [`merge`] is commutative. It is associative on everything that is a
//! union, and on "newer wins" values whenever the newest record carries the
//! value; when it does not, the value of the newest record that has it is
//! wanted, which a fold cannot always know (a merged record has one
//! `endtime`). [`merge_all`] therefore sorts its inputs by [`recency`] and
//! folds them oldest first: its result only depends on the set of inputs.

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
    keyed.into_iter().map(|k| k.2).reduce(merge_ordered)
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
