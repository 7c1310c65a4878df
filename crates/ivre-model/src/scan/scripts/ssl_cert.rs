//! `ssl-cert` and `ssl-cacert`: IVRE re-parses every certificate from its DER
//! bytes rather than trusting Nmap's table (which has had bugs, such as the
//! `BIGNUM:` values), and stores a **list** of certificate objects under the
//! `ssl-cert` key. The human output is regenerated from the parsed values so
//! that Nmap, Masscan and passive inputs all look alike.
//!
//! Inputs: the PEM blocks of Nmap's output (or of its `pem` table element),
//! or the DER bytes of a Masscan `X509` / `X509CA` banner (`masscan.raw`).

use chrono::DateTime;
use serde_json::{json, Map, Value};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Name;

use super::util::{b64, b64_decode, be_bytes_to_decimal, hex_to_decimal, masscan_raw};
use super::{Effects, Script};
use crate::crypto::{bit_len, md5_hex, sha1_hex, sha256_hex};

/// Why a certificate could not be turned into IVRE's object.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("invalid DER certificate: {0}")]
    Der(x509_parser::nom::Err<x509_parser::error::X509Error>),
    #[error("trailing data after the DER certificate ({0} bytes)")]
    Trailing(usize),
}

/// OpenSSL's long names for the attribute types found in subjects and issuers
/// (IVRE uses them as keys: `commonName`, `organizationName`, ...).
fn attribute_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
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
        "2.5.4.41" => "name",
        "2.5.4.42" => "givenName",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.2.840.113549.1.9.2" => "unstructuredName",
        "1.2.840.113549.1.9.8" => "unstructuredAddress",
        "0.9.2342.19200300.100.1.1" => "userId",
        "0.9.2342.19200300.100.1.25" => "domainComponent",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionLocalityName",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionStateOrProvinceName",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionCountryName",
        _ => return None,
    })
}

/// OpenSSL's short names, used in `DirName:` SAN entries.
fn attribute_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => return attribute_name(oid),
    })
}

/// OpenSSL's names of signature algorithms.
fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.3" => "md4WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.3.14.3.2.29" => "sha1WithRSA",
        "1.3.14.3.2.3" => "md5WithRSA",
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
        other => return other.to_string(),
    }
    .to_string()
}

/// Key type names as IVRE stores them (`rsa`, `ec`, `dsa`, `dh`).
fn key_type(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => "rsa",
        "1.2.840.10045.2.1" => "ec",
        "1.2.840.10040.4.1" => "dsa",
        "1.2.840.113549.1.3.1" | "1.2.840.10046.2.1" => "dh",
        "1.3.101.112" => "ed25519",
        "1.3.101.113" => "ed448",
        other => return other.to_string(),
    }
    .to_string()
}

/// Field size of the named curves, for EC key sizes.
fn curve_bits(oid: &str) -> Option<u64> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => 256, // prime256v1
        "1.3.132.0.34" => 384,        // secp384r1
        "1.3.132.0.35" => 521,        // secp521r1
        "1.3.132.0.10" => 256,        // secp256k1
        "1.3.132.0.33" => 224,        // secp224r1
        "1.2.840.10045.3.1.1" => 192, // prime192v1
        "1.3.36.3.3.2.8.1.1.7" => 256,
        "1.3.36.3.3.2.8.1.1.11" => 384,
        "1.3.36.3.3.2.8.1.1.13" => 512,
        _ => return None,
    })
}

