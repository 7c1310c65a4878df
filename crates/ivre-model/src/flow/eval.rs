//! Filters evaluated on flows in memory: the reference meaning of every
//! leaf, which a storage compiler must give too (tests compare both), and
//! a way to filter a batch without a database.
//!
//! A list field is present when it has an element; a condition on an
//! absent field is false, so its negation is true. Values of different
//! types are never equal (`meta.http.status_code = "200"` does not match
//! the number 200), and are not ordered.

use std::cmp::Ordering;
use std::net::IpAddr;

use super::filter::{CmpOp, FlowField, FlowFilter, FlowLeaf, FlowValue, Quantifier, SlotWindow};
use super::meta::MetaValue;
use super::record::Flow;
use crate::filter::addr::AddrCond;
use crate::filter::Filter;

/// Whether `flow` matches `filter`.
pub fn matches(filter: &FlowFilter, flow: &Flow) -> bool {
    match filter {
        Filter::True => true,
        Filter::False => false,
        Filter::Leaf(leaf) => leaf_matches(leaf, flow),
        Filter::And(items) => items.iter().all(|f| matches(f, flow)),
        Filter::Or(items) => items.iter().any(|f| matches(f, flow)),
        Filter::Not(f) => !matches(f, flow),
    }
}

impl SlotWindow {
    /// Whether `flow` has a slot in the window.
    pub fn matches(&self, flow: &Flow) -> bool {
        self.is_unbounded()
            || flow.times.iter().any(|s| {
                self.after.is_none_or(|a| s.start >= a)
                    && self.before.is_none_or(|b| s.start < b)
                    && self.precision.is_none_or(|p| s.duration == p)
            })
    }
}

/// The values of a field on a flow (empty: absent).
fn values(field: &FlowField, flow: &Flow) -> Vec<FlowValue> {
    use FlowField::*;
    let int = |n: u64| FlowValue::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let counter = |pick: fn(&super::record::Counters) -> u64| {
        flow.counters.iter().map(|c| int(pick(c))).collect()
    };
    match field {
        SrcAddr => vec![FlowValue::Addr(flow.key.src)],
        DstAddr => vec![FlowValue::Addr(flow.key.dst)],
        Proto => vec![FlowValue::Text(flow.key.proto.clone())],
        Dport => flow.key.dport.map(|p| int(p.into())).into_iter().collect(),
        Type => flow
            .key
            .icmp_type
            .map(|t| int(t.into()))
            .into_iter()
            .collect(),
        Sports => flow.sports.iter().map(|p| int((*p).into())).collect(),
        Codes => flow.codes.iter().map(|c| int((*c).into())).collect(),
        Count => counter(|c| c.count),
        Csbytes => counter(|c| c.csbytes),
        Scbytes => counter(|c| c.scbytes),
        Cspkts => counter(|c| c.cspkts),
        Scpkts => counter(|c| c.scpkts),
        Firstseen => vec![FlowValue::Time(flow.firstseen)],
        Lastseen => vec![FlowValue::Time(flow.lastseen)],
        TimesStart => flow
            .times
            .iter()
            .map(|s| FlowValue::Time(s.start))
            .collect(),
        TimesDuration => flow.times.iter().map(|s| int(s.duration.into())).collect(),
        MetaKey { log, key } => flow
            .meta
            .get(log)
            .and_then(|m| m.keys.get(key))
            .into_iter()
            .flatten()
            .filter_map(meta_value)
            .collect(),
        MetaCounter { log, counter } => flow
            .meta
            .get(log)
            .and_then(|m| m.counters.get(counter))
            .map(|n| int(*n))
            .into_iter()
            .collect(),
        Times | Meta(_) => Vec::new(),
    }
}

fn meta_value(v: &MetaValue) -> Option<FlowValue> {
    match v {
        MetaValue::Bool(b) => Some(FlowValue::Bool(*b)),
        MetaValue::Int(n) => Some(FlowValue::Int(*n)),
        MetaValue::Str(s) => Some(FlowValue::Text(s.clone())),
        MetaValue::List(_) => None,
    }
}

fn exists(field: &FlowField, flow: &Flow) -> bool {
    match field {
        FlowField::Times => !flow.times.is_empty(),
        FlowField::Meta(log) => flow.meta.contains_key(log),
        FlowField::MetaKey { log, key } => flow
            .meta
            .get(log)
            .and_then(|m| m.keys.get(key))
            .is_some_and(|s| !s.is_empty()),
        f => !values(f, flow).is_empty(),
    }
}

