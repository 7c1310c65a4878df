//! Ingest-time normalisation of passive observations (spec 1.5, IVRE's
//! `_prepare_rec`), applied before the identity is computed.
//!
//! [`process`] is the whole pipeline for one observation: ignore rules,
//! normalisation (0, 1 or 2 records), then [`infos::compute`].
//!
//! Not done here (reported by the team): the scanner-probe identification
//! of `TCP_CLIENT_BANNER` / honeypot payloads and the Nmap service matching
//! (both need the `probes` tables), the Kaspersky user-agent rule and
//! the IMAP banner rule (patterns unknown), the decoding of
//! `STUN_HONEYPOT_REQUEST` values to raw bytes (values stay escaped text).

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use regex::bytes::Regex as BytesRegex;
use regex::Regex;
use serde_json::{json, Value};

use super::ignore::IgnoreSpec;
use super::infos;
use super::ntlm;
use super::record::PassiveRecord;
use crate::crypto::{md5_hex, sha256_hex};
use crate::escape;

/// Normalisation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizeConfig {
    /// DNSBL zones (`DNS_BLACKLIST_DOMAINS`): a `DNS_ANSWER` for
    /// `<reversed IP>.<zone>` becomes a `DNS_BLACKLIST` record.
    pub dnsbl_zones: Vec<String>,
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        NormalizeConfig {
            dnsbl_zones: vec!["blacklist.woody.ch".into(), "zen.spamhaus.org".into()],
        }
    }
}

/// Ignore check, normalisation and infos for one observation.
pub fn process(
    rec: PassiveRecord,
    cfg: &NormalizeConfig,
    ignore: Option<&IgnoreSpec>,
) -> Vec<PassiveRecord> {
    prepare(rec, cfg, ignore)
        .into_iter()
        .map(|mut r| {
            r.infos = infos::compute(&r);
            r
        })
        .collect()
}

/// [`process`] without the infos: ignore check and normalisation. The
/// infos depend only on the normalised record, so an importer that
/// aggregates observations computes them once per distinct record
/// ([`infos::compute`]) instead of once per observation.
pub fn prepare(
    rec: PassiveRecord,
    cfg: &NormalizeConfig,
    ignore: Option<&IgnoreSpec>,
) -> Vec<PassiveRecord> {
    if ignore.is_some_and(|i| i.ignores(&rec)) {
        return Vec::new();
    }
    normalize(rec, cfg)
}

