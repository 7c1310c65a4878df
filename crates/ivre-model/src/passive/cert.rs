//! X.509 certificate infos for `SSL_SERVER` / `SSL_CLIENT` `cert` and
//! `cacert` records (spec 1.4).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use md5::Md5;
use serde_json::{json, Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::num_bigint::BigUint;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Name;

use super::record::{ivre_time, Infos};

/// MD5, SHA-1 and SHA-256 (hex) of some bytes.
pub fn hashes(data: &[u8]) -> [(&'static str, String); 3] {
    [
        ("md5", hex::encode(Md5::digest(data))),
        ("sha1", hex::encode(Sha1::digest(data))),
        ("sha256", hex::encode(Sha256::digest(data))),
    ]
}

/// The OpenSSL long name of an RDN attribute type.
fn attr_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "commonName",
        "2.5.4.4" => "surname",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "countryName",
        "2.5.4.7" => "localityName",
        "2.5.4.8" => "stateOrProvinceName",
        "2.5.4.9" => "streetAddress",
        "2.5.4.10" => "organizationName",
        "2.5.4.11" => "organizationalUnitName",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "givenName",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "userId",
        "0.9.2342.19200300.100.1.25" => "domainComponent",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionLocalityName",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionStateOrProvinceName",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionCountryName",
        other => return other.to_owned(),
    }
    .to_owned()
}

/// The OpenSSL name of a signature algorithm.
fn sig_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.1" => "dsa_with_SHA224",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn name_infos(name: &X509Name) -> (Map<String, Value>, String) {
    let mut obj = Map::new();
    let mut text = Vec::new();
    for attr in name.iter_attributes() {
        let key = attr_name(&attr.attr_type().to_id_string());
        let val = match attr.as_str() {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(attr.as_slice()).into_owned(),
        };
        text.push(format!("{key}={val}"));
        obj.insert(key, Value::String(val));
    }
    (obj, text.join("/"))
}

/// OpenSSL's short name of an RDN attribute type, when it has one.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.42" => "GN",
        "2.5.4.4" => "SN",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// A name in OpenSSL's one-line form (`CN = x, O = y`), as used in the
