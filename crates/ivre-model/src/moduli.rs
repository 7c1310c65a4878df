//! RSA moduli as `ivre-getmoduli` prints them: stored moduli are decimal
//! text (JSON has no big integers), printed in hexadecimal (lower case, no
//! prefix) as shared-factor tools (`fastgcd`, ...) read them; scan SSH keys
//! are decoded from their `ssh-rsa` blob.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use x509_parser::num_bigint::BigUint;

/// The hexadecimal form of a decimal modulus; `None` for anything but
/// digits (a damaged record), or zero.
pub fn decimal_to_hex(decimal: &str) -> Option<String> {
    let d = decimal.trim();
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = BigUint::parse_bytes(d.as_bytes(), 10)?;
    if n == BigUint::default() {
        return None;
    }
    Some(n.to_str_radix(16))
}

/// The hexadecimal modulus of a base64 `ssh-rsa` public key blob.
pub fn ssh_rsa_modulus_hex(b64: &str) -> Option<String> {
    let blob = B64.decode(b64.trim().as_bytes()).ok()?;
    let infos = crate::passive::cert::ssh_key_infos(&blob);
    if infos.get("algo").and_then(|v| v.as_str()) != Some("ssh-rsa") {
        return None;
    }
    decimal_to_hex(infos.get("modulus")?.as_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(decimal_to_hex("65537").as_deref(), Some("10001"));
        assert_eq!(
            decimal_to_hex("340282366920938463463374607431768211457").as_deref(),
            Some("100000000000000000000000000000001")
        );
        assert_eq!(decimal_to_hex("0x12"), None);
        assert_eq!(decimal_to_hex("0"), None);
        assert_eq!(decimal_to_hex(""), None);
        // ssh-rsa blob: "ssh-rsa", e = 65537, n = 0x00c1 (a toy key).
        let mut blob = Vec::new();
        for part in [&b"ssh-rsa"[..], &[1, 0, 1], &[0, 0xc1]] {
            blob.extend((part.len() as u32).to_be_bytes());
            blob.extend(part);
        }
        assert_eq!(
            ssh_rsa_modulus_hex(&B64.encode(&blob)).as_deref(),
            Some("c1")
        );
        assert_eq!(ssh_rsa_modulus_hex("not base64!"), None);
    }
}