fn is_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Normalises one observation (no ignore check, no infos beyond those the
/// normalisation itself moves there). Returns 1 or 2 records.
pub fn normalize(mut rec: PassiveRecord, cfg: &NormalizeConfig) -> Vec<PassiveRecord> {
    // Which rule applies, decided on borrowed text (no copy of the source
    // for every observation).
    enum Rule {
        UserAgent,
        Auth,
        Banner,
        HashRaw,
        Ja3Server,
        Ja4,
        HostKey,
        Dnsbl,
        None,
    }
    let src = rec.source.as_deref().unwrap_or_default();
    let rule = match (rec.recontype.as_str(), src) {
        ("HTTP_CLIENT_HEADER", "USER-AGENT") => Rule::UserAgent,
        ("HTTP_CLIENT_HEADER" | "HTTP_CLIENT_HEADER_SERVER", "AUTHORIZATION")
        | ("HTTP_CLIENT_HEADER" | "HTTP_CLIENT_HEADER_SERVER", "PROXY-AUTHORIZATION")
        | ("HTTP_SERVER_HEADER", "WWW-AUTHENTICATE")
        | ("HTTP_SERVER_HEADER", "PROXY-AUTHENTICATE") => Rule::Auth,
        ("TCP_SERVER_BANNER", _) => Rule::Banner,
        ("SSL_CLIENT", "ja3") => Rule::HashRaw,
        ("SSL_SERVER", s) if s.starts_with("ja3-") => Rule::Ja3Server,
        ("SSL_CLIENT", "ja4") => Rule::Ja4,
        ("SSH_CLIENT_HASSH" | "SSH_SERVER_HASSH", _) => Rule::HashRaw,
        ("SSH_SERVER_HOSTKEY", _) => Rule::HostKey,
        ("DNS_ANSWER", _) => Rule::Dnsbl,
        _ => Rule::None,
    };
    match rule {
        Rule::UserAgent => user_agent(&mut rec),
        Rule::Auth => return auth_header(rec),
        Rule::Banner => {
            if let Some(v) = canonical_banner(&rec.value) {
                rec.value = v;
            }
        }
        Rule::HashRaw => hash_raw(&mut rec),
        Rule::Ja3Server => {
            hash_raw(&mut rec);
            let client = rec.source.as_deref().unwrap_or_default()[4..].to_owned();
            if !is_md5_hex(&client) {
                rec.source = Some(format!("ja3-{}", md5_hex(client.as_bytes())));
                rec.infos_mut()
                    .insert("client".into(), json!({ "raw": client }));
            }
        }
        Rule::Ja4 => ja4(&mut rec),
        Rule::HostKey => hostkey_base64(&mut rec),
        Rule::Dnsbl => dnsbl(&mut rec, cfg),
        Rule::None => {}
    }
    vec![rec]
}

/// Moves a raw fingerprint string (JA3, HASSH) to `infos.raw` and stores
/// its MD5 as the value, unless the value is already an MD5.
fn hash_raw(rec: &mut PassiveRecord) {
    if !is_md5_hex(&rec.value) {
        let raw = std::mem::take(&mut rec.value);
        rec.value = md5_hex(raw.as_bytes());
        rec.infos_mut().insert("raw".into(), Value::String(raw));
    }
}

/// Zeek writes the escaped key blob; schema 3 stores base64. A blob starts
/// with a 4-byte length, so an already converted value starts with "AAAA".
fn hostkey_base64(rec: &mut PassiveRecord) {
    if !rec.value.starts_with("AAAA") {
        rec.value = B64.encode(escape::decode(&rec.value));
    }
}

fn user_agent(rec: &mut PassiveRecord) {
    static SYMANTEC: OnceLock<Regex> = OnceLock::new();
    static SEP: OnceLock<Regex> = OnceLock::new();
    let symantec = SYMANTEC.get_or_init(|| Regex::new("^[A-Za-z0-9+/]{32,33}AAAAA$").unwrap());
    if symantec.is_match(&rec.value) {
        rec.value = "SymantecRandomUserAgent".into();
        return;
    }
    if rec.value.contains("MID/{") {
        let sep = SEP.get_or_init(|| {
            Regex::new(r" ?(MID/\{[0-9A-Fa-f-]+\}|SID/[0-9]+|SEQ/[0-9]+)").unwrap()
        });
        rec.value = sep.replace_all(&rec.value, "").into_owned();
    }
}

/// Client / server HTTP authentication headers (spec 1.5 rule 3).
fn auth_header(mut rec: PassiveRecord) -> Vec<PassiveRecord> {
    let value = rec.value.trim().to_owned();
    let (scheme, rest) = match value.split_once(' ') {
        Some((s, r)) => (s.to_owned(), r.trim().to_owned()),
        None => (value.clone(), String::new()),
    };
    let lower = scheme.to_ascii_lowercase();
    match lower.as_str() {
        "digest" => {
            let keep: Vec<String> = infos::digest_params(&rest)
                .into_iter()
                .filter(|(k, _)| {
                    matches!(
                        k.to_ascii_lowercase().as_str(),
                        "username" | "realm" | "algorithm" | "qop" | "domain"
                    )
                })
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            rec.value = format!("{scheme} {}", keep.join(","));
        }
        "ntlm" | "negotiate" if !rest.is_empty() => {
            let msg = B64
                .decode(rest.as_bytes())
                .ok()
                .and_then(|raw| ntlm::parse(&raw));
            let Some(msg) = msg else {
                rec.value = scheme;
                return vec![rec];
            };
            let pairs = ntlm::pairs_to_value(&msg.pairs);
            match msg.flags {
                Some(flags) if lower == "ntlm" => {
                    let mut flags_rec = rec.clone();
                    flags_rec.recontype = if rec.recontype == "HTTP_SERVER_HEADER" {
                        "NTLM_SERVER_FLAGS".into()
                    } else {
                        "NTLM_CLIENT_FLAGS".into()
                    };
                    flags_rec.value = ntlm::fingerprint(flags);
                    rec.value = if pairs.is_empty() {
                        String::new()
                    } else {
                        format!("{scheme} {pairs}")
                    };
                    return vec![rec, flags_rec];
                }
                Some(flags) => {
                    let fp = ntlm::fingerprint(flags);
                    rec.value = if pairs.is_empty() {
                        format!("{scheme} {fp}")
                    } else {
                        format!("{scheme} {fp},{pairs}")
                    };
                }
                None => {
                    rec.value = if pairs.is_empty() {
                        scheme
                    } else {
                        format!("{scheme} {pairs}")
                    };
                }
            }
        }
        "negotiate" | "kerberos" | "oauth" => rec.value = scheme,
        _ => {}
    }
    vec![rec]
}

struct BannerRule {
    re: BytesRegex,
    rep: &'static [u8],
}

/// All banner rules in one automaton: when none matches the banner, no rule
/// applies (each rule only runs on what the previous ones produced, which
/// is the banner itself until one matches), and one scan said so.
fn any_banner_rule() -> &'static regex::bytes::RegexSet {
    static SET: OnceLock<regex::bytes::RegexSet> = OnceLock::new();
    SET.get_or_init(|| {
        regex::bytes::RegexSet::new(banner_rules().iter().map(|r| r.re.as_str())).unwrap()
    })
}

