//! Text renderings of host records: Nmap XML, grepable Nmap, CSV, HTTP URLs
//! and the human-readable summary.

use chrono::NaiveDateTime;
use serde_json::Value;
use std::io::{self, Write};

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn list<'a>(v: &'a Value, k: &str) -> impl Iterator<Item = &'a Value> {
    v.get(k).and_then(Value::as_array).into_iter().flatten()
}

/// XML attribute / text escaping (also drops characters XML 1.0 forbids).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Epoch seconds of IVRE's `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC).
pub fn epoch(t: &str) -> Option<i64> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .map(|d| d.and_utc().timestamp())
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        v => v.to_string(),
    }
}

fn attr(out: &mut String, name: &str, v: Option<&Value>) {
    if let Some(v) = v.filter(|v| !v.is_null() && !v.is_object() && !v.is_array()) {
        out.push_str(&format!(" {name}=\"{}\"", xml_escape(&scalar_text(v))));
    }
}

/// Nmap's `<table>`/`<elem>` rendering of structured script output.
fn nse_structure(out: &mut String, key: Option<&str>, v: &Value) {
    let k = key
        .map(|k| format!(" key=\"{}\"", xml_escape(k)))
        .unwrap_or_default();
    match v {
        Value::Object(m) => {
            out.push_str(&format!("<table{k}>"));
            for (kk, vv) in m {
                nse_structure(out, Some(kk), vv);
            }
            out.push_str("</table>");
        }
        Value::Array(a) => {
            out.push_str(&format!("<table{k}>"));
            for vv in a {
                nse_structure(out, None, vv);
            }
            out.push_str("</table>");
        }
        v => out.push_str(&format!("<elem{k}>{}</elem>", xml_escape(&scalar_text(v)))),
    }
}

fn script_xml(out: &mut String, sc: &Value) {
    let id = s(sc, "id").unwrap_or_default();
    out.push_str(&format!(
        "<script id=\"{}\" output=\"{}\">",
        xml_escape(id),
        xml_escape(s(sc, "output").unwrap_or_default())
    ));
    if let Some(m) = sc.as_object() {
        for (k, v) in m {
            if k == "id" || k == "output" || k == "masscan" {
                continue;
            }
            // The structured value is under the script id or its alias key.
            match v {
                Value::Object(o) => {
                    for (kk, vv) in o {
                        nse_structure(out, Some(kk), vv);
                    }
                }
                Value::Array(a) => {
                    for vv in a {
                        nse_structure(out, None, vv);
                    }
                }
                v => nse_structure(out, None, v),
            }
        }
    }
    out.push_str("</script>");
}

pub fn nmap_xml_header(w: &mut impl Write, args: &str) -> io::Result<()> {
    writeln!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n\
         <nmaprun scanner=\"nmap\" args=\"{}\" start=\"0\" version=\"7.94\" xmloutputversion=\"1.05\">\n\
         <scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"0\" services=\"\"/>\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>",
        xml_escape(args)
    )
}

pub fn nmap_xml_footer(w: &mut impl Write, hosts: u64) -> io::Result<()> {
    writeln!(
        w,
        "<runstats><finished time=\"0\" timestr=\"\" summary=\"\" elapsed=\"0\" exit=\"success\"/>\
         <hosts up=\"{hosts}\" down=\"0\" total=\"{hosts}\"/></runstats>\n</nmaprun>"
    )
}