/// `DirName:` entries of `san`.
fn oneline(name: &X509Name) -> String {
    name.iter_attributes()
        .map(|attr| {
            let oid = attr.attr_type().to_id_string();
            let key = short_name(&oid).map_or_else(|| attr_name(&oid), str::to_owned);
            let val = match attr.as_str() {
                Ok(s) => s.to_owned(),
                Err(_) => String::from_utf8_lossy(attr.as_slice()).into_owned(),
            };
            format!("{key} = {val}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn bits(data: &[u8]) -> u64 {
    let data = match data.iter().position(|&b| b != 0) {
        Some(p) => &data[p..],
        None => return 0,
    };
    (data.len() as u64 - 1) * 8 + u64::from(8 - data[0].leading_zeros())
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let a: [u8; 16] = b.try_into().unwrap_or([0; 16]);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex::encode(b),
    }
}

/// Parses a DER certificate into IVRE's certificate infos. `None` when the
/// bytes are not a certificate.
pub fn cert_infos(der: &[u8]) -> Option<Infos> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let mut infos = Infos::new();
    for (k, v) in hashes(der) {
        infos.insert(k.into(), Value::String(v));
    }
    let (subject, subject_text) = name_infos(&tbs.subject);
    let (issuer, issuer_text) = name_infos(&tbs.issuer);
    infos.insert("subject".into(), Value::Object(subject));
    infos.insert("issuer".into(), Value::Object(issuer));
    infos.insert("subject_text".into(), Value::String(subject_text));
    infos.insert("issuer_text".into(), Value::String(issuer_text));
    infos.insert(
        "self_signed".into(),
        Value::Bool(tbs.subject.as_raw() == tbs.issuer.as_raw()),
    );
    let nb = tbs.validity.not_before.timestamp();
    let na = tbs.validity.not_after.timestamp();
    let fmt = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0).map(|d| d.format(ivre_time::FORMAT).to_string())
    };
    if let (Some(a), Some(b)) = (fmt(nb), fmt(na)) {
        infos.insert("not_before".into(), Value::String(a));
        infos.insert("not_after".into(), Value::String(b));
    }
    infos.insert("lifetime".into(), json!(na - nb));
    infos.insert(
        "serial_number".into(),
        Value::String(tbs.serial.to_string()),
    );
    infos.insert("version".into(), json!(tbs.version.0));
    infos.insert(
        "signature_algorithm".into(),
        Value::String(sig_name(&cert.signature_algorithm.algorithm.to_id_string())),
    );
    let mut san = Vec::new();
    for ext in tbs.extensions() {
        if let ParsedExtension::SubjectAlternativeName(s) = ext.parsed_extension() {
            for gn in &s.general_names {
                san.push(match gn {
                    GeneralName::DNSName(d) => format!("DNS:{d}"),
                    GeneralName::RFC822Name(d) => format!("email:{d}"),
                    GeneralName::URI(d) => format!("URI:{d}"),
                    GeneralName::IPAddress(b) => format!("IP Address:{}", ip_text(b)),
                    GeneralName::DirectoryName(n) => format!("DirName:{}", oneline(n)),
                    GeneralName::RegisteredID(o) => format!("Registered ID:{}", o.to_id_string()),
                    _ => "othername:<unsupported>".to_owned(),
                });
            }
        }
    }
    if !san.is_empty() {
        infos.insert("san".into(), json!(san));
    }
    let spki = &tbs.subject_pki;
    let mut pubkey = Map::new();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            pubkey.insert("type".into(), json!("rsa"));
            pubkey.insert("bits".into(), json!(bits(rsa.modulus)));
            let e = BigUint::from_bytes_be(rsa.exponent);
            match u64::try_from(&e) {
                Ok(e) => pubkey.insert("exponent".into(), json!(e)),
                Err(_) => pubkey.insert("exponent".into(), json!(e.to_string())),
            };
            pubkey.insert(
                "modulus".into(),
                json!(BigUint::from_bytes_be(rsa.modulus).to_string()),
            );
        }
        Ok(PublicKey::EC(ec)) => {
            pubkey.insert("type".into(), json!("ec"));
            pubkey.insert("bits".into(), json!(ec.key_size()));
        }
        Ok(PublicKey::DSA(y)) => {
            pubkey.insert("type".into(), json!("dsa"));
            pubkey.insert("bits".into(), json!(bits(y)));
        }
        Ok(other) => {
            pubkey.insert("type".into(), json!("unknown"));
            pubkey.insert("bits".into(), json!(other.key_size()));
        }
        Err(_) => {
            pubkey.insert("type".into(), json!("unknown"));
        }
    }
    for (k, v) in hashes(spki.raw) {
        pubkey.insert(k.into(), Value::String(v));
    }
    pubkey.insert("raw".into(), Value::String(B64.encode(spki.raw)));
    infos.insert("pubkey".into(), Value::Object(pubkey));
    Some(infos)
}

/// SSH public key infos from the key blob (`SSH_SERVER_HOSTKEY`): hashes,
/// `algo`, `bits`, and for RSA `exponent` and `modulus` (decimal strings).
pub fn ssh_key_infos(blob: &[u8]) -> Infos {
    let mut infos = Infos::new();
    for (k, v) in hashes(blob) {
        infos.insert(k.into(), Value::String(v));
    }
    let mut rest = blob;
    let mut next = || -> Option<&[u8]> {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let item = rest.get(4..4usize.checked_add(len)?)?;
        rest = &rest[4 + len..];
        Some(item)
    };
    let Some(algo) = next() else {
        return infos;
    };
    let algo = String::from_utf8_lossy(algo).into_owned();
    infos.insert("algo".into(), Value::String(algo.clone()));
    match algo.as_str() {
        "ssh-rsa" => {
            if let (Some(e), Some(n)) = (next(), next()) {
                infos.insert("bits".into(), json!(bits(n)));
                infos.insert(
                    "exponent".into(),
                    json!(BigUint::from_bytes_be(e).to_string()),
                );
                infos.insert(
                    "modulus".into(),
                    json!(BigUint::from_bytes_be(n).to_string()),
                );
            }
        }
        "ssh-dss" => {
            if let Some(p) = next() {
                infos.insert("bits".into(), json!(bits(p)));
            }
        }
        "ssh-ed25519" => {
            infos.insert("bits".into(), json!(256));
        }
        a if a.starts_with("ecdsa-sha2-nistp") => {
            if let Ok(b) = a["ecdsa-sha2-nistp".len()..].parse::<u64>() {
                infos.insert("bits".into(), json!(b));
            }
        }
        _ => {}
    }
    infos
}
