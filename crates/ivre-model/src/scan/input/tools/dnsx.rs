//! dnsx NDJSON (spec scans.md §2.11): `{"host", "resolver": [..], "a": [..],
//! "aaaa": [..], "ptr": [..], ..., "timestamp"}`.
//!
//! Each `a` / `aaaa` answer gives a record for that address with `host` as
//! a hostname of type `A` / `AAAA`; `ptr` answers give a record for `host`
//! (an address) with `PTR` hostnames. The other answer types (`cname`,
//! `mx`, `ns`, `txt`, `soa`) name no address to attach a record to and
//! are not kept, as in IVRE. `axfr` (zone transfers): each resolver that
//! answered gives a record with an open `domain` port and a
//! `dns-zone-transfer` script; every A/AAAA record of the zone gives a
//! hostname record. Transfers with nothing but SOA / CNAME records are
//! ignored.

use super::*;
use serde_json::json;

fn strings<'a>(obj: &'a Map<String, Value>, key: &str) -> Vec<&'a str> {
    obj.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

pub(super) fn hosts(obj: &Map<String, Value>) -> Result<Vec<Host>, String> {
    let name = opt_str(obj, "host")?.unwrap_or_default();
    let time = obj.get("timestamp").and_then(parse_time);
    let mut out = Vec::new();
    for (key, kind) in [("a", "A"), ("aaaa", "AAAA")] {
        for answer in strings(obj, key) {
            if let Some(addr) = ip_literal(answer) {
                let mut h = new_host(addr, time);
                h.add_hostname(name, kind);
                out.push(finish(h));
            }
        }
    }
    let ptrs = strings(obj, "ptr");
    if !ptrs.is_empty() {
        if let Some(addr) = ip_literal(name) {
            let mut h = new_host(addr, time);
            for p in ptrs {
                h.add_hostname(p.trim_end_matches('.'), "PTR");
            }
            out.push(finish(h));
        }
    }
    if let Some(axfr) = obj.get("axfr").and_then(Value::as_object) {
        out.extend(zone_transfers(name, axfr, time));
    }
    Ok(out)
}

/// One `all` line of dnsx: `name.\tTTL\tIN\tTYPE\tdata`.
fn zone_record(line: &str) -> Option<Value> {
    let mut it = line.split_whitespace();
    let name = it.next()?.trim_end_matches('.');
    let ttl = it.next()?;
    let class = it.next()?;
    let kind = it.next()?;
    let data = it.collect::<Vec<_>>().join(" ");
    Some(json!({"name": name, "ttl": ttl, "class": class, "type": kind, "data": data}))
}

fn zone_transfers(
    domain: &str,
    axfr: &Map<String, Value>,
    time: Option<NaiveDateTime>,
) -> Vec<Host> {
    let mut out = Vec::new();
    for entry in axfr
        .get("chain")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        let records: Vec<Value> = strings(entry, "all")
            .into_iter()
            .filter_map(zone_record)
            .collect();
        if records
            .iter()
            .all(|r| matches!(r["type"].as_str(), Some("SOA" | "CNAME")))
        {
            continue;
        }
        for r in &records {
            let kind = r["type"].as_str().unwrap_or_default();
            if matches!(kind, "A" | "AAAA") {
                if let Some(addr) = r["data"].as_str().and_then(ip_literal) {
                    let mut h = new_host(addr, time);
                    h.add_hostname(r["name"].as_str().unwrap_or_default(), kind);
                    out.push(finish(h));
                }
            }
        }
        let resolver = get_str(entry, "host").unwrap_or_default();
        let (ip, port) = match resolver.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse::<i64>().unwrap_or(53)),
            _ => (resolver, 53),
        };
        let Some(addr) = ip_literal(ip) else {
            continue;
        };
        let mut h = new_host(addr, time);
        set_service(&mut h, "tcp", port, "domain", false);
        let output = format!(
            "\nDomain: {domain}\n{}",
            records
                .iter()
                .map(|r| format!(
                    "{} {} {}",
                    r["name"].as_str().unwrap_or_default(),
                    r["type"].as_str().unwrap_or_default(),
                    r["data"].as_str().unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join("\n")
        );
        add_script(
            &mut h,
            "tcp",
            port,
            script(
                "dns-zone-transfer",
                output,
                Some(json!([{"domain": domain, "records": records}])),
            ),
        );
        out.push(finish(h));
    }
    out
}
