//! The `--top` / `topvalues` field vocabulary compiled to SQL projections.
//!
//! A projection adds joins to `scan_host h` (one row per counted element:
//! port, script, hostname domain, ...), an extra condition, and the value
//! (always jsonb: strings, numbers, tuples as arrays, dicts as objects).
//! Counting is per element, as in IVRE, except for the per-host fields
//! (`portlist:`, `countports:`).

use super::query::jsonpath;
use crate::sql::SqlBuilder;
use anyhow::{bail, Result};
use ivre_model::filter::addr::parse_port;
use ivre_model::filter::value::{str2regexp, Match};

/// What `topvalues` groups on.
#[derive(Debug, Default)]
pub struct Projection {
    pub from: String,
    /// `AND ...` conditions, or empty.
    pub cond: String,
    pub value: String,
}

impl Projection {
    /// The FROM clause without `scan_host h`, when the projection only
    /// reads the child table it joins first (`JOIN t a ON a.host_id = h.id ...`).
    pub fn child_only(&self) -> Option<String> {
        let rest = self.from.strip_prefix(" JOIN ")?;
        let (table, after) = rest.split_once(" ON ")?;
        let (_, after) = after.split_once(" = h.id")?;
        let mentions_host = |s: &str| s.contains("h.") || s.contains("(h)");
        if mentions_host(after) || mentions_host(&self.value) || mentions_host(&self.cond) {
            return None;
        }
        Some(format!("{table}{after}"))
    }
}

const PORT_STATES: [&str; 5] = [
    "open",
    "closed",
    "filtered",
    "open|filtered",
    "closed|filtered",
];

const LS_SCRIPTS: [&str; 5] = ["ftp-anon", "http-ls", "nfs-ls", "smb-ls", "afp-ls"];

fn j(from: &str, cond: String, value: &str) -> Projection {
    Projection {
        from: from.to_string(),
        cond,
        value: value.to_string(),
    }
}

const PORT: &str = " JOIN scan_port p ON p.host_id = h.id";
const SCRIPT: &str = " JOIN scan_script s ON s.host_id = h.id";

/// A `:PORT`, `:proto/PORT` or `:SERVICE` qualifier on the port `p`.
fn port_qualifier(b: &mut SqlBuilder, q: &str) -> Result<String> {
    if q.bytes().all(|c| c.is_ascii_digit()) || q.contains('/') {
        let (proto, port) = parse_port(q)?;
        let proto = b.param(proto, "text");
        let port = b.param(port, "int4");
        return Ok(format!(" AND p.protocol = {proto} AND p.port = {port}"));
    }
    Ok(format!(
        " AND p.service_name = {}",
        b.param(q.to_string(), "text")
    ))
}

fn json_path(b: &mut SqlBuilder, base: &str, path: &str) -> String {
    if path.is_empty() {
        return base.to_string();
    }
    let keys: Vec<String> = path.split('.').map(str::to_string).collect();
    format!("({base} #> {})", b.param(keys, "text[]"))
}

/// A keyed script value (`s7.<key>` etc.): the script, the data key and the
/// key's aliases.
fn script_key(b: &mut SqlBuilder, script: &str, key: &str, sub: &str) -> Projection {
    let name = b.param(script.to_string(), "text");
    let akey = b.param(key.to_string(), "text");
    let value = json_path(b, &format!("(s.data -> {akey})"), sub);
    j(
        SCRIPT,
        format!(
            " AND s.name = {name} AND {value} IS NOT NULL AND {value} NOT IN ('null'::jsonb, '\"\"'::jsonb)"
        ),
        &value,
    )
}