/// The string value of an attribute, whatever its ASN.1 string type.
fn attribute_value(attr: &x509_parser::x509::AttributeTypeAndValue) -> String {
    if let Ok(s) = attr.as_str() {
        return s.to_string();
    }
    let raw = attr.as_slice();
    if attr.attr_value().tag() == x509_parser::der_parser::asn1_rs::Tag::BmpString {
        let units: Vec<u16> = raw
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if attr.attr_value().tag() == x509_parser::der_parser::asn1_rs::Tag::UniversalString {
        return raw
            .chunks(4)
            .filter_map(|c| {
                (c.len() == 4)
                    .then(|| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                    .flatten()
            })
            .collect();
    }
    // T61String and others: Latin-1 is the common practical reading.
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => raw.iter().map(|&b| b as char).collect(),
    }
}

/// A name as IVRE's object (`{commonName: ..}`, last value wins) and text (`k=v/k=v`).
fn name_to_json(name: &X509Name) -> (Map<String, Value>, String) {
    let mut obj = Map::new();
    let mut parts = Vec::new();
    for attr in name.iter_attributes() {
        let oid = attr.attr_type().to_id_string();
        let key = attribute_name(&oid).map_or(oid.clone(), str::to_string);
        let value = attribute_value(attr);
        parts.push(format!("{key}={value}"));
        obj.insert(key, Value::String(value));
    }
    (obj, parts.join("/"))
}

/// OpenSSL's one-line form (`C = US, O = x, CN = y`, as in the golden
/// records), used for `DirName:` entries.
fn name_oneline(name: &X509Name) -> (String, Option<String>) {
    let mut parts = Vec::new();
    let mut cn = None;
    for attr in name.iter_attributes() {
        let oid = attr.attr_type().to_id_string();
        let value = attribute_value(attr);
        if oid == "2.5.4.3" {
            cn = Some(value.clone());
        }
        let key = attribute_short_name(&oid).map_or(oid.clone(), str::to_string);
        parts.push(format!("{key} = {value}"));
    }
    (parts.join(", "), cn)
}

fn format_ip(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => format!("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3]),
        16 => bytes
            .chunks(2)
            .map(|c| format!("{:X}", u16::from_be_bytes([c[0], c[1]])))
            .collect::<Vec<_>>()
            .join(":"),
        _ => "<invalid>".to_string(),
    }
}

/// The hostname part of a URI (`scheme://[user@]host[:port]/...`).
fn uri_host(uri: &str) -> Option<String> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if let Some(h) = host.strip_prefix('[') {
        h.split(']').next()?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// Reads the UTF8String wrapped in an `OtherName` value (`[0] EXPLICIT UTF8String`).
fn othername_value(data: &[u8]) -> Option<String> {
    use x509_parser::der_parser::asn1_rs::Any;
    let (_, outer) = Any::from_der(data).ok()?;
    let inner = match Any::from_der(outer.data) {
        Ok((_, inner)) => inner,
        Err(_) => outer,
    };
    std::str::from_utf8(inner.data).ok().map(str::to_string)
}

/// The DER bytes of one certificate as IVRE's certificate object.
///
/// Hashes (`md5`, `sha1`, `sha256`) are of the DER; `pubkey.md5/sha1/sha256`
/// are of the SubjectPublicKeyInfo; `serial_number` and RSA `modulus` are
/// decimal strings; `not_before` / `not_after` are `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn ssl_cert_from_der(der: &[u8]) -> Result<Value, CertError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(CertError::Der)?;
    if !rest.is_empty() {
        return Err(CertError::Trailing(rest.len()));
    }
    let der = &der[..der.len() - rest.len()];
    let mut out = Map::new();
    out.insert("md5".into(), json!(md5_hex(der)));
    out.insert("sha1".into(), json!(sha1_hex(der)));
    out.insert("sha256".into(), json!(sha256_hex(der)));
    let (subject, subject_text) = name_to_json(cert.subject());
    let (issuer, issuer_text) = name_to_json(cert.issuer());
    out.insert("subject".into(), Value::Object(subject));
    out.insert("issuer".into(), Value::Object(issuer));
    out.insert("subject_text".into(), json!(subject_text));
    out.insert("issuer_text".into(), json!(issuer_text));
    out.insert(
        "self_signed".into(),
        json!(cert.subject().as_raw() == cert.issuer().as_raw()),
    );
    let nb = cert.validity().not_before.timestamp();
    let na = cert.validity().not_after.timestamp();
    let fmt = |ts: i64| {
        DateTime::from_timestamp(ts, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    out.insert("not_before".into(), json!(fmt(nb)));
    out.insert("not_after".into(), json!(fmt(na)));
    out.insert("lifetime".into(), json!(na - nb));
    out.insert(
        "serial_number".into(),
        json!(serial_decimal(cert.raw_serial())),
    );
    out.insert("version".into(), json!(cert.version().0));
    out.insert(
        "signature_algorithm".into(),
        json!(signature_name(
            &cert.signature_algorithm.algorithm.to_id_string()
        )),
    );
    // Subject Alternative Names, in OpenSSL's text forms.
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        let names: Vec<Value> = san
            .value
            .general_names
            .iter()
            .map(|gn| json!(general_name_text(gn)))
            .collect();
        out.insert("san".into(), Value::Array(names));
    }
    // Public key.
    let spki = cert.public_key();
    let mut pk = Map::new();
    let alg = spki.algorithm.algorithm.to_id_string();
    pk.insert("type".into(), json!(key_type(&alg)));
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            pk.insert("bits".into(), json!(bit_len(rsa.modulus)));
            let exp = be_bytes_to_decimal(rsa.exponent);
            pk.insert(
                "exponent".into(),
                exp.parse::<u64>().map_or(json!(exp), |e| json!(e)),
            );
            pk.insert("modulus".into(), json!(be_bytes_to_decimal(rsa.modulus)));
        }
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let bits = curve
                .as_deref()
                .and_then(curve_bits)
                .unwrap_or(point.key_size() as u64);
            pk.insert("bits".into(), json!(bits));
        }
        Ok(other) => {
            let bits = other.key_size();
            if bits > 0 {
                pk.insert("bits".into(), json!(bits));
            }
        }
        Err(_) => {}
    }
    pk.insert("md5".into(), json!(md5_hex(spki.raw)));
    pk.insert("sha1".into(), json!(sha1_hex(spki.raw)));
    pk.insert("sha256".into(), json!(sha256_hex(spki.raw)));
    pk.insert("raw".into(), json!(b64(spki.raw)));
    out.insert("pubkey".into(), Value::Object(pk));
    out.insert("pem".into(), json!(der_to_pem(der)));
    Ok(Value::Object(out))
}