/// One `<host>` element.
pub fn nmap_xml_host(w: &mut impl Write, h: &Value) -> io::Result<()> {
    let mut o = String::new();
    o.push_str("<host");
    for (k, a) in [("starttime", "starttime"), ("endtime", "endtime")] {
        if let Some(t) = s(h, k).and_then(epoch) {
            o.push_str(&format!(" {a}=\"{t}\""));
        }
    }
    o.push('>');
    o.push_str("<status");
    attr(&mut o, "state", h.get("state").or(Some(&Value::from("up"))));
    attr(&mut o, "reason", h.get("state_reason"));
    attr(&mut o, "reason_ttl", h.get("state_reason_ttl"));
    o.push_str("/>\n");
    if let Some(addr) = s(h, "addr") {
        let t = if addr.contains(':') { "ipv6" } else { "ipv4" };
        o.push_str(&format!(
            "<address addr=\"{}\" addrtype=\"{t}\"/>\n",
            xml_escape(addr)
        ));
    }
    if let Some(addrs) = h.get("addresses").and_then(Value::as_object) {
        for (t, l) in addrs {
            for a in l.as_array().into_iter().flatten().filter_map(Value::as_str) {
                o.push_str(&format!(
                    "<address addr=\"{}\" addrtype=\"{}\"/>\n",
                    xml_escape(a),
                    xml_escape(t)
                ));
            }
        }
    }
    o.push_str("<hostnames>");
    for hn in list(h, "hostnames") {
        o.push_str("<hostname");
        attr(&mut o, "name", hn.get("name"));
        attr(&mut o, "type", hn.get("type"));
        o.push_str("/>");
    }
    o.push_str("</hostnames>\n<ports>");
    let mut hostscripts = Vec::new();
    for p in list(h, "ports") {
        if p.get("port").and_then(Value::as_i64) == Some(-1) {
            hostscripts.extend(list(p, "scripts"));
            continue;
        }
        o.push_str("<port");
        attr(&mut o, "protocol", p.get("protocol"));
        attr(&mut o, "portid", p.get("port"));
        o.push_str("><state");
        attr(&mut o, "state", p.get("state_state"));
        attr(&mut o, "reason", p.get("state_reason"));
        attr(&mut o, "reason_ttl", p.get("state_reason_ttl"));
        attr(&mut o, "reason_ip", p.get("state_reason_ip"));
        o.push_str("/>");
        if let Some(name) = p.get("service_name") {
            o.push_str("<service");
            attr(&mut o, "name", Some(name));
            for f in [
                "product",
                "version",
                "extrainfo",
                "ostype",
                "devicetype",
                "hostname",
                "tunnel",
                "method",
                "conf",
                "servicefp",
            ] {
                attr(&mut o, f, p.get(format!("service_{f}").as_str()));
            }
            o.push_str("/>");
        }
        for sc in list(p, "scripts") {
            script_xml(&mut o, sc);
        }
        o.push_str("</port>\n");
    }
    o.push_str("</ports>\n");
    if let Some(os) = h.get("os") {
        o.push_str("<os>");
        if let Some(pu) = os.get("portused") {
            if let Some((proto, port)) = s(pu, "port").and_then(|p| p.split_once('_')) {
                o.push_str(&format!(
                    "<portused state=\"{}\" proto=\"{}\" portid=\"{}\"/>",
                    xml_escape(s(pu, "state").unwrap_or("open")),
                    xml_escape(proto),
                    xml_escape(port)
                ));
            }
        }
        for m in list(os, "osmatch") {
            o.push_str("<osmatch");
            attr(&mut o, "name", m.get("name"));
            attr(&mut o, "accuracy", m.get("accuracy"));
            attr(&mut o, "line", m.get("line"));
            o.push_str("/>");
        }
        for c in list(os, "osclass") {
            o.push_str("<osclass");
            for f in ["type", "vendor", "osfamily", "osgen", "accuracy"] {
                attr(&mut o, f, c.get(f));
            }
            o.push_str("/>");
        }
        if let Some(fp) = os.get("fingerprint") {
            o.push_str("<osfingerprint");
            attr(&mut o, "fingerprint", Some(fp));
            o.push_str("/>");
        }
        o.push_str("</os>\n");
    }
    if !hostscripts.is_empty() {
        o.push_str("<hostscript>");
        for sc in hostscripts {
            script_xml(&mut o, sc);
        }
        o.push_str("</hostscript>\n");
    }
    for t in list(h, "traces") {
        o.push_str("<trace");
        attr(&mut o, "port", t.get("port"));
        attr(&mut o, "proto", t.get("protocol"));
        o.push('>');
        for hop in list(t, "hops") {
            o.push_str("<hop");
            for f in ["ttl", "ipaddr", "rtt", "host"] {
                attr(&mut o, f, hop.get(f));
            }
            o.push_str("/>");
        }
        o.push_str("</trace>\n");
    }
    o.push_str("</host>\n");
    w.write_all(o.as_bytes())
}

fn ptr_name(h: &Value) -> String {
    list(h, "hostnames")
        .find(|n| s(n, "type") == Some("PTR"))
        .or_else(|| list(h, "hostnames").next())
        .and_then(|n| s(n, "name"))
        .unwrap_or_default()
        .to_string()
}