fn banner_rules() -> &'static [BannerRule] {
    static RULES: OnceLock<Vec<BannerRule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let rule = |re: &str, rep: &'static [u8]| BannerRule {
            re: BytesRegex::new(re).unwrap(),
            rep,
        };
        vec![
            rule(r"(?-u)(You are user number )[0-9]+( of)", b"${1}1${2}"),
            rule(
                r"(?-u)(Mon|Tue|Wed|Thu|Fri|Sat|Sun), +[0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}",
                b"Thu, 1 Jan 1970 00:00:00",
            ),
            rule(r"(?-u)(Local time is now )[0-9]{2}:[0-9]{2}", b"${1}00:00"),
            rule(
                r"(?-u)(mx\.google\.com ESMTP )[a-z0-9]+-v6si[0-9]+[a-z]+\.[0-9]+( - gsmtp)?",
                b"${1}xx000-v6si00000000xxx.000",
            ),
            rule(
                r"(?-u)(mx\.google\.com ESMTP )[a-z]+[0-9]+si[0-9]+[a-z]+\.[0-9]+( - gsmtp)?",
                b"${1}xx000si00000000xxx.000",
            ),
            rule(r"(?-u)(mx[0-9]+\.ovh\.net) in[0-9]+", b"${1} in00"),
            rule(
                r"(?-u)\b([A-Z]{2})[0-9]([A-Z]{3})[0-9]{2}([A-Z]{2})[0-9]{3}(\.mail\.protection\.outlook\.com)",
                b"${1}0${2}00${3}000${4}",
            ),
            rule(r"(?-u)\bmta[0-9]+(\.mail\.[a-z0-9]+\.yahoo\.com)", b"mta0000${1}"),
            rule(r"(?-u)(\+OK .*)<[0-9]+\.[0-9]+@", b"${1}<0.0@"),
        ]
    })
}

