//! IVRE's post-processing of the records the web API returns: dates as
//! integer epoch seconds (unless `datesasstrings`), addresses as integers
//! with `ipsasnumbers`, hops sorted by TTL, the projection of `fields:`,
//! Masscan's raw bytes removed.

use chrono::NaiveDateTime;
use serde_json::{Map, Value};
use std::net::IpAddr;

#[derive(Debug, Clone, Default)]
pub struct RenderOpts {
    pub ips_as_numbers: bool,
    pub dates_as_strings: bool,
    /// `fields:` paths (dotted); empty: the whole record.
    pub fields: Vec<String>,
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC) as epoch seconds.
pub fn epoch(s: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

fn date_to_epoch(v: &mut Value) {
    if let Some(n) = v.as_str().and_then(epoch) {
        *v = Value::from(n);
    }
}

/// An address as IVRE's `ipsasnumbers` gives it (IPv6 beyond 2^64 as a
/// decimal string: JSON numbers that large lose precision in clients).
pub fn addr_number(a: &str) -> Value {
    match a.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => Value::from(u32::from(v4)),
        Ok(IpAddr::V6(v6)) => {
            let n = u128::from(v6);
            match u64::try_from(n) {
                Ok(n) => Value::from(n),
                Err(_) => Value::from(n.to_string()),
            }
        }
        Err(_) => Value::from(a),
    }
}

/// A scan host record, as `/scans` returns it.
pub fn scan_record(mut doc: Value, o: &RenderOpts) -> Value {
    if let Some(m) = doc.as_object_mut() {
        m.remove("_id");
        if !o.dates_as_strings {
            for k in ["starttime", "endtime"] {
                if let Some(v) = m.get_mut(k) {
                    date_to_epoch(v);
                }
            }
            for port in array_mut(m, "ports") {
                for script in port
                    .get_mut("scripts")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    if let Some(certs) = script.get_mut("ssl-cert").and_then(Value::as_array_mut) {
                        for c in certs {
                            for k in ["not_before", "not_after"] {
                                if let Some(v) = c.get_mut(k) {
                                    date_to_epoch(v);
                                }
                            }
                        }
                    }
                }
            }
        }
        for port in array_mut(m, "ports") {
            for script in port
                .get_mut("scripts")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(ms) = script.get_mut("masscan").and_then(Value::as_object_mut) {
                    ms.remove("raw");
                }
            }
        }
        if o.ips_as_numbers {
            if let Some(a) = m.get("addr").and_then(Value::as_str).map(addr_number) {
                m.insert("addr".into(), a);
            }
        } else {
            for trace in array_mut(m, "traces") {
                if let Some(hops) = trace.get_mut("hops").and_then(Value::as_array_mut) {
                    hops.sort_by_key(|h| h.get("ttl").and_then(Value::as_i64).unwrap_or(0));
                }
            }
        }
    }
    project(doc, &o.fields)
}

/// A passive record, as `/passive` returns it.
pub fn passive_record(mut doc: Value, o: &RenderOpts) -> Value {
    if let Some(m) = doc.as_object_mut() {
        if !o.dates_as_strings {
            for k in ["firstseen", "lastseen"] {
                if let Some(v) = m.get_mut(k) {
                    date_to_epoch(v);
                }
            }
            if let Some(infos) = m.get_mut("infos").and_then(Value::as_object_mut) {
                for k in ["not_before", "not_after"] {
                    if let Some(v) = infos.get_mut(k) {
                        date_to_epoch(v);
                    }
                }
            }
        }
        if o.ips_as_numbers {
            if let Some(a) = m.get("addr").and_then(Value::as_str).map(addr_number) {
                m.insert("addr".into(), a);
            }
        }
    }
    project(doc, &o.fields)
}

fn array_mut<'a>(m: &'a mut Map<String, Value>, key: &str) -> impl Iterator<Item = &'a mut Value> {
    m.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// Keeps only the given dotted paths (lists: in each element).
pub fn project(doc: Value, fields: &[String]) -> Value {
    if fields.is_empty() {
        return doc;
    }
    let paths: Vec<Vec<&str>> = fields.iter().map(|f| f.split('.').collect()).collect();
    let refs: Vec<&[&str]> = paths.iter().map(Vec::as_slice).collect();
    keep(doc, &refs)
}

fn keep(v: Value, paths: &[&[&str]]) -> Value {
    if paths.iter().any(|p| p.is_empty()) {
        return v;
    }
    match v {
        Value::Array(items) => Value::Array(items.into_iter().map(|x| keep(x, paths)).collect()),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, val) in m {
                let sub: Vec<&[&str]> = paths
                    .iter()
                    .filter(|p| p[0] == k)
                    .map(|p| &p[1..])
                    .collect();
                if !sub.is_empty() {
                    out.insert(k, keep(val, &sub));
                }
            }
            Value::Object(out)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_addresses_projection() {
        let doc = json!({"addr": "10.0.0.1", "starttime": "2021-01-11 00:17:05.000000",
            "ports": [{"port": 80, "service_name": "http"}]});
        let o = RenderOpts {
            ips_as_numbers: true,
            dates_as_strings: false,
            fields: vec!["addr".into(), "starttime".into(), "ports.port".into()],
        };
        assert_eq!(
            scan_record(doc, &o),
            json!({"addr": 167772161, "starttime": 1610324225, "ports": [{"port": 80}]})
        );
        assert_eq!(addr_number("::1"), json!(1));
        assert_eq!(
            addr_number("2001:db8::1"),
            json!("42540766411282592856903984951653826561")
        );
    }
}