/// Nmap's grepable output for one host.
pub fn gnmap_host(w: &mut impl Write, h: &Value) -> io::Result<()> {
    let addr = s(h, "addr").unwrap_or_default();
    let name = ptr_name(h);
    // A view host known only from DNS answers is not known to be up.
    let status = match s(h, "state") {
        Some("up") => "Up",
        Some("down") => "Down",
        _ => "Unknown",
    };
    writeln!(w, "Host: {addr} ({name})\tStatus: {status}")?;
    let ports: Vec<String> = list(h, "ports")
        .filter(|p| p.get("port").and_then(Value::as_i64).unwrap_or(-1) >= 0)
        .map(|p| {
            let info = ["service_product", "service_version", "service_extrainfo"]
                .iter()
                .filter_map(|f| s(p, f))
                .collect::<Vec<_>>()
                .join(" ");
            format!(
                "{}/{}/{}//{}//{}/",
                p.get("port").map(scalar_text).unwrap_or_default(),
                s(p, "state_state").unwrap_or_default(),
                s(p, "protocol").unwrap_or_default(),
                s(p, "service_name").unwrap_or_default(),
                info.replace('/', "|"),
            )
        })
        .collect();
    let mut line = format!("Host: {addr} ({name})");
    if !ports.is_empty() {
        line += &format!("\tPorts: {}", ports.join(", "));
    }
    if let Some(ep) = h.get("extraports").and_then(Value::as_object) {
        if let Some((state, v)) = ep.iter().next() {
            let total = v.get("total").map(scalar_text).unwrap_or_default();
            line += &format!("\tIgnored State: {state} ({total})");
        }
    }
    if let Some(os) = h
        .get("os")
        .and_then(|o| o.get("osmatch"))
        .and_then(Value::as_array)
        .and_then(|m| m.first())
        .and_then(|m| s(m, "name"))
    {
        line += &format!("\tOS: {os}");
    }
    if !ports.is_empty() || line.contains('\t') {
        writeln!(w, "{line}")?;
    }
    Ok(())
}