/// The canonical text of a TCP server banner, `None` when no rule applies
/// (the value is then kept as written by Zeek).
pub fn canonical_banner(value: &str) -> Option<String> {
    let mut data = escape::decode(value);
    let mut matched = false;
    if any_banner_rule().is_match(&data) {
        for rule in banner_rules() {
            if rule.re.is_match(&data) {
                matched = true;
                data = rule.re.replace_all(&data, rule.rep).into_owned();
            }
        }
    }
    // MySQL handshake: zero the thread id and both salt parts.
    static MYSQL: OnceLock<BytesRegex> = OnceLock::new();
    let mysql = MYSQL.get_or_init(|| {
        BytesRegex::new(r"(?s-u)^(.\x00\x00\x00\x0a[0-9][^\x00]*\x00).{4}.{8}\x00(.{18}).{12}\x00")
            .unwrap()
    });
    if let Some(c) = mysql.captures(&data) {
        matched = true;
        let end = c.get(0).map_or(0, |m| m.end());
        let mut out = c[1].to_vec();
        out.extend_from_slice(&[0; 13]);
        out.extend_from_slice(&c[2]);
        out.extend_from_slice(&[0; 13]);
        out.extend_from_slice(&data[end..]);
        data = out;
    }
    matched.then(|| escape::encode(&data))
}

fn sha256_12(s: &str) -> String {
    sha256_hex(s.as_bytes())[..12].to_owned()
}

