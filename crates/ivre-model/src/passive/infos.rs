//! The `infos` sub-document of a passive record (spec 1.4, IVRE's
//! `getinfos`): derived, query-friendly data computed from `value`.
//!
//! Not done here: the Nmap service-fingerprint match of `HTTP_SERVER_HEADER`
//! / `SERVER`, `TCP_SERVER_BANNER`, `SSH_CLIENT` and `SSH_SERVER` values
//! (`service_*` keys) belongs to the `probes` module and is left to
//! the caller.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use super::cert;
use super::ntlm;
use super::record::{Infos, PassiveRecord};
use crate::crypto::hex_digests;
use crate::escape;

/// Every suffix of a domain name: `a.b.c` → `a.b.c`, `b.c`, `c`.
pub fn domain_suffixes(name: &str) -> Vec<String> {
    let name = name.trim_end_matches('.');
    let mut out = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        out.push(rest.to_owned());
        match rest.split_once('.') {
            Some((_, r)) => rest = r,
            None => break,
        }
    }
    out
}

/// Adds `sha1` and `sha256` of `raw` into `obj` (keeps `raw`).
fn raw_hashes(obj: &mut Infos) {
    if let Some(Value::String(raw)) = obj.get("raw").cloned() {
        for (k, v) in hex_digests(raw.as_bytes()) {
            if k != "md5" {
                obj.insert(k.into(), Value::String(v));
            }
        }
    }
}

fn is_auth_header(rec: &PassiveRecord) -> bool {
    let src = rec.source.as_deref().unwrap_or_default();
    match rec.recontype.as_str() {
        "HTTP_CLIENT_HEADER" | "HTTP_CLIENT_HEADER_SERVER" => {
            src == "AUTHORIZATION" || src == "PROXY-AUTHORIZATION"
        }
        "HTTP_SERVER_HEADER" => src == "WWW-AUTHENTICATE" || src == "PROXY-AUTHENTICATE",
        _ => false,
    }
}

/// Infos of an HTTP authentication header value.
fn auth_infos(value: &str) -> Infos {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let mut infos = Infos::new();
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => {
            if let Ok(raw) = B64.decode(rest.trim()) {
                let text = escape::encode(&raw);
                let (user, pass) = match text.split_once(':') {
                    Some((u, p)) => (u.to_owned(), Some(p.to_owned())),
                    None => (text, None),
                };
                infos.insert("username".into(), Value::String(user));
                if let Some(p) = pass {
                    infos.insert("password".into(), Value::String(p));
                }
            }
        }
        "digest" => {
            for (k, v) in digest_params(rest) {
                infos.insert(k, Value::String(v.trim_matches('"').to_owned()));
            }
        }
        "ntlm" | "negotiate" if rest.contains(':') => {
            infos = ntlm::value_to_infos(rest);
            infos.remove("ntlm-fingerprint");
        }
        _ => {}
    }
    infos
}

/// Splits Digest parameters `k=v, k="v, w"` (quotes respected), in order.
pub fn digest_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut push = |cur: &mut String| {
        let item = cur.trim();
        if let Some((k, v)) = item.split_once('=') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        cur.clear();
    };
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => push(&mut cur),
            _ => cur.push(c),
        }
    }
    push(&mut cur);
    out
}

/// Computes the infos of a (normalised) record, merged over the infos it
/// already has (e.g. the JA3 `raw` moved there by the normalisation).
/// Returns `None` when there is nothing to say.
pub fn compute(rec: &PassiveRecord) -> Option<Infos> {
    let mut infos = rec.infos.clone().unwrap_or_default();
    let src = rec.source.as_deref().unwrap_or_default();
    match rec.recontype.as_str() {
        _ if is_auth_header(rec) => infos.extend(auth_infos(&rec.value)),
        "DNS_ANSWER" => {
            infos.insert("domain".into(), json!(domain_suffixes(&rec.value)));
            if let Some(t) = &rec.targetval {
                infos.insert("domaintarget".into(), json!(domain_suffixes(t)));
            }
        }
        "DNS_BLACKLIST" => {
            let parts: Vec<&str> = src.rsplitn(4, '-').collect();
            if parts.len() == 4 {
                infos.insert("domain".into(), json!(domain_suffixes(parts[3])));
            }
        }
        "SSL_SERVER" | "SSL_CLIENT" if src == "cert" || src == "cacert" => {
            if let Ok(der) = B64.decode(rec.value.as_bytes()) {
                if let Some(c) = cert::cert_infos(&der) {
                    infos.extend(c);
                }
            }
        }
        "SSL_CLIENT" if src == "ja3" => raw_hashes(&mut infos),
        "SSL_SERVER" if src.starts_with("ja3-") => {
            raw_hashes(&mut infos);
            if let Some(Value::Object(client)) = infos.get_mut("client") {
                raw_hashes(client);
            }
        }
        "SSH_CLIENT_HASSH" | "SSH_SERVER_HASSH" => raw_hashes(&mut infos),
        "SSH_SERVER_HOSTKEY" if src == "SSHv2" => {
            if let Ok(blob) = B64.decode(rec.value.as_bytes()) {
                infos.extend(cert::ssh_key_infos(&blob));
            }
        }
        "NTLM_NEGOTIATE" | "NTLM_CHALLENGE" | "NTLM_AUTHENTICATE" | "SMB" => {
            infos.extend(ntlm::value_to_infos(&rec.value))
        }
        "NTLM_CLIENT_FLAGS" | "NTLM_SERVER_FLAGS" => {
            if let Some(fp) = rec.value.strip_prefix("ntlm-fingerprint:") {
                infos.insert("ntlm-fingerprint".into(), Value::String(fp.to_owned()));
            }
        }
        _ => {}
    }
    (!infos.is_empty()).then_some(infos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes() {
        assert_eq!(
            domain_suffixes("stats.neufbox.neuf.fr"),
            ["stats.neufbox.neuf.fr", "neufbox.neuf.fr", "neuf.fr", "fr"]
        );
        assert!(domain_suffixes("").is_empty());
    }

    #[test]
    fn auth() {
        let i = auth_infos("Basic dXNlcjpwYXNz");
        assert_eq!(i["username"], "user");
        assert_eq!(i["password"], "pass");
        let i = auth_infos("Digest username=\"a\",realm=\"r, x\",qop=auth");
        assert_eq!(i["realm"], "r, x");
        assert_eq!(i["qop"], "auth");
    }
}
