//! Fields of certificates and SSH keys: `cert`, `cacert`, `sshkey`,
//! `hassh`.

use super::{child, json, script_list, Field, Projection, ScanChild};
use crate::query::json_path;
use crate::sql::SqlBuilder;
use crate::Result;

/// `cert[.PATH]`, `cacert[.PATH]`: the certificates (or a path in them).
pub(super) fn cert(b: &mut SqlBuilder, f: &Field) -> Projection {
    let script = if f.base == "cert" {
        "ssl-cert"
    } else {
        "ssl-cacert"
    };
    let name = b.param(script.to_string(), "text");
    let value = json_path(b, "e.v", f.sub);
    json(
        script_list("ssl-cert", "e"),
        vec![format!("s.name = {name}"), format!("{value} IS NOT NULL")],
        value,
    )
}

/// `sshkey[.bits|.PATH]`: host key fingerprints, (type, bits) pairs or a
/// key field.
pub(super) fn sshkey(b: &mut SqlBuilder, f: &Field) -> Projection {
    let value = match f.sub {
        "bits" => "jsonb_build_array(e.v -> 'type', e.v -> 'bits')".to_string(),
        "" => "(e.v -> 'fingerprint')".to_string(),
        s => json_path(b, "e.v", s),
    };
    json(
        script_list("ssh-hostkey", "e"),
        vec!["s.name = 'ssh-hostkey'".into()],
        value,
    )
}

/// `hassh[-server|-client][.md5|.sha1|.sha256|.raw]`.
pub(super) fn hassh(f: &Field) -> Result<Projection> {
    let key = match f.sub {
        "" => "md5",
        "md5" | "sha1" | "sha256" | "raw" => f.sub,
        _ => return Err(f.unknown(" (hassh[.md5|.sha1|.sha256|.raw])")),
    };
    let mut cond = vec!["s.name = 'ssh2-enum-algos'".to_string()];
    match f.base {
        "hassh-server" => cond.push("s.port <> -1".into()),
        "hassh-client" => cond.push("s.port = -1".into()),
        _ => {}
    }
    let value = format!("(s.data -> 'ssh2-enum-algos' -> 'hassh' -> '{key}')");
    cond.push(format!("{value} IS NOT NULL"));
    Ok(json(child(ScanChild::Script), cond, value))
}
