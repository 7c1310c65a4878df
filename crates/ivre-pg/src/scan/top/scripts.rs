//! Fields of the script results: `script`, `jarm`, `useragent`,
//! `httphdr`, `httpapp`, the keyed values of `smb`, `ntlm`, `modbus`,
//! `s7`, `enip`, `vulns` and `file`.

use super::{child, json, script_list, Field, Projection, ScanChild};
use crate::query::json_path;
use crate::query::projection::{Rows, Unnest, ValueShape};
use crate::sql::SqlBuilder;
use crate::Result;
use ivre_model::filter::addr::parse_port;
use ivre_model::filter::value::{str2regexp, Match};

const LS_SCRIPTS: [&str; 5] = ["ftp-anon", "http-ls", "nfs-ls", "smb-ls", "afp-ls"];

fn on_scripts(cond: Vec<String>, value: ValueShape) -> Projection {
    Projection::new(child(ScanChild::Script), cond, value)
}

/// `script` (the names) or `script:ID` (the outputs of matching scripts).
pub(super) fn script(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    Ok(match f.arg {
        None => on_scripts(Vec::new(), ValueShape::Scalar("s.name".into())),
        Some(id) => on_scripts(
            vec![b.text_match("s.name", &str2regexp(id)?)],
            ValueShape::Scalar("s.output".into()),
        ),
    })
}

/// `jarm[:PORT]`: JARM fingerprints.
pub(super) fn jarm(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let mut cond = vec!["s.name = 'ssl-jarm'".to_string()];
    if let Some(p) = f.arg {
        let (_, port) = parse_port(p)?;
        cond.push(format!("s.port = {}", b.param(port, "int4")));
    }
    Ok(json(
        child(ScanChild::Script),
        cond,
        "coalesce(s.data -> 'ssl-jarm', to_jsonb(s.output))".into(),
    ))
}

/// `useragent[:REGEX]`: the User-Agent headers seen.
pub(super) fn useragent(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let mut cond = vec!["s.name = 'http-user-agent'".to_string()];
    if let Some(a) = f.arg {
        cond.push(b.text_match("s.output", &str2regexp(a)?));
    }
    Ok(on_scripts(cond, ValueShape::Scalar("s.output".into())))
}

/// `httphdr` (name, value pairs), `httphdr.name`, `httphdr.value`,
/// `httphdr:NAME` (the values of one header).
pub(super) fn httphdr(b: &mut SqlBuilder, f: &Field) -> Result<Projection> {
    let mut cond = vec!["s.name = 'http-headers'".to_string()];
    let value = match (f.sub, f.arg) {
        ("", None) => "jsonb_build_array(e.v -> 'name', e.v -> 'value')",
        ("name", None) => "(e.v -> 'name')",
        ("value", None) => "(e.v -> 'value')",
        ("", Some(name)) => {
            cond.push(format!(
                "e.v ->> 'name' = {}",
                b.param(name.to_lowercase(), "text")
            ));
            "(e.v -> 'value')"
        }
        _ => {
            return Err(f.unknown(" (httphdr, httphdr.name, httphdr.value, httphdr:NAME)"));
        }
    };
    Ok(json(script_list("http-headers", "e"), cond, value.into()))
}

/// `httpapp` (application, version pairs) or `httpapp:APP` (its versions).
pub(super) fn httpapp(b: &mut SqlBuilder, f: &Field) -> Projection {
    let mut cond = vec!["s.name = 'http-app'".to_string()];
    let value = match f.arg {
        None => "jsonb_build_array(e.v -> 'application', e.v -> 'version')",
        Some(app) => {
            cond.push(format!(
                "e.v ->> 'application' = {}",
                b.param(app.to_string(), "text")
            ));
            "(e.v -> 'version')"
        }
    };
    json(script_list("http-app", "e"), cond, value.into())
}

/// A value at `path` in the data of the `script` script (under the key of
/// the same name); empty values left out.
pub(super) fn keyed(b: &mut SqlBuilder, script: &str, path: &str) -> Projection {
    let name = b.param(script.to_string(), "text");
    let key = b.param(script.to_string(), "text");
    let value = json_path(b, &format!("(s.data -> {key})"), path);
    json(
        child(ScanChild::Script),
        vec![
            format!("s.name = {name}"),
            format!("{value} IS NOT NULL"),
            format!("{value} NOT IN ('null'::jsonb, '\"\"'::jsonb)"),
        ],
        value,
    )
}

/// `smb.KEY` (IVRE's names for some keys of `smb-os-discovery`).
pub(super) fn smb(b: &mut SqlBuilder, key: &str) -> Projection {
    let key = match key {
        "dnsdomain" => "domain_dns",
        "forest" => "forest_dns",
        "smb_version" => "smb-version",
        k => k,
    };
    keyed(b, "smb-os-discovery", key)
}

/// `ntlm[.KEY]` (IVRE's names for the keys of `ntlm-info`).
pub(super) fn ntlm(b: &mut SqlBuilder, key: &str) -> Projection {
    let key = match key {
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
    keyed(b, "ntlm-info", key)
}

/// `enip.KEY` (IVRE's names for the keys of `enip-info`).
pub(super) fn enip(b: &mut SqlBuilder, key: &str) -> Projection {
    let key = match key {
        "vendor" => "Vendor",
        "product" => "Product Name",
        "serial" => "Serial Number",
        "devtype" => "Device Type",
        "prodcode" => "Product Code",
        "rev" => "Revision",
        "ip" => "Device IP",
        k => k,
    };
    keyed(b, "enip-info", key)
}

/// `vulns.id` or `vulns.PATH` ((id, value) pairs).
pub(super) fn vulns(b: &mut SqlBuilder, path: &str) -> Projection {
    let value = if path == "id" {
        "(e.v -> 'id')".to_string()
    } else {
        let v = json_path(b, "e.v", path);
        format!("jsonb_build_array(e.v -> 'id', {v})")
    };
    json(
        script_list("vulns", "e"),
        vec!["s.data ? 'vulns'".into()],
        value,
    )
}

/// `file`, `file.FIELD`, `file:SCRIPTS`, `file:SCRIPTS.FIELD`: the files
/// listed by the `*-ls` scripts (file names by default).
pub(super) fn file(b: &mut SqlBuilder, f: &Field) -> Projection {
    let (scripts, field) = match f.arg {
        Some(a) => match a.split_once('.') {
            Some((sc, field)) => (sc.to_string(), field),
            None => (a.to_string(), ""),
        },
        None => (LS_SCRIPTS.join(","), f.sub),
    };
    let field = if field.is_empty() { "filename" } else { field };
    let scripts: Vec<String> = scripts.split(',').map(str::to_string).collect();
    let names = b.text_match("s.name", &Match::AnyOf(scripts));
    let value = json_path(b, "f.v", field);
    json(
        Rows::Child {
            table: ScanChild::Script,
            unnest: vec![
                Unnest::new("jsonb_path_query(s.data, 'lax $.ls.volumes[*]')", "v"),
                Unnest::new("jsonb_path_query(v.v, 'lax $.files[*]')", "f"),
            ],
        },
        vec![names, format!("{value} IS NOT NULL")],
        value,
    )
}
