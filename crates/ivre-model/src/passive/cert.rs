//! X.509 certificate infos for `SSL_SERVER` / `SSL_CLIENT` `cert` and
//! `cacert` records (spec 1.4).

use serde_json::{json, Value};
use x509_parser::num_bigint::BigUint;

use super::record::Infos;
use crate::crypto::{bit_len, hex_digests};
use crate::scan::scripts::ssl_cert_from_der;

/// The infos of a certificate (`SSL_SERVER` / `SSL_CLIENT` `cert` and
/// `cacert` records): the same parse as the scans' `ssl-cert` script, without
/// the PEM (the value already is the certificate) and with IVRE's passive
/// date format.
pub fn cert_infos(der: &[u8]) -> Option<Infos> {
    let Value::Object(mut infos) = ssl_cert_from_der(der).ok()? else {
        return None;
    };
    infos.remove("pem");
    for key in ["not_before", "not_after"] {
        if let Some(Value::String(date)) = infos.get_mut(key) {
            if date.len() == 19 {
                date.push_str(".000000");
            }
        }
    }
    Some(infos)
}

/// SSH public key infos from the key blob (`SSH_SERVER_HOSTKEY`): hashes,
/// `algo`, `bits`, and for RSA `exponent` and `modulus` (decimal strings).
pub fn ssh_key_infos(blob: &[u8]) -> Infos {
    let mut infos = Infos::new();
    for (k, v) in hex_digests(blob) {
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
                infos.insert("bits".into(), json!(bit_len(n)));
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
                infos.insert("bits".into(), json!(bit_len(p)));
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
