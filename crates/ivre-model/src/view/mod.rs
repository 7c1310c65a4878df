//! The "view" purpose: one consolidated host record per address, built from
//! every scan result (nmap purpose) and every passive observation (passive
//! purpose) about that address (spec flow-view-data.md part 2).
//!
//! A view record has the same type as a scan host ([`scan::Host`]). Building
//! one is three pure steps, used by every writer:
//!
//! ```text
//! scan::Host      --from_scan-->     partial host \
//! PassiveRecord   --from_passive-->  partial host  |--merge_all--> host --finalize--> view record
//!                                                 /
//! ```
//!
//! * [`from_scan`] and [`from_passive`] turn one source record into a partial
//!   host (§2.4, §2.5);
//! * [`merge`] folds two partial hosts of the same address (§2.6);
//!   [`merge_all`] folds any number of them. The result does not depend on
//!   the order of the inputs (see [`merge`] for what that takes);
//! * [`finalize`] adds what is derived from the whole host: the open-port
//!   summary, the automatic tags (§2.7) and the `infos` of an [`Enrich`]
//!   source (§3.8).
//!
//! The view's `source` is always a list ([`scan::record::Source::Many`]),
//! sorted and without duplicates.

mod finalize;
mod merge;
mod passive;
mod scripts;

pub use finalize::{finalize, Enrich, MAX_HOSTNAMES, TOO_MANY_HOSTNAMES};
pub use merge::{merge, merge_all, recency};
pub use passive::from_passive;

use crate::scan::record::Source;
use crate::scan::{self, Host};

/// A scan record as a partial view host (§2.5): `source` becomes a sorted
/// list without duplicates (a missing or empty source gives an empty list),
/// `categories` are sorted without duplicates, `schema_version` is the
/// current one and a stored database id (`_id`) is dropped. Everything else
/// (ports, scripts, hostnames, traces, OS, CPEs, tags) is kept as it is.
pub fn from_scan(host: &scan::Host) -> Host {
    from_scan_owned(host.clone())
}

/// [`from_scan`] taking the record (no copy: for streams of records read
/// from the database).
pub fn from_scan_owned(host: scan::Host) -> Host {
    let mut out = host;
    out.extra.remove("_id");
    out.source = Some(Source::Many(source_list(out.source.as_ref())));
    if let Some(cats) = out.categories.as_mut() {
        cats.sort();
        cats.dedup();
    }
    out.schema_version = Some(scan::SCHEMA_VERSION);
    out
}

/// The view record of one address from all its partial hosts:
/// [`merge_all`] then [`finalize`]. `None` when there is no partial host.
pub fn build(hosts: impl IntoIterator<Item = Host>, enrich: Option<&dyn Enrich>) -> Option<Host> {
    let mut host = merge_all(hosts)?;
    finalize(&mut host, enrich);
    Some(host)
}

/// Adds a category (`ivre db2view --view-category`) to a partial or merged
/// host, keeping the list sorted and without duplicates.
pub fn add_category(host: &mut Host, category: &str) {
    let cats = host.categories.get_or_insert_with(Vec::new);
    if let Err(i) = cats.binary_search_by(|c| c.as_str().cmp(category)) {
        cats.insert(i, category.to_string());
    }
}

/// The sources of a record as a sorted list without duplicates or empty names.
pub(crate) fn source_list(source: Option<&Source>) -> Vec<String> {
    let mut list: Vec<String> = match source {
        None => Vec::new(),
        Some(Source::One(s)) => vec![s.clone()],
        Some(Source::Many(v)) => v.clone(),
    };
    list.retain(|s| !s.is_empty());
    list.sort();
    list.dedup();
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_records_get_a_sorted_source_list() {
        let mut h = Host::new("192.0.2.1");
        h.source = Some(Source::One("scan-1".into()));
        h.categories = Some(vec!["TEST".into(), "A".into(), "TEST".into()]);
        h.extra.insert("_id".into(), serde_json::json!("x"));
        let v = from_scan(&h);
        assert_eq!(v.source, Some(Source::Many(vec!["scan-1".into()])));
        assert_eq!(v.categories.as_deref().unwrap(), ["A", "TEST"]);
        assert!(!v.extra.contains_key("_id"));

        assert_eq!(from_scan_owned(h.clone()), v);
        h.source = Some(Source::One(String::new()));
        assert_eq!(from_scan(&h).source, Some(Source::Many(vec![])));
        h.source = None;
        assert_eq!(from_scan(&h).source, Some(Source::Many(vec![])));
    }

    #[test]
    fn build_merges_then_finalizes() {
        assert!(build(Vec::new(), None).is_none());
        let mut a = Host::new("192.0.2.1");
        let mut p = crate::scan::Port::new("tcp", 22);
        p.state_state = Some("open".into());
        a.ports = Some(vec![p]);
        let mut b = Host::new("192.0.2.1");
        b.add_mac("00:11:22:33:44:55");
        let h = build([a.clone(), b.clone()], None).unwrap();
        let mut expected = merge_all([a, b]).unwrap();
        finalize(&mut expected, None);
        assert_eq!(h, expected);
        assert_eq!(h.openports.as_ref().unwrap().count, 1);
    }

    #[test]
    fn view_category_is_added_once_in_order() {
        let mut h = Host::new("192.0.2.1");
        add_category(&mut h, "TEST");
        add_category(&mut h, "PASSIVE");
        add_category(&mut h, "TEST");
        assert_eq!(h.categories.as_deref().unwrap(), ["PASSIVE", "TEST"]);
    }
}