/// A DER INTEGER (two's complement) as a decimal string: serials with the
/// high bit set and no leading zero byte are negative, as OpenSSL reads them.
fn serial_decimal(raw: &[u8]) -> String {
    match raw.first() {
        Some(&b) if b & 0x80 != 0 => {
            // magnitude = two's complement of the value
            let mut mag: Vec<u8> = raw.iter().map(|b| !b).collect();
            for byte in mag.iter_mut().rev() {
                let (v, carry) = byte.overflowing_add(1);
                *byte = v;
                if !carry {
                    break;
                }
            }
            format!("-{}", be_bytes_to_decimal(&mag))
        }
        _ => be_bytes_to_decimal(raw),
    }
}

fn general_name_text(gn: &GeneralName) -> String {
    match gn {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::IPAddress(b) => format!("IP Address:{}", format_ip(b)),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::DirectoryName(n) => format!("DirName:{}", name_oneline(n).0),
        GeneralName::RegisteredID(oid) => format!("Registered ID:{}", oid.to_id_string()),
        // Only the Microsoft UPN is decoded (as OpenSSL 3 prints it); other
        // types are shown as OpenSSL 1.1 did.
        GeneralName::OtherName(oid, data) => {
            match (oid.to_id_string().as_str(), othername_value(data)) {
                ("1.3.6.1.4.1.311.20.2.3", Some(v)) => format!("othername:UPN::{v}"),
                _ => "othername:<unsupported>".to_string(),
            }
        }
        GeneralName::X400Address(_) => "X400Name:<unsupported>".to_string(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".to_string(),
    }
}

/// PEM armour with 64-column lines, as OpenSSL writes it.
pub fn der_to_pem(der: &[u8]) -> String {
    let body = b64(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// The DER blocks of every PEM certificate found in `text`.
pub fn pem_blocks(text: &str) -> Vec<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(stop) = after.find(END) else { break };
        if let Some(der) = b64_decode(&after[..stop]) {
            out.push(der);
        }
        rest = &after[stop + END.len()..];
    }
    out
}

/// `aaaa bbbb ...`: hashes as Nmap prints them.
fn spaced(hexstr: &str) -> String {
    hexstr
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The regenerated human output of one certificate object.
pub fn cert_output(cert: &Value) -> String {
    let s = |k: &str| cert.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut out = format!(
        "Subject: {}\nIssuer: {}\n",
        s("subject_text"),
        s("issuer_text")
    );
    if let Some(pk) = cert.get("pubkey") {
        if let Some(t) = pk.get("type").and_then(Value::as_str) {
            out.push_str(&format!("Public Key type: {t}\n"));
        }
        if let Some(b) = pk.get("bits") {
            out.push_str(&format!("Public Key bits: {b}\n"));
        }
    }
    out.push_str(&format!(
        "Not valid before: {}+00:00\nNot valid after:  {}+00:00\n",
        s("not_before"),
        s("not_after")
    ));
    if let Some(Value::Array(san)) = cert.get("san") {
        if san.is_empty() {
            out.push_str("Subject Alternative Name: \n");
        }
        for name in san {
            out.push_str(&format!(
                "Subject Alternative Name: {}\n",
                name.as_str().unwrap_or_default()
            ));
        }
    }
    out.push_str(&format!(
        "MD5:   {}\nSHA-1: {}\nSHA-256:{}\n{}",
        spaced(s("md5")),
        spaced(s("sha1")),
        spaced(s("sha256")),
        s("pem")
    ));
    out
}

/// Hostnames an `ssl-cert` (not `ssl-cacert`) gives its host: the subject's
/// commonName (`cert-subject-cn`) and the SAN names (`cert-san-*`).
fn add_hostnames(cert: &Value, effects: &mut Effects) {
    let mut push = |name: &str, kind: &str| {
        let pair = (name.to_string(), kind.to_string());
        if !name.is_empty() && !effects.hostnames.contains(&pair) {
            effects.hostnames.push(pair);
        }
    };
    if let Some(cn) = cert
        .get("subject")
        .and_then(|s| s.get("commonName"))
        .and_then(Value::as_str)
    {
        push(cn, "cert-subject-cn");
    }
    for san in cert
        .get("san")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Some(name) = san.strip_prefix("DNS:") {
            push(name, "cert-san-dns");
        } else if let Some(uri) = san.strip_prefix("URI:") {
            if let Some(host) = uri_host(uri) {
                push(&host, "cert-san-uri");
            }
        } else if let Some(dn) = san.strip_prefix("DirName:") {
            if let Some(cn) = dn.split(", ").find_map(|p| p.strip_prefix("CN = ")) {
                push(cn, "cert-san-dirname-cn");
            }
        } else if let Some(other) = san.strip_prefix("othername:") {
            // `othername:<TYPE>::<value>`; a UPN `user@domain` gives its domain.
            if let Some((label, value)) = other.trim_start().split_once("::") {
                let name = value.rsplit('@').next().unwrap_or(value);
                push(
                    name,
                    &format!("cert-san-othername-{}", label.to_ascii_lowercase()),
                );
            }
        }
    }
}

/// Builds the `ssl-cert` or `ssl-cacert` script from DER certificates (the
/// Masscan and passive paths). Certificates that do not parse are skipped.
pub fn ssl_cert_script(id: &str, der_list: &[Vec<u8>], effects: &mut Effects) -> Script {
    let certs: Vec<Value> = der_list
        .iter()
        .filter_map(|der| ssl_cert_from_der(der).ok())
        .collect();
    let mut script = Script::new(id, "");
    script.output = certs.iter().map(cert_output).collect::<Vec<_>>().join("\n");
    if id == "ssl-cert" {
        for cert in &certs {
            add_hostnames(cert, effects);
        }
    }
    script.data = Some(Value::Array(certs));
    script
}

/// The DER bytes of a Masscan X509 banner: Masscan prints the certificate in
/// base64, so `masscan.raw` holds that text; raw DER is accepted as well.
fn masscan_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.first() == Some(&0x30) {
        return Some(raw.to_vec());
    }
    b64_decode(std::str::from_utf8(raw).ok()?)
}

