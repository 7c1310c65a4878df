//! The `--top` / `--distinct` field vocabulary of the passive purpose
//! (IVRE's `topvalues`, spec 3.3), as typed [`Projection`]s over
//! `passive p`.
//!
//! Passive top values group on the jsonb value (see [`super::query`]), so
//! the shapes here only decide how the value is written.

use crate::query::jsonpath;
use crate::query::projection::{self, NoChild, Rows, Unnest, ValueShape};
use crate::sql::SqlBuilder;
use crate::{Error, Result};
use ivre_model::filter::value::str2regexp;

/// What a passive `topvalues` / `distinct` counts.
pub type Projection = projection::Projection<NoChild>;

const HASSH_TYPES: &str = "p.recontype IN ('SSH_CLIENT_HASSH', 'SSH_SERVER_HASSH')";
const SSHKEY: [&str; 2] = ["p.recontype = 'SSH_SERVER_HOSTKEY'", "p.source = 'SSHv2'"];

fn of_records(cond: Vec<String>, value: ValueShape) -> Projection {
    Projection::new(Rows::Main, cond, value)
}

/// A column, where set.
pub(super) fn column(col: &str) -> Projection {
    of_records(
        vec![format!("p.{col} IS NOT NULL")],
        ValueShape::Scalar(format!("p.{col}")),
    )
}

/// A value at a path of `infos` (lists unwound), after the conditions `cond`.
fn infos_path(b: &mut SqlBuilder, path: &str, mut cond: Vec<String>) -> Result<Projection> {
    let jp = format!("{}::jsonpath", b.param(jsonpath(path)?, "text"));
    cond.push("j.v <> 'null'::jsonb".into());
    Ok(Projection::new(
        Rows::MainList(Unnest::new(format!("jsonb_path_query(p.infos, {jp})"), "j")),
        cond,
        ValueShape::Json("j.v".into()),
    ))
}

fn sshkey() -> Vec<String> {
    SSHKEY.iter().map(|c| c.to_string()).collect()
}

fn unknown(field: &str, forms: &str) -> Error {
    Error::BadFilter(format!("unknown field {field:?}{forms}"))
}

/// The projection of a `--top` / `--distinct` field: `addr`, `net[:MASK]`,
/// `domains[:N|:SUFFIX[:N]]`, `sensor`, `recontype`, `source` (as
/// `(recontype, source)` pairs, as IVRE's reference backend counts them),
/// `port`, `value`, `targetval`, `count`, `schema_version`,
/// `infos.KEY[.SUB]`, `useragent[:REGEX]`,
/// `hassh[-client|-server][.md5|.sha1|.sha256|.raw]`, `sshkey.bits`,
/// `sshkey.keytype`, `sshkey.fingerprint`, `sshkey.key`, `sshkey.KEY`.
pub fn projection(b: &mut SqlBuilder, field: &str) -> Result<Projection> {
    let (head, arg) = match field.split_once(':') {
        Some((h, a)) => (h, Some(a)),
        None => (field, None),
    };
    Ok(match head {
        "addr" => of_records(
            vec!["p.addr IS NOT NULL".into()],
            ValueShape::Scalar("host(p.addr)".into()),
        ),
        "net" => net(b, field, arg)?,
        "domains" => domains(b, field, arg)?,
        "source" if arg.is_none() => of_records(
            vec!["p.source IS NOT NULL".into()],
            ValueShape::Tuple(vec!["p.recontype".into(), "p.source".into()]),
        ),
        "sensor" | "recontype" | "port" | "value" | "targetval" | "count" | "schema_version"
            if arg.is_none() =>
        {
            column(head)
        }
        "useragent" => {
            let mut cond = vec![
                "p.recontype = 'HTTP_CLIENT_HEADER'".to_string(),
                "p.source = 'USER-AGENT'".to_string(),
            ];
            if let Some(a) = arg {
                cond.push(b.text_match("p.value", &str2regexp(a)?));
            }
            of_records(cond, ValueShape::Scalar("p.value".into()))
        }
        _ if head.starts_with("hassh") => hassh(b, field, head)?,
        "sshkey.bits" => {
            let mut cond = sshkey();
            cond.push("p.infos ? 'bits'".into());
            of_records(
                cond,
                ValueShape::Json(
                    "jsonb_build_array(CASE p.infos ->> 'algo' WHEN 'ssh-rsa' THEN 'RSA' \
                     WHEN 'ssh-dss' THEN 'DSA' WHEN 'ssh-ed25519' THEN 'ED25519' \
                     ELSE upper(split_part(p.infos ->> 'algo', '-', 1)) END, p.infos -> 'bits')"
                        .into(),
                ),
            )
        }
        "sshkey.keytype" => infos_path(b, "algo", sshkey())?,
        "sshkey.fingerprint" => infos_path(b, "md5", sshkey())?,
        "sshkey.key" => of_records(sshkey(), ValueShape::Scalar("p.value".into())),
        _ => {
            if let Some(key) = head.strip_prefix("sshkey.") {
                infos_path(b, key, sshkey())?
            } else if let Some(path) = head.strip_prefix("infos.") {
                infos_path(b, path, Vec::new())?
            } else {
                return Err(unknown(
                    field,
                    " (addr, net[:MASK], domains[:N|:SUFFIX[:N]], sensor, \
                     recontype, source, port, value, targetval, count, infos.KEY, \
                     useragent[:REGEX], hassh[-client|-server][.md5|.sha1|.sha256|.raw], \
                     sshkey.bits|keytype|fingerprint|key|KEY)",
                ));
            }
        }
    })
}