fn len(field: &FlowField, flow: &Flow) -> usize {
    match field {
        FlowField::Times => flow.times.len(),
        FlowField::MetaKey { log, key } => flow
            .meta
            .get(log)
            .and_then(|m| m.keys.get(key))
            .map_or(0, |s| s.len()),
        f => values(f, flow).len(),
    }
}

fn order(a: &FlowValue, b: &FlowValue) -> Option<Ordering> {
    match (a, b) {
        (FlowValue::Addr(x), FlowValue::Addr(y)) => Some(x.cmp(y)),
        (FlowValue::Int(x), FlowValue::Int(y)) => Some(x.cmp(y)),
        (FlowValue::Bool(x), FlowValue::Bool(y)) => Some(x.cmp(y)),
        (FlowValue::Text(x), FlowValue::Text(y)) => Some(x.cmp(y)),
        (FlowValue::Time(x), FlowValue::Time(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(value: &FlowValue, op: CmpOp, against: &FlowValue) -> bool {
    let ord = order(value, against);
    match op {
        CmpOp::Eq => ord == Some(Ordering::Equal),
        CmpOp::Ne => ord != Some(Ordering::Equal),
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    }
}

fn quantified(values: Vec<FlowValue>, q: Quantifier, pred: impl Fn(&FlowValue) -> bool) -> bool {
    match q {
        Quantifier::Any => values.iter().any(pred),
        Quantifier::All => !values.is_empty() && values.iter().all(pred),
    }
}

/// Whether an address satisfies an address condition.
pub fn addr_matches(cond: &AddrCond, addr: &IpAddr) -> bool {
    match cond {
        AddrCond::Host(h) => h == addr,
        AddrCond::Net(net, len) => in_network(addr, net, *len),
        AddrCond::Range(a, b) => a <= addr && addr <= b && a.is_ipv4() == addr.is_ipv4(),
        AddrCond::Ipv4 => addr.is_ipv4(),
        AddrCond::Ipv6 => addr.is_ipv6(),
    }
}

fn in_network(addr: &IpAddr, net: &IpAddr, len: u8) -> bool {
    let (a, n, bits) = match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(*a).into(), u32::from(*n).into(), 32u32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(*a), u128::from(*n), 128u32),
        _ => return false,
    };
    let len = u32::from(len).min(bits);
    if len == 0 {
        return true;
    }
    let shift = 128 - len;
    let (a, n) = if bits == 32 {
        (a << 96, n << 96)
    } else {
        (a, n)
    };
    a >> shift == n >> shift
}

fn leaf_matches(leaf: &FlowLeaf, flow: &Flow) -> bool {
    match leaf {
        FlowLeaf::Exists(field) => exists(field, flow),
        FlowLeaf::Compare {
            field,
            quantifier,
            op,
            value,
        } => quantified(values(field, flow), *quantifier, |v| compare(v, *op, value)),
        FlowLeaf::Regex {
            field,
            quantifier,
            regex,
        } => {
            let Ok(re) = regex::RegexBuilder::new(&regex.pattern)
                .case_insensitive(regex.case_insensitive())
                .build()
            else {
                return false;
            };
            quantified(values(field, flow), *quantifier, |v| match v {
                FlowValue::Text(t) => re.is_match(t),
                _ => false,
            })
        }
        FlowLeaf::Network { field, net } => values(field, flow).iter().any(|v| match v {
            FlowValue::Addr(a) => addr_matches(net, a),
            _ => false,
        }),
        FlowLeaf::Len { field, op, len: n } => {
            let l = len(field, flow);
            l > 0
                && compare(
                    &FlowValue::Int(i64::try_from(l).unwrap_or(i64::MAX)),
                    *op,
                    &FlowValue::Int(*n),
                )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let a: IpAddr = "10.1.2.3".parse().unwrap();
        let net = |s: &str| AddrCond::net(s).unwrap();
        assert!(addr_matches(&net("10.0.0.0/8"), &a));
        assert!(!addr_matches(&net("10.0.0.0/16"), &a));
        assert!(addr_matches(&net("0.0.0.0/0"), &a));
        assert!(!addr_matches(&net("::/0"), &a));
        assert!(addr_matches(&net("10.1.2.3"), &a));
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(addr_matches(&net("2001:db8::/32"), &b));
        assert!(!addr_matches(&net("2001:db9::/32"), &b));
    }
}
