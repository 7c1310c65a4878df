//! Fields of the ports and their services: `port`, `portlist`,
//! `countports`, `service`, `product`, `version`, `devicetype`, `cpe`,
//! `ttl`, `screenwords`.

use super::{child, json, Field, Projection, ScanChild};
use crate::query::projection::{Rows, ValueShape};
use crate::scan::tables::HostTables;
use crate::sql::SqlBuilder;
use crate::Result;
use ivre_model::filter::addr::parse_port;
use ivre_model::filter::value::str2regexp;

const PORT_STATES: [&str; 5] = [
    "open",
    "closed",
    "filtered",
    "open|filtered",
    "closed|filtered",
];

fn on_ports(cond: Vec<String>, value: ValueShape) -> Projection {
    Projection::new(child(ScanChild::Port), cond, value)
}

/// A `:PORT`, `:proto/PORT` or `:SERVICE` qualifier on the port `p`.
fn port_qualifier(b: &mut SqlBuilder, q: &str) -> Result<Vec<String>> {
    if q.bytes().all(|c| c.is_ascii_digit()) || q.contains('/') {
        let (proto, port) = parse_port(q)?;
        let proto = b.param(proto, "text");
        let port = b.param(port, "int4");
        return Ok(vec![
            format!("p.protocol = {proto}"),
            format!("p.port = {port}"),
        ]);
    }
    Ok(vec![format!(
        "p.service_name = {}",
        b.param(q.to_string(), "text")
    )])
}

/// `port[:STATE|:SERVICE]`: (protocol, port) pairs.
pub(super) fn port(b: &mut SqlBuilder, f: &Field) -> Projection {
    let mut cond = vec!["p.port <> -1".to_string()];
    match f.arg {
        None => {}
        Some(s) if PORT_STATES.contains(&s) => {
            cond.push(format!("p.state = {}", b.param(s.to_string(), "text")));
        }
        Some(s) => cond.push(format!(
            "p.service_name = {}",
            b.param(s.to_string(), "text")
        )),
    }
    on_ports(
        cond,
        ValueShape::Tuple(vec!["p.protocol".into(), "p.port".into()]),
    )
}

/// `portlist[:STATE]` (the sorted list of a host's ports) and
/// `countports[:STATE]` (their number): one count per host.
pub(super) fn port_set(b: &mut SqlBuilder, f: &Field, t: HostTables) -> Projection {
    let state = b.param(f.arg.unwrap_or("open").to_string(), "text");
    let ports = format!(
        "SELECT DISTINCT p.protocol, p.port FROM {} p \
         WHERE p.host_id = h.id AND p.port <> -1 AND p.state = {state}",
        t.port()
    );
    let value = if f.base == "portlist" {
        format!(
            "(SELECT coalesce(jsonb_agg(jsonb_build_array(x.protocol, x.port) \
             ORDER BY x.protocol, x.port), '[]'::jsonb) FROM ({ports}) x)"
        )
    } else {
        format!("(SELECT to_jsonb(count(*)) FROM ({ports}) x)")
    };
    json(Rows::Main, Vec::new(), value)
}

/// `service`, `product`, `version` (of the open ports) and `devicetype`,
/// with a `:PORT`, `:proto/PORT` or `:SERVICE` qualifier (`version` also
/// takes `:SERVICE:PRODUCT`).
pub(super) fn service(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let devicetype = f.base == "devicetype";
    let mut cond = if devicetype {
        Vec::new()
    } else {
        vec!["p.port <> -1".to_string(), "p.state = 'open'".to_string()]
    };
    if let Some(a) = f.arg {
        let parts: Vec<&str> = a.splitn(2, ':').collect();
        if f.base == "version" && parts.len() == 2 {
            let svc = b.param(parts[0].to_string(), "text");
            let prod = b.param(parts[1].to_string(), "text");
            cond.push(format!("p.service_name = {svc}"));
            cond.push(format!("p.service_product = {prod}"));
        } else {
            cond.extend(port_qualifier(b, a)?);
        }
    }
    let columns = |c: &[&str]| ValueShape::Tuple(c.iter().map(|c| c.to_string()).collect());
    let value = match f.base {
        "service" => ValueShape::Scalar("p.service_name".into()),
        "product" => columns(&["p.service_name", "p.service_product"]),
        "version" => columns(&["p.service_name", "p.service_product", "p.service_version"]),
        _ => ValueShape::Scalar("p.service_devicetype".into()),
    };
    if devicetype {
        cond.push("p.service_devicetype IS NOT NULL".into());
    }
    Ok(on_ports(cond, value))
}

/// `cpe[.type|.vendor|.product|.version][:T:V:P:V]`: CPE prefixes.
pub(super) fn cpe(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let level = match f.sub {
        "" => 4,
        "type" | "1" => 1,
        "vendor" | "2" => 2,
        "product" | "3" => 3,
        "version" | "4" => 4,
        _ => {
            return Err(f.unknown(" (cpe.type, cpe.vendor, cpe.product, cpe.version)"));
        }
    };
    let cols = ["c.type", "c.vendor", "c.product", "c.version"];
    let mut cond = Vec::new();
    if let Some(a) = f.arg {
        for (i, part) in a.split(':').enumerate().take(4) {
            if !part.is_empty() {
                cond.push(b.text_match(cols[i], &str2regexp(part)?));
            }
        }
    }
    Ok(Projection::new(
        child(ScanChild::Cpe),
        cond,
        ValueShape::Tuple(cols[..level].iter().map(|c| c.to_string()).collect()),
    ))
}

/// `ttl`: the TTLs of the port replies.
pub(super) fn ttl() -> Projection {
    on_ports(
        vec!["p.state_reason_ttl IS NOT NULL".into()],
        ValueShape::Scalar("p.state_reason_ttl".into()),
    )
}

/// `screenwords`: not stored; one null per port, as IVRE counts it.
pub(super) fn screenwords() -> Projection {
    on_ports(Vec::new(), ValueShape::Json("NULL::jsonb".into()))
}
