//! Hex digests and key sizes, shared by every purpose: a certificate or an
//! SSH key is described the same way whether a scan script or a passive
//! sensor saw it.

use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;

pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

pub fn sha1_hex(data: &[u8]) -> String {
    hex::encode(Sha1::digest(data))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// MD5, SHA-1 and SHA-256 (hex) of some bytes, named as IVRE stores them.
pub fn hex_digests(data: &[u8]) -> [(&'static str, String); 3] {
    [
        ("md5", md5_hex(data)),
        ("sha1", sha1_hex(data)),
        ("sha256", sha256_hex(data)),
    ]
}

/// Number of significant bits of a big-endian unsigned integer (the size
/// of an RSA modulus or a DSA prime).
pub fn bit_len(bytes: &[u8]) -> u64 {
    match bytes.iter().position(|&b| b != 0) {
        Some(first) => {
            (bytes.len() - first - 1) as u64 * 8 + u64::from(8 - bytes[first].leading_zeros())
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_bit_len() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            hex_digests(b"abc")[1],
            (
                "sha1",
                "a9993e364706816aba3e25717850c26c9cd0d89d".to_owned()
            )
        );
        assert_eq!(bit_len(&[0, 0x80, 0]), 16);
        assert_eq!(bit_len(&[0, 0, 1]), 1);
        assert_eq!(bit_len(&[0, 0]), 0);
        assert_eq!(bit_len(&[]), 0);
    }
}
