//! Records as IVRE's MongoDB backend stores them, turned into IVRE JSON.
//!
//! MongoDB keeps addresses as two signed 64-bit integers `X_0` / `X_1` (the
//! high and low halves of the 128-bit address, each offset by -2^63, IPv4
//! mapped into `::ffff:0:0/96`). IVRE's JSON export turns them back into
//! strings; raw database dumps (such as the golden records of the test
//! corpus, whose traceroute hops carry `ipaddr_0` / `ipaddr_1`) need the same.

use serde_json::Value;
use std::net::{IpAddr, Ipv6Addr};

/// The address of a pair of MongoDB halves.
pub fn addr_from_halves(hi: i64, lo: i64) -> IpAddr {
    let hi = (hi as i128 + (1i128 << 63)) as u128;
    let lo = (lo as i128 + (1i128 << 63)) as u128;
    let v6 = Ipv6Addr::from((hi << 64) | lo);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

fn fix(obj: &mut serde_json::Map<String, Value>, key: &str) {
    let (k0, k1) = (format!("{key}_0"), format!("{key}_1"));
    if let (Some(hi), Some(lo)) = (
        obj.get(&k0).and_then(Value::as_i64),
        obj.get(&k1).and_then(Value::as_i64),
    ) {
        obj.remove(&k0);
        obj.remove(&k1);
        obj.insert(
            key.to_string(),
            Value::String(addr_from_halves(hi, lo).to_string()),
        );
    }
}

/// Rewrites MongoDB's split addresses (`addr`, hop `ipaddr`, port
/// `state_reason_ip`) as address strings, in place.
pub fn normalize_mongo_addresses(doc: &mut Value) {
    let Some(rec) = doc.as_object_mut() else {
        return;
    };
    fix(rec, "addr");
    if let Some(ports) = rec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            fix(p, "state_reason_ip");
        }
    }
    if let Some(traces) = rec.get_mut("traces").and_then(Value::as_array_mut) {
        for t in traces {
            if let Some(hops) = t.get_mut("hops").and_then(Value::as_array_mut) {
                for h in hops.iter_mut().filter_map(Value::as_object_mut) {
                    fix(h, "ipaddr");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves() {
        assert_eq!(
            addr_from_halves(-9223372036854775808, -9223090565781121022).to_string(),
            "23.92.24.2"
        );
        assert_eq!(
            addr_from_halves(-9223372036854775808, -9223372036854775807).to_string(),
            "::1"
        );
    }
}