/// `net[:MASK]`: the IPv4 networks (/24 by default).
fn net(b: &mut SqlBuilder, field: &str, arg: Option<&str>) -> Result<Projection> {
    let mask: i32 = match arg {
        Some(m) => m
            .parse()
            .ok()
            .filter(|m| (0..=32).contains(m))
            .ok_or_else(|| Error::BadFilter(format!("invalid mask in {field:?} (0 to 32)")))?,
        None => 24,
    };
    let m = b.param(mask, "int4");
    Ok(of_records(
        vec!["family(p.addr) = 4".into()],
        ValueShape::Json(format!("to_jsonb(network(set_masklen(p.addr, {m}))::text)")),
    ))
}

/// `domains[:N|:SUFFIX[:N]]`: the domains of the DNS answers' names.
fn domains(b: &mut SqlBuilder, field: &str, arg: Option<&str>) -> Result<Projection> {
    let mut cond = vec!["p.recontype = 'DNS_ANSWER'".to_string()];
    let (suffix, labels) = match arg {
        None => (None, None),
        Some(a) => match a.split_once(':') {
            Some((s, n)) => (Some(s), Some(n)),
            None if a.bytes().all(|c| c.is_ascii_digit()) => (None, Some(a)),
            None => (Some(a), None),
        },
    };
    if let Some(s) = suffix.filter(|s| !s.is_empty()) {
        let s = s.trim_start_matches('.').to_lowercase();
        let p = b.param(format!(".{s}"), "text");
        cond.push(format!("right(d.v, length({p})) = {p}"));
    }
    if let Some(n) = labels {
        let n: i32 =
            n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                Error::BadFilter(format!("invalid number of labels in {field:?}"))
            })?;
        let n = b.param(n, "int4");
        cond.push(format!("cardinality(string_to_array(d.v, '.')) = {n}"));
    }
    Ok(Projection::new(
        Rows::MainList(Unnest::new(
            "jsonb_array_elements_text(CASE WHEN jsonb_typeof(p.infos -> 'domain') \
             = 'array' THEN p.infos -> 'domain' END)",
            "d",
        )),
        cond,
        ValueShape::Scalar("d.v".into()),
    ))
}

/// `hassh[-client|-server][.md5|.sha1|.sha256|.raw]`.
fn hassh(b: &mut SqlBuilder, field: &str, head: &str) -> Result<Projection> {
    let (kind, sub) = head.split_once('.').unwrap_or((head, "md5"));
    let types = match kind {
        "hassh" => HASSH_TYPES,
        "hassh-client" => "p.recontype = 'SSH_CLIENT_HASSH'",
        "hassh-server" => "p.recontype = 'SSH_SERVER_HASSH'",
        _ => return Err(unknown(field, "")),
    };
    let cond = vec![types.to_string()];
    match sub {
        "md5" => Ok(of_records(cond, ValueShape::Scalar("p.value".into()))),
        "sha1" | "sha256" | "raw" => infos_path(b, sub, cond),
        _ => Err(unknown(field, " (hassh.md5, .sha1, .sha256 or .raw)")),
    }
}