fn is_hex_list(s: &str) -> bool {
    s.is_empty()
        || s.split(',')
            .all(|p| p.len() == 4 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn ja4(rec: &mut PassiveRecord) {
    let parts: Vec<String> = rec.value.split('_').map(str::to_owned).collect();
    let is12 = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit());
    match parts.as_slice() {
        [a, b, c] if is12(b) && is12(c) => {
            let infos = rec.infos_mut();
            infos.insert("ja4_a".into(), json!(a));
            infos.insert("ja4_b".into(), json!(b));
            infos.insert("ja4_c".into(), json!(c));
        }
        [a, b, c1, rest @ ..]
            if rest.len() <= 1
                && is_hex_list(b)
                && is_hex_list(c1)
                && rest.iter().all(|c| is_hex_list(c)) =>
        {
            let c2 = rest.first().cloned().unwrap_or_default();
            let jb = sha256_12(b);
            let jc = if rest.is_empty() {
                sha256_12(c1)
            } else {
                sha256_12(&format!("{c1}_{c2}"))
            };
            let (a, b, c1) = (a.clone(), b.clone(), c1.clone());
            rec.value = format!("{a}_{jb}_{jc}");
            let infos = rec.infos_mut();
            infos.insert("ja4_a".into(), json!(a));
            infos.insert("ja4_b".into(), json!(jb));
            infos.insert("ja4_c".into(), json!(jc));
            infos.insert("ja4_b_raw".into(), json!(b));
            infos.insert("ja4_c1_raw".into(), json!(c1));
            infos.insert("ja4_c2_raw".into(), json!(c2));
        }
        _ => {}
    }
}

/// `DNS_ANSWER` for `<reversed IP>.<zone>` → `DNS_BLACKLIST`.
fn dnsbl(rec: &mut PassiveRecord, cfg: &NormalizeConfig) {
    let Some(answer) = rec.addr else { return };
    let name = rec.value.trim_end_matches('.');
    if !cfg.dnsbl_zones.iter().any(|z| {
        name.len() > z.len()
            && name.ends_with(z.as_str())
            && name.as_bytes()[name.len() - z.len() - 1] == b'.'
    }) {
        return;
    }
    let labels: Vec<&str> = name.split('.').collect();
    // IPv6 first: its 32 nibbles would also start like 4 IPv4 octets.
    let (ip, nlabels): (std::net::IpAddr, usize) = if labels.len() > 32
        && labels[..32]
            .iter()
            .all(|l| l.len() == 1 && l.as_bytes()[0].is_ascii_hexdigit())
    {
        let nibbles: String = labels[..32].iter().rev().copied().collect();
        let mut text = String::new();
        for (i, ch) in nibbles.chars().enumerate() {
            if i > 0 && i & 3 == 0 {
                text.push(':');
            }
            text.push(ch);
        }
        match text.parse() {
            Ok(ip) => (ip, 32),
            Err(_) => return,
        }
    } else if labels.len() > 4
        && labels[..4]
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()))
    {
        let ip = format!("{}.{}.{}.{}", labels[3], labels[2], labels[1], labels[0]);
        match ip.parse() {
            Ok(ip) => (ip, 4),
            Err(_) => return,
        }
    } else {
        return;
    };
    let zone = labels[nlabels..].join(".");
    rec.recontype = "DNS_BLACKLIST".into();
    rec.value = answer.to_string();
    rec.addr = Some(ip);
    rec.source = Some(format!(
        "{zone}-{}",
        rec.source.as_deref().unwrap_or_default()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn rec(rt: &str, src: Option<&str>, value: &str) -> PassiveRecord {
        let mut r = PassiveRecord::new(rt, value, DateTime::from_timestamp(0, 0).unwrap());
        r.source = src.map(str::to_owned);
        r.addr = Some("10.0.0.1".parse().unwrap());
        r
    }

    #[test]
    fn digest_trimmed() {
        let out = normalize(
            rec(
                "HTTP_CLIENT_HEADER",
                Some("AUTHORIZATION"),
                "Digest username=\"u\", realm=\"r\", nonce=\"123\", uri=\"/\", response=\"abc\", qop=auth",
            ),
            &NormalizeConfig::default(),
        );
        assert_eq!(out[0].value, "Digest username=\"u\",realm=\"r\",qop=auth");
    }

    #[test]
    fn ntlm_split() {
        let out = normalize(
            rec(
                "HTTP_CLIENT_HEADER",
                Some("AUTHORIZATION"),
                "NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
            &NormalizeConfig::default(),
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].value, "");
        assert_eq!(out[1].recontype, "NTLM_CLIENT_FLAGS");
        assert_eq!(out[1].value, "ntlm-fingerprint:0x00088206");
        let out = normalize(
            rec(
                "HTTP_SERVER_HEADER",
                Some("WWW-AUTHENTICATE"),
                "Negotiate YIIF",
            ),
            &NormalizeConfig::default(),
        );
        assert_eq!(out[0].value, "Negotiate");
    }

    #[test]
    fn banners() {
        let b = "220 HE1EUR01FT003.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready at Mon, 14 May 2018 15:24:47 +0000\\x0d\\x0a";
        assert_eq!(
            canonical_banner(b).unwrap(),
            "220 HE0EUR00FT000.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready at Thu, 1 Jan 1970 00:00:00 +0000\\r\\n"
        );
        let g = "220 mx.google.com ESMTP s62-v6si5357435wme.84 - gsmtp\\x0d\\x0a";
        let c = canonical_banner(g).unwrap();
        assert_eq!(c, "220 mx.google.com ESMTP xx000-v6si00000000xxx.000\\r\\n");
        // Idempotent.
        assert_eq!(canonical_banner(&c).unwrap(), c);
        assert_eq!(canonical_banner("* OK IMAP\\x0d\\x0a"), None);
    }

    #[test]
    fn dnsbl_conversion() {
        let mut r = rec(
            "DNS_ANSWER",
            Some("A-8.8.8.8-53"),
            "2.0.0.127.zen.spamhaus.org",
        );
        r.addr = Some("127.0.0.4".parse().unwrap());
        let out = normalize(r, &NormalizeConfig::default());
        assert_eq!(out[0].recontype, "DNS_BLACKLIST");
        assert_eq!(out[0].addr.unwrap().to_string(), "127.0.0.2");
        assert_eq!(out[0].value, "127.0.0.4");
        assert_eq!(
            out[0].source.as_deref(),
            Some("zen.spamhaus.org-A-8.8.8.8-53")
        );
    }

    #[test]
    fn ja4_raw() {
        let out = normalize(
            rec(
                "SSL_CLIENT",
                Some("ja4"),
                "t13d1516h2_002f,0035,009c_0005,000a_0403,0804",
            ),
            &NormalizeConfig::default(),
        );
        let i = out[0].infos.as_ref().unwrap();
        assert_eq!(i["ja4_b"], sha256_12("002f,0035,009c"));
        assert_eq!(i["ja4_c"], sha256_12("0005,000a_0403,0804"));
        assert_eq!(
            out[0].value,
            format!(
                "t13d1516h2_{}_{}",
                i["ja4_b"].as_str().unwrap(),
                i["ja4_c"].as_str().unwrap()
            )
        );
    }
}
