//! Nuclei NDJSON (spec scans.md §2.8), old and new key spellings: the
//! template is `template-id` (new), `templateID` or `template` (old); the
//! place is `matched-at` (new) or `matched` (old), with `host`, `port` and
//! `ip`.
//!
//! Types `http`, `code`, `javascript`, `network`, `ssl`, `tcp` give an open
//! port with a `<type>-nuclei` script whose output is `[severity] name
//! (matcher) found at url` and whose structured value is the `nuclei` list
//! of spec §1.4; `dns` is read only for the `ptr-fingerprint` template
//! (`PTR` hostnames). `ip` is the address when given, and the host name of
//! the URL becomes a `user` hostname. `http` sets `service_name=http`;
//! `https` or `ssl` set the ssl tunnel. The severity becomes a tag
//! `Nuclei` (info / low → `info`, medium → `warning`, high / critical →
//! `danger`) with `<severity>: <template>` as its info, and a `CVE-*`
//! template the tag `Vulnerable`.

use super::*;
use crate::scan::record::Tag;
use serde_json::json;

pub(super) fn hosts(obj: &Map<String, Value>) -> Result<Vec<Host>, String> {
    let template = first_str(obj, &["template-id", "templateID", "template"]).unwrap_or("");
    let info = obj.get("info").and_then(Value::as_object);
    let kind = opt_str(obj, "type")?.unwrap_or("http");
    let matched = first_str(obj, &["matched-at", "matched"]);
    let host_field = opt_str(obj, "host")?;
    let target = matched.or(host_field).unwrap_or("");
    let url = Url::parse(target).or_else(|| host_field.and_then(Url::parse));
    let addr = match opt_str(obj, "ip")?.and_then(ip_literal) {
        Some(a) => a,
        None => match url.as_ref().and_then(|u| ip_literal(&u.host)) {
            Some(a) => a,
            None => return Ok(Vec::new()),
        },
    };
    let time = obj.get("timestamp").and_then(parse_time);
    let mut host = new_host(addr, time);
    if let Some(u) = &url {
        if ip_literal(&u.host).is_none() {
            host.add_hostname(&u.host, "user");
        }
    }
    if kind == "dns" {
        if template != "ptr-fingerprint" {
            return Ok(Vec::new());
        }
        for name in obj
            .get("extracted-results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            host.add_hostname(name.trim_end_matches('.'), "PTR");
        }
        return Ok(vec![finish(host)]);
    }
    if !matches!(
        kind,
        "http" | "code" | "javascript" | "network" | "ssl" | "tcp"
    ) {
        return Ok(Vec::new());
    }
    let port = match obj.get("port") {
        Some(Value::String(s)) => s.trim().parse::<u16>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        _ => None,
    }
    .or_else(|| url.as_ref().map(Url::port_or_default));
    let Some(port) = port.map(i64::from) else {
        return Ok(Vec::new());
    };
    let scheme = url.as_ref().map(|u| u.scheme.as_str()).unwrap_or("");
    let tls = scheme == "https" || kind == "ssl";
    if kind == "http" {
        set_service(&mut host, "tcp", port, "http", tls);
    } else {
        let p = port_mut(&mut host, "tcp", port);
        if tls {
            p.service_tunnel = Some("ssl".into());
        }
    }
    let s = |k: &str| info.and_then(|i| get_str(i, k));
    let name = s("name").unwrap_or(template);
    let severity = s("severity").unwrap_or("unknown");
    let matcher = opt_str(obj, "matcher-name")?;
    let mut entry = json!({
        "template": template,
        "name": name,
        "severity": severity,
        "url": target,
    });
    for key in [
        "matcher-name",
        "extracted-results",
        "extractor-name",
        "matcher-status",
        "curl-command",
        "template-path",
        "template-url",
        "host",
        "path",
        "request",
    ] {
        if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
            entry[key] = v.clone();
        }
    }
    for key in [
        "classification",
        "description",
        "impact",
        "reference",
        "remediation",
        "tags",
    ] {
        if let Some(v) = info.and_then(|i| i.get(key)).filter(|v| !v.is_null()) {
            entry[key] = v.clone();
        }
    }
    let output = format!(
        "[{severity}] {name}{} found at {target}",
        matcher.map(|m| format!(" ({m})")).unwrap_or_default()
    );
    add_script(
        &mut host,
        "tcp",
        port,
        script(&format!("{kind}-nuclei"), output, Some(json!([entry]))),
    );
    let level = match severity {
        "medium" => "warning",
        "high" | "critical" => "danger",
        _ => "info",
    };
    let mut tags = vec![Tag {
        value: "Nuclei".into(),
        kind: level.into(),
        info: Some(vec![format!("{severity}: {template}")]),
        extra: Map::new(),
    }];
    if template.to_ascii_uppercase().starts_with("CVE-") {
        tags.push(Tag {
            value: "Vulnerable".into(),
            kind: "danger".into(),
            info: Some(vec![template.to_string()]),
            extra: Map::new(),
        });
    }
    host.add_tags(tags);
    Ok(vec![finish(host)])
}