/// The projection of a `--top` field.
pub fn projection(b: &mut SqlBuilder, field: &str) -> Result<Projection> {
    let (head, arg) = match field.split_once(':') {
        Some((h, a)) => (h, Some(a)),
        None => (field, None),
    };
    // dotted sub-fields (cert.sha256, httphdr.name, ...)
    let (base, sub) = match head.split_once('.') {
        Some((b, s)) => (b, s),
        None => (head, ""),
    };
    Ok(match (base, sub) {
        ("category" | "categories", "") => {
            let mut cond = String::new();
            if let Some(a) = arg {
                cond = format!(" AND {}", b.text_match("c.v", &str2regexp(a)?));
            }
            j(
                " CROSS JOIN unnest(h.categories) c(v)",
                cond,
                "to_jsonb(c.v)",
            )
        }
        ("source", "") => j("", String::new(), "to_jsonb(h.source)"),
        ("addr", "") => j("", String::new(), "to_jsonb(host(h.addr))"),
        ("net", "") => {
            let mask: i32 = match arg {
                Some(m) => m
                    .parse()
                    .ok()
                    .filter(|m| (0..=128).contains(m))
                    .ok_or_else(|| anyhow::anyhow!("invalid mask in {field:?}"))?,
                None => 24,
            };
            let m = b.param(mask, "int4");
            j(
                "",
                format!(" AND family(h.addr) = 4 AND {m} <= 32"),
                &format!("to_jsonb(network(set_masklen(h.addr, {m}))::text)"),
            )
        }
        ("schema_version", "") => j("", String::new(), "to_jsonb(h.schema_version)"),
        ("port", "") => {
            let cond = match arg {
                None => String::new(),
                Some(s) if PORT_STATES.contains(&s) => {
                    format!(" AND p.state = {}", b.param(s.to_string(), "text"))
                }
                Some(s) => format!(" AND p.service_name = {}", b.param(s.to_string(), "text")),
            };
            j(
                PORT,
                format!(" AND p.port <> -1{cond}"),
                "jsonb_build_array(p.protocol, p.port)",
            )
        }
        ("portlist" | "countports", "") => {
            let state = b.param(arg.unwrap_or("open").to_string(), "text");
            let ports = format!(
                "SELECT DISTINCT p.protocol, p.port FROM scan_port p \
                 WHERE p.host_id = h.id AND p.port <> -1 AND p.state = {state}"
            );
            let value = if base == "portlist" {
                format!(
                    "(SELECT coalesce(jsonb_agg(jsonb_build_array(x.protocol, x.port) \
                     ORDER BY x.protocol, x.port), '[]'::jsonb) FROM ({ports}) x)"
                )
            } else {
                format!("(SELECT to_jsonb(count(*)) FROM ({ports}) x)")
            };
            j("", String::new(), &value)
        }
        ("service" | "product" | "version" | "devicetype", "") => {
            let mut cond = if base == "devicetype" {
                String::new()
            } else {
                " AND p.port <> -1 AND p.state = 'open'".to_string()
            };
            if let Some(a) = arg {
                let parts: Vec<&str> = a.splitn(2, ':').collect();
                if base == "version" && parts.len() == 2 {
                    let svc = b.param(parts[0].to_string(), "text");
                    let prod = b.param(parts[1].to_string(), "text");
                    cond += &format!(" AND p.service_name = {svc} AND p.service_product = {prod}");
                } else {
                    cond += &port_qualifier(b, a)?;
                }
            }
            let value = match base {
                "service" => "to_jsonb(p.service_name)",
                "product" => "jsonb_build_array(p.service_name, p.service_product)",
                "version" => {
                    "jsonb_build_array(p.service_name, p.service_product, p.service_version)"
                }
                _ => "to_jsonb(p.service_devicetype)",
            };
            if base == "devicetype" {
                cond += " AND p.service_devicetype IS NOT NULL";
            }
            j(PORT, cond, value)
        }
        ("cpe", _) => {
            let level = match sub {
                "" => 4,
                "type" | "1" => 1,
                "vendor" | "2" => 2,
                "product" | "3" => 3,
                "version" | "4" => 4,
                _ => bail!(
                    "unknown field {field:?} (cpe.type, cpe.vendor, cpe.product, cpe.version)"
                ),
            };
            let cols = ["c.type", "c.vendor", "c.product", "c.version"];
            let mut cond = String::new();
            if let Some(a) = arg {
                for (i, part) in a.split(':').enumerate().take(4) {
                    if !part.is_empty() {
                        cond += &format!(" AND {}", b.text_match(cols[i], &str2regexp(part)?));
                    }
                }
            }
            j(
                " JOIN scan_cpe c ON c.host_id = h.id",
                cond,
                &format!("jsonb_build_array({})", cols[..level].join(", ")),
            )
        }
        ("script", "") => match arg {
            None => j(SCRIPT, String::new(), "to_jsonb(s.name)"),
            Some(id) => {
                let cond = format!(" AND {}", b.text_match("s.name", &str2regexp(id)?));
                j(SCRIPT, cond, "to_jsonb(s.output)")
            }
        },
        ("domains" | "domain", "") => {
            let mut cond = String::new();
            let levels = |s: &str| s.parse::<i32>().ok();
            let (dom, level) =
                match arg.map(|a| a.split_once(':').map_or((a, None), |(d, l)| (d, Some(l)))) {
                    None => (None, None),
                    Some((a, None)) if levels(a).is_some() => (None, levels(a)),
                    Some((d, l)) => (Some(d), l.and_then(levels)),
                };
            if let Some(d) = dom {
                let d = b.param(d.trim_start_matches('.').to_lowercase(), "text");
                cond += &format!(" AND right(d.v, length({d}) + 1) = '.' || {d}");
            }
            if let Some(l) = level {
                let l = b.param(l, "int4");
                cond += &format!(" AND length(d.v) - length(replace(d.v, '.', '')) + 1 = {l}");
            }
            j(
                " JOIN scan_hostname n ON n.host_id = h.id CROSS JOIN unnest(n.domains) d(v)",
                cond,
                "to_jsonb(d.v)",
            )
        }
        ("cert" | "cacert", _) => {
            let name = if base == "cert" {
                "ssl-cert"
            } else {
                "ssl-cacert"
            };
            let name = b.param(name.to_string(), "text");
            let value = json_path(b, "e.v", sub);
            j(
                &format!(
                    "{SCRIPT} CROSS JOIN jsonb_path_query(s.data -> 'ssl-cert', 'lax $[*]') e(v)"
                ),
                format!(" AND s.name = {name} AND {value} IS NOT NULL"),
                &value,
            )
        }
        ("sshkey", _) => {
            let value = match sub {
                "bits" => "jsonb_build_array(e.v -> 'type', e.v -> 'bits')".to_string(),
                "" => "(e.v -> 'fingerprint')".to_string(),
                s => json_path(b, "e.v", s),
            };
            j(
                &format!("{SCRIPT} CROSS JOIN jsonb_path_query(s.data -> 'ssh-hostkey', 'lax $[*]') e(v)"),
                " AND s.name = 'ssh-hostkey'".to_string(),
                &value,
            )
        }
        ("hassh" | "hassh-server" | "hassh-client", _) => {
            let key = match sub {
                "" => "md5",
                "md5" | "sha1" | "sha256" | "raw" => sub,
                _ => bail!("unknown field {field:?} (hassh[.md5|.sha1|.sha256|.raw])"),
            };
            let side = match base {
                "hassh-server" => " AND s.port <> -1",
                "hassh-client" => " AND s.port = -1",
                _ => "",
            };
            let value = format!("(s.data -> 'ssh2-enum-algos' -> 'hassh' -> '{key}')");
            j(
                SCRIPT,
                format!(" AND s.name = 'ssh2-enum-algos'{side} AND {value} IS NOT NULL"),
                &value,
            )
        }
        ("jarm", "") => {
            let mut cond = " AND s.name = 'ssl-jarm'".to_string();
            if let Some(p) = arg {
                let (_, port) = parse_port(p)?;
                cond += &format!(" AND s.port = {}", b.param(port, "int4"));
            }
            j(
                SCRIPT,
                cond,
                "coalesce(s.data -> 'ssl-jarm', to_jsonb(s.output))",
            )
        }
        ("useragent", "") => {
            let mut cond = " AND s.name = 'http-user-agent'".to_string();
            if let Some(a) = arg {
                cond += &format!(" AND {}", b.text_match("s.output", &str2regexp(a)?));
            }
            j(SCRIPT, cond, "to_jsonb(s.output)")
        }
        ("httphdr", _) => {
            let mut cond = " AND s.name = 'http-headers'".to_string();
            let value = match (sub, arg) {
                ("", None) => "jsonb_build_array(e.v -> 'name', e.v -> 'value')",
                ("name", None) => "(e.v -> 'name')",
                ("value", None) => "(e.v -> 'value')",
                ("", Some(name)) => {
                    cond += &format!(
                        " AND e.v ->> 'name' = {}",
                        b.param(name.to_lowercase(), "text")
                    );
                    "(e.v -> 'value')"
                }
                _ => bail!(
                    "unknown field {field:?} (httphdr, httphdr.name, httphdr.value, httphdr:NAME)"
                ),
            };
            j(
                &format!("{SCRIPT} CROSS JOIN jsonb_path_query(s.data -> 'http-headers', 'lax $[*]') e(v)"),
                cond,
                value,
            )
        }
        ("httpapp", "") => {
            let mut cond = " AND s.name = 'http-app'".to_string();
            let value = match arg {
                None => "jsonb_build_array(e.v -> 'application', e.v -> 'version')",
                Some(app) => {
                    cond += &format!(
                        " AND e.v ->> 'application' = {}",
                        b.param(app.to_string(), "text")
                    );
                    "(e.v -> 'version')"
                }
            };
            j(
                &format!(
                    "{SCRIPT} CROSS JOIN jsonb_path_query(s.data -> 'http-app', 'lax $[*]') e(v)"
                ),
                cond,
                value,
            )
        }
        ("smb", k) if !k.is_empty() => {
            let k = match k {
                "dnsdomain" => "domain_dns",
                "forest" => "forest_dns",
                "smb_version" => "smb-version",
                k => k,
            };
            script_key(b, "smb-os-discovery", "smb-os-discovery", k)
        }
        ("ntlm", k) => {
            let k = match k {
                "" | "name" => "NetBIOS_Computer_Name",
                "server" | "fqdn" => "DNS_Computer_Name",
                "domain" => "NetBIOS_Domain_Name",
                "workgroup" => "Workgroup",
                "domain_dns" => "DNS_Domain_Name",
                "forest" => "DNS_Tree_Name",
                "os" => "Product_Version",
                "version" => "NTLM_Version",
                k => k,
            };
            script_key(b, "ntlm-info", "ntlm-info", k)
        }
        ("modbus", k) if !k.is_empty() => script_key(b, "modbus-discover", "modbus-discover", k),
        ("s7", k) if !k.is_empty() => script_key(b, "s7-info", "s7-info", k),
        ("enip", k) if !k.is_empty() => {
            let k = match k {
                "vendor" => "Vendor",
                "product" => "Product Name",
                "serial" => "Serial Number",
                "devtype" => "Device Type",
                "prodcode" => "Product Code",
                "rev" => "Revision",
                "ip" => "Device IP",
                k => k,
            };
            script_key(b, "enip-info", "enip-info", k)
        }
        ("vulns", s) if !s.is_empty() => {
            let value = if s == "id" {
                "(e.v -> 'id')".to_string()
            } else {
                let v = json_path(b, "e.v", s);
                format!("jsonb_build_array(e.v -> 'id', {v})")
            };
            j(
                &format!(
                    "{SCRIPT} CROSS JOIN jsonb_path_query(s.data -> 'vulns', 'lax $[*]') e(v)"
                ),
                " AND s.data ? 'vulns'".to_string(),
                &value,
            )
        }
        ("file", _) => {
            // file, file.FIELD, file:SCRIPTS, file:SCRIPTS.FIELD
            let (scripts, fieldname) = match arg {
                Some(a) => match a.split_once('.') {
                    Some((sc, f)) => (sc.to_string(), f.to_string()),
                    None => (a.to_string(), String::new()),
                },
                None => (LS_SCRIPTS.join(","), sub.to_string()),
            };
            let fieldname = if fieldname.is_empty() {
                "filename".to_string()
            } else {
                fieldname
            };
            let scripts: Vec<String> = scripts.split(',').map(str::to_string).collect();
            let cond = format!(" AND {}", b.text_match("s.name", &Match::AnyOf(scripts)));
            let value = json_path(b, "f.v", &fieldname);
            j(
                &format!(
                    "{SCRIPT} CROSS JOIN jsonb_path_query(s.data, 'lax $.ls.volumes[*]') v(v) \
                     CROSS JOIN jsonb_path_query(v.v, 'lax $.files[*]') f(v)"
                ),
                format!("{cond} AND {value} IS NOT NULL"),
                &value,
            )
        }
        ("hop", "") if !field.contains('>') => {
            let mut cond = " AND o.ipaddr IS NOT NULL".to_string();
            if let Some(t) = arg {
                let t: i32 = t
                    .parse()
                    .map_err(|_| anyhow::anyhow!("invalid TTL in {field:?}"))?;
                cond += &format!(" AND o.ttl = {}", b.param(t, "int4"));
            }
            j(
                " JOIN scan_hop o ON o.host_id = h.id",
                cond,
                "to_jsonb(host(o.ipaddr))",
            )
        }
        (f, "") if f.starts_with("hop>") => {
            let t: i32 = f[4..]
                .parse()
                .map_err(|_| anyhow::anyhow!("invalid TTL in {field:?}"))?;
            j(
                " JOIN scan_hop o ON o.host_id = h.id",
                format!(
                    " AND o.ipaddr IS NOT NULL AND o.ttl > {}",
                    b.param(t, "int4")
                ),
                "to_jsonb(host(o.ipaddr))",
            )
        }
        ("tag", s) => {
            let mut from = " JOIN scan_tag t ON t.host_id = h.id".to_string();
            let mut cond = String::new();
            let value = match (s, arg) {
                ("", None) | ("value", None) => "to_jsonb(t.value)",
                ("type", None) => "to_jsonb(t.type)",
                ("info", None) | ("", Some(_)) => {
                    from += " CROSS JOIN unnest(t.info) i(v)";
                    if let Some(v) = arg {
                        cond = format!(" AND t.value = {}", b.param(v.to_string(), "text"));
                    }
                    "to_jsonb(i.v)"
                }
                _ => {
                    bail!("unknown field {field:?} (tag, tag.value, tag.type, tag.info, tag:VALUE)")
                }
            };
            j(&from, cond, value)
        }
        ("ttl", "") => j(
            PORT,
            " AND p.state_reason_ttl IS NOT NULL".into(),
            "to_jsonb(p.state_reason_ttl)",
        ),
        ("screenwords", "") => j(
            " JOIN scan_port p ON p.host_id = h.id",
            String::new(),
            "NULL::jsonb",
        ),
        _ => {
            if arg.is_some() {
                bail!("unknown field {field:?}");
            }
            // Any other dotted path of the record, lists unwound.
            let path = format!("{}::jsonpath", b.param(jsonpath(field)?, "text"));
            j(
                &format!(" CROSS JOIN jsonb_path_query(h.doc, {path}) g(v)"),
                String::new(),
                "g.v",
            )
        }
    })
}