/// Nmap's table, kept when the certificate cannot be re-parsed: the `BIGNUM:`
/// values of old Nmap versions are removed, and a hexadecimal modulus becomes
/// decimal.
fn fix_nmap_table(mut data: Value) -> Value {
    if let Some(pk) = data.get_mut("pubkey").and_then(Value::as_object_mut) {
        pk.retain(|_, v| !v.as_str().is_some_and(|s| s.starts_with("BIGNUM:")));
        if let Some(m) = pk.get("modulus").and_then(Value::as_str) {
            if let Some(dec) = hex_to_decimal(m) {
                pk.insert("modulus".into(), json!(dec));
            }
        }
        for key in ["exponent", "bits"] {
            if let Some(n) = pk
                .get(key)
                .and_then(Value::as_str)
                .and_then(|e| e.trim().parse::<u64>().ok())
            {
                pk.insert(key.into(), json!(n));
            }
        }
    }
    data
}

/// Processes an `ssl-cert` / `ssl-cacert` script from Nmap or Masscan.
pub(crate) fn process(script: Script, effects: &mut Effects) -> Vec<Script> {
    let id = script.id.clone();
    let mut ders = Vec::new();
    if let Some(raw) = masscan_raw(&script) {
        ders.extend(masscan_der(&raw));
    }
    if ders.is_empty() {
        let pem_text = script
            .data
            .as_ref()
            .and_then(|d| d.get("pem"))
            .and_then(Value::as_str)
            .unwrap_or(&script.output);
        ders = pem_blocks(pem_text);
        if ders.is_empty() {
            ders = pem_blocks(&script.output);
        }
    }
    let parsed = !ders.is_empty() && ders.iter().all(|d| ssl_cert_from_der(d).is_ok());
    if parsed {
        let mut new = ssl_cert_script(&id, &ders, effects);
        new.extra = script.extra;
        return vec![new];
    }
    // Fallback: keep Nmap's output and (repaired) table.
    let mut script = script;
    script.data = script.data.take().map(fix_nmap_table);
    vec![script]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_serial() {
        assert_eq!(
            serial_decimal(&[0x9d, 0xef, 0xe8, 0x7e, 0xbb, 0xa4, 0xd3, 0xef]),
            "-7066173659309354001"
        );
        assert_eq!(serial_decimal(&[0x00, 0x9d]), "157");
        assert_eq!(serial_decimal(&[0x01]), "1");
    }

    #[test]
    fn unparsable_pem_keeps_repaired_nmap_table() {
        let mut s = Script::new(
            "ssl-cert",
            "Subject: commonName=x\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        );
        s.data = Some(json!({
            "subject": {"commonName": "x"},
            "pubkey": {"type": "rsa", "bits": "1024", "modulus": "BIGNUM: 0x1234", "exponent": "65537"},
        }));
        let mut effects = Effects::default();
        let out = process(s, &mut effects);
        assert_eq!(
            out[0].data,
            Some(json!({"subject": {"commonName": "x"},
                "pubkey": {"type": "rsa", "bits": 1024, "exponent": 65537}}))
        );
        let mut s = Script::new("ssl-cert", "no pem");
        s.data = Some(json!({"pubkey": {"type": "rsa", "modulus": "00C1"}}));
        let out = process(s, &mut effects);
        assert_eq!(
            out[0].data,
            Some(json!({"pubkey": {"type": "rsa", "modulus": "193"}}))
        );
        assert!(effects.hostnames.is_empty());
    }
}
