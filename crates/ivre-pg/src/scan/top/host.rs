//! Fields of the host record and its per-host tables: categories,
//! source, address and network, schema version, hostname domains, hops,
//! tags, and any other path of the record.

use super::{child, json, Field, Projection, ScanChild};
use crate::query::jsonpath;
use crate::query::projection::{Rows, Unnest, ValueShape};
use crate::scan::tables::HostTables;
use crate::sql::SqlBuilder;
use crate::{Error, Result};
use ivre_model::filter::value::str2regexp;

/// A scalar of the host row (one count per host).
pub(super) fn scalar(expr: &str) -> Projection {
    Projection::new(Rows::Main, Vec::new(), ValueShape::Scalar(expr.into()))
}

/// `source`: each source of the hosts (one per scan record, a list in
/// the view).
pub(super) fn source(t: HostTables) -> Projection {
    if t.source_is_list() {
        Projection::new(
            Rows::MainList(Unnest::new("unnest(h.source)", "c")),
            Vec::new(),
            ValueShape::Scalar("c.v".into()),
        )
    } else {
        scalar("h.source")
    }
}

/// `category[:REGEX]`: each category of the hosts.
pub(super) fn categories(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let mut cond = Vec::new();
    if let Some(a) = f.arg {
        cond.push(b.text_match("c.v", &str2regexp(a)?));
    }
    Ok(Projection::new(
        Rows::MainList(Unnest::new("unnest(h.categories)", "c")),
        cond,
        ValueShape::Scalar("c.v".into()),
    ))
}

/// `net[:MASK]`: the IPv4 network of each host (/24 by default).
pub(super) fn net(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let mask: i32 = match f.arg {
        Some(m) => m
            .parse()
            .ok()
            .filter(|m| (0..=128).contains(m))
            .ok_or_else(|| Error::BadFilter(format!("invalid mask in {:?}", f.name)))?,
        None => 24,
    };
    let m = b.param(mask, "int4");
    Ok(json(
        Rows::Main,
        vec!["family(h.addr) = 4".into(), format!("{m} <= 32")],
        format!("to_jsonb(network(set_masklen(h.addr, {m}))::text)"),
    ))
}

/// `domains[:SUFFIX][:LEVELS]`: the domains of each hostname.
pub(super) fn domains(b: &mut SqlBuilder, f: &Field) -> Projection {
    let mut cond = Vec::new();
    let levels = |s: &str| s.parse::<i32>().ok();
    let (dom, level) = match f
        .arg
        .map(|a| a.split_once(':').map_or((a, None), |(d, l)| (d, Some(l))))
    {
        None => (None, None),
        Some((a, None)) if levels(a).is_some() => (None, levels(a)),
        Some((d, l)) => (Some(d), l.and_then(levels)),
    };
    if let Some(d) = dom {
        let d = b.param(d.trim_start_matches('.').to_lowercase(), "text");
        cond.push(format!("right(d.v, length({d}) + 1) = '.' || {d}"));
    }
    if let Some(l) = level {
        let l = b.param(l, "int4");
        cond.push(format!(
            "length(d.v) - length(replace(d.v, '.', '')) + 1 = {l}"
        ));
    }
    Projection::new(
        Rows::Child {
            table: ScanChild::Hostname,
            unnest: vec![Unnest::new("unnest(n.domains)", "d")],
        },
        cond,
        ValueShape::Scalar("d.v".into()),
    )
}

fn ttl(f: &Field, t: &str) -> Result<i32> {
    t.parse()
        .map_err(|_| Error::BadFilter(format!("invalid TTL in {:?}", f.name)))
}

/// `hop[:TTL]`: the traceroute hops' addresses.
pub(super) fn hop(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let mut cond = vec!["o.ipaddr IS NOT NULL".to_string()];
    if let Some(t) = f.arg {
        let t = ttl(f, t)?;
        cond.push(format!("o.ttl = {}", b.param(t, "int4")));
    }
    Ok(hops(cond))
}

/// `hop>TTL`: the hops beyond a TTL.
pub(super) fn hop_beyond(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let t = ttl(f, &f.base[4..])?;
    Ok(hops(vec![
        "o.ipaddr IS NOT NULL".into(),
        format!("o.ttl > {}", b.param(t, "int4")),
    ]))
}

fn hops(cond: Vec<String>) -> Projection {
    Projection::new(
        child(ScanChild::Hop),
        cond,
        ValueShape::Scalar("host(o.ipaddr)".into()),
    )
}

/// `tag`, `tag.value`, `tag.type`, `tag.info`, `tag:VALUE` (the infos of
/// one tag value).
pub(super) fn tag(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let mut unnest = Vec::new();
    let mut cond = Vec::new();
    let value = match (f.sub, f.arg) {
        ("", None) | ("value", None) => "t.value",
        ("type", None) => "t.type",
        ("info", None) | ("", Some(_)) => {
            unnest.push(Unnest::new("unnest(t.info)", "i"));
            if let Some(v) = f.arg {
                cond.push(format!("t.value = {}", b.param(v.to_string(), "text")));
            }
            "i.v"
        }
        _ => return Err(f.unknown(" (tag, tag.value, tag.type, tag.info, tag:VALUE)")),
    };
    Ok(Projection::new(
        Rows::Child {
            table: ScanChild::Tag,
            unnest,
        },
        cond,
        ValueShape::Scalar(value.into()),
    ))
}

/// `country`, `city`, `asnum`, `as`: keys of the record's `infos` (the
/// view's enrichment), the first one present; one value, or a tuple.
/// `keys` are fixed names of ours.
pub(super) fn infos(keys: &[&str]) -> Projection {
    let key = |k: &str| format!("(h.doc -> 'infos' -> '{k}')");
    let value = match keys {
        [one] => key(one),
        _ => format!(
            "jsonb_build_array({})",
            keys.iter().map(|k| key(k)).collect::<Vec<_>>().join(", ")
        ),
    };
    json(
        Rows::Main,
        vec![format!("{} IS NOT NULL", key(keys[0]))],
        value,
    )
}

/// Any other dotted path of the record, lists unwound.
/// Paths under `ports` read the whole record (the scripts are not in the
/// stored document), the others the stored document.
pub(super) fn document_path(b: &mut SqlBuilder, name: &str, t: HostTables) -> Result<Projection> {
    super::check_record_path(name)?;
    let path = format!("{}::jsonpath", b.param(jsonpath(name)?, "text"));
    let doc = if name.split('.').next() == Some("ports") {
        t.doc()
    } else {
        "h.doc"
    };
    Ok(json(
        Rows::MainList(Unnest::new(format!("jsonb_path_query({doc}, {path})"), "g")),
        Vec::new(),
        "g.v".into(),
    ))
}