/// CSV field quoting.
pub fn csv_field(v: &str, sep: &str) -> String {
    if v.contains(sep) || v.contains('"') || v.contains('\n') || v.contains('\r') {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// `--csv ports` rows (addr, port, state) or `--csv hops` rows (addr, hop, ttl, rtt).
pub fn csv_rows(h: &Value, kind: &str, na: &str) -> Vec<Vec<String>> {
    let addr = s(h, "addr").unwrap_or_default().to_string();
    let text = |v: Option<&Value>| match v {
        None | Some(Value::Null) => na.to_string(),
        Some(v) => scalar_text(v),
    };
    match kind {
        "hops" => list(h, "traces")
            .flat_map(|t| list(t, "hops"))
            .map(|hop| {
                vec![
                    addr.clone(),
                    text(hop.get("ipaddr")),
                    text(hop.get("ttl")),
                    text(hop.get("rtt")),
                ]
            })
            .collect(),
        _ => list(h, "ports")
            .filter(|p| p.get("port").and_then(Value::as_i64).unwrap_or(-1) >= 0)
            .map(|p| {
                vec![
                    addr.clone(),
                    text(p.get("port")),
                    text(p.get("state_state")),
                ]
            })
            .collect(),
    }
}

/// The HTTP(S) URLs of a host's web ports (`--http-urls`); with `names`, one
/// per host name (wildcards excluded) instead of the address.
pub fn http_urls(h: &Value, names: bool) -> Vec<String> {
    let addr = s(h, "addr").unwrap_or_default();
    let mut hosts: Vec<String> = Vec::new();
    if names {
        for n in list(h, "hostnames").filter_map(|n| s(n, "name")) {
            if !n.contains('*') && !hosts.iter().any(|x| x == n) {
                hosts.push(n.to_string());
            }
        }
    } else if addr.contains(':') {
        hosts.push(format!("[{addr}]"));
    } else {
        hosts.push(addr.to_string());
    }
    let mut urls = Vec::new();
    for p in list(h, "ports") {
        let svc = s(p, "service_name").unwrap_or_default();
        if !["http", "http-proxy", "http-alt", "https", "https-alt"].contains(&svc) {
            continue;
        }
        let Some(port) = p.get("port").and_then(Value::as_i64).filter(|p| *p >= 0) else {
            continue;
        };
        let https = s(p, "service_tunnel") == Some("ssl") || svc.starts_with("https");
        let (scheme, default) = if https { ("https", 443) } else { ("http", 80) };
        for host in &hosts {
            if port == default {
                urls.push(format!("{scheme}://{host}/"));
            } else {
                urls.push(format!("{scheme}://{host}:{port}/"));
            }
        }
    }
    urls
}

/// A short human-readable description of a host (the default display).
pub fn human_host(w: &mut impl Write, h: &Value) -> io::Result<()> {
    let names: Vec<&str> = list(h, "hostnames").filter_map(|n| s(n, "name")).collect();
    let cats: Vec<&str> = list(h, "categories").filter_map(Value::as_str).collect();
    let mut head = s(h, "addr").unwrap_or_default().to_string();
    if !names.is_empty() {
        head += &format!(" ({})", names.join(", "));
    }
    if let Some(src) = s(h, "source") {
        head += &format!(" - source: {src}");
    }
    if !cats.is_empty() {
        head += &format!(" - categories: {}", cats.join(", "));
    }
    writeln!(w, "Host {head} - {}", s(h, "state").unwrap_or("up"))?;
    if let (Some(a), Some(b)) = (s(h, "starttime"), s(h, "endtime")) {
        writeln!(w, "\tscan {a} - {b}")?;
    }
    for p in list(h, "ports") {
        let port = p.get("port").and_then(Value::as_i64).unwrap_or(-1);
        if port >= 0 {
            let mut line = format!(
                "\t{}/{}\t{}",
                s(p, "protocol").unwrap_or_default(),
                port,
                s(p, "state_state").unwrap_or_default()
            );
            if let Some(r) = s(p, "state_reason") {
                line += &format!(" ({r})");
            }
            let svc: Vec<&str> = [
                "service_name",
                "service_product",
                "service_version",
                "service_extrainfo",
            ]
            .iter()
            .filter_map(|f| s(p, f))
            .collect();
            if !svc.is_empty() {
                line += &format!("\t{}", svc.join(" "));
            }
            writeln!(w, "{line}")?;
        } else {
            writeln!(w, "\tHost scripts:")?;
        }
        for sc in list(p, "scripts") {
            writeln!(w, "\t\t{}:", s(sc, "id").unwrap_or_default())?;
            for l in s(sc, "output").unwrap_or_default().lines() {
                if !l.trim().is_empty() {
                    writeln!(w, "\t\t  {l}")?;
                }
            }
        }
    }
    if let Some(m) = h
        .get("os")
        .and_then(|o| o.get("osmatch"))
        .and_then(Value::as_array)
        .and_then(|m| m.first())
    {
        writeln!(
            w,
            "\tOS: {} ({}%)",
            s(m, "name").unwrap_or_default(),
            m.get("accuracy").map(scalar_text).unwrap_or_default()
        )?;
    }
    writeln!(w)
}

/// Drops screenshot data (`--no-screenshots`).
pub fn strip_screenshots(h: &mut Value) {
    if let Some(ports) = h.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            if let Some(m) = p.as_object_mut() {
                for k in ["screenshot", "screendata", "screenwords"] {
                    m.remove(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls() {
        let h = json!({"addr": "::1", "ports": [
            {"port": 443, "protocol": "tcp", "service_name": "http", "service_tunnel": "ssl"},
            {"port": 8080, "protocol": "tcp", "service_name": "http-proxy"}]});
        assert_eq!(
            http_urls(&h, false),
            ["https://[::1]/", "http://[::1]:8080/"]
        );
    }

    #[test]
    fn xml_is_escaped() {
        let h = json!({"addr": "10.0.0.1", "ports": [{"port": 80, "protocol": "tcp",
            "state_state": "open", "scripts": [{"id": "x", "output": "<a>&\"", "x": {"k": ["v<"]}}]}]});
        let mut out = Vec::new();
        nmap_xml_host(&mut out, &h).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("output=\"&lt;a&gt;&amp;&quot;\""), "{s}");
        assert!(
            s.contains("<table key=\"k\"><elem>v&lt;</elem></table>"),
            "{s}"
        );
    }
}
