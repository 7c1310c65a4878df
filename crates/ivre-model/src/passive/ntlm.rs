//! NTLMSSP message decoding (HTTP `Authorization: NTLM ...` and
//! `WWW-Authenticate: NTLM ...` headers) and the `Key:base64,...` pair format
//! shared with the Zeek NTLM records (spec 1.4, "Analyzer modules").

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;

use super::record::Infos;
use crate::escape;

const SIGNATURE: &[u8] = b"NTLMSSP\0";
const FLAG_UNICODE: u32 = 0x0000_0001;
const FLAG_OEM: u32 = 0x0000_0002;
const FLAG_TARGET_INFO: u32 = 0x0080_0000;
const FLAG_VERSION: u32 = 0x0200_0000;

/// A decoded NTLMSSP message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NtlmMessage {
    /// 1 (negotiate), 2 (challenge) or 3 (authenticate).
    pub msg_type: u32,
    /// Negotiate flags when the message carries them.
    pub flags: Option<u32>,
    /// Decoded `(key, text)` pairs in message order (text; invalid UTF-8 Nmap-escaped).
    pub pairs: Vec<(String, String)>,
}

fn u16_at(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(off..off + 4)?.try_into().ok()?))
}

/// A security buffer (`len u16, maxlen u16, offset u32`) at `off`.
fn buffer(d: &[u8], off: usize) -> Option<(usize, usize)> {
    let len = u16_at(d, off)? as usize;
    let offset = u32_at(d, off + 4)? as usize;
    Some((len, offset))
}

fn buffer_data(d: &[u8], off: usize) -> Option<&[u8]> {
    let (len, offset) = buffer(d, off)?;
    d.get(offset..offset.checked_add(len)?)
}

fn looks_utf16(b: &[u8]) -> bool {
    b.len() >= 2 && b.len() & 1 == 0 && b.iter().skip(1).step_by(2).all(|&c| c == 0)
}

fn decode_utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Decodes a string according to the flags (UTF-16LE when the Unicode flag
/// is set, or when it looks like UTF-16), returns Nmap-escaped text.
fn decode_str(b: &[u8], flags: Option<u32>) -> String {
    let unicode = match flags {
        Some(f) if f & FLAG_UNICODE != 0 => true,
        Some(f) if f & FLAG_OEM != 0 => looks_utf16(b),
        _ => looks_utf16(b),
    };
    if unicode {
        decode_utf16(b)
    } else {
        match std::str::from_utf8(b) {
            Ok(s) => s.to_owned(),
            Err(_) => escape::encode(b),
        }
    }
}

fn version(d: &[u8], off: usize, pairs: &mut Vec<(String, String)>) {
    if let Some(v) = d.get(off..off + 8) {
        let build = u16::from_le_bytes([v[2], v[3]]);
        pairs.push((
            "Product_Version".into(),
            format!("{}.{}.{}", v[0], v[1], build),
        ));
        pairs.push(("NTLM_Version".into(), v[7].to_string()));
    }
}

/// Parses an NTLMSSP message. `None` when it is not one.
pub fn parse(d: &[u8]) -> Option<NtlmMessage> {
    if !d.starts_with(SIGNATURE) {
        return None;
    }
    let msg_type = u32_at(d, 8)?;
    let mut m = NtlmMessage {
        msg_type,
        ..Default::default()
    };
    let push = |pairs: &mut Vec<(String, String)>, k: &str, data: Option<&[u8]>, f| {
        if let Some(data) = data.filter(|x| !x.is_empty()) {
            pairs.push((k.to_owned(), decode_str(data, f)));
        }
    };
    match msg_type {
        1 => {
            let flags = u32_at(d, 12)?;
            m.flags = Some(flags);
            if d.len() > 32 {
                push(
                    &mut m.pairs,
                    "NetBIOS_Domain_Name",
                    buffer_data(d, 16),
                    Some(flags),
                );
                push(&mut m.pairs, "Workstation", buffer_data(d, 24), Some(flags));
            }
            if d.len() >= 40 && flags & FLAG_VERSION != 0 {
                version(d, 32, &mut m.pairs);
            }
        }
        2 => {
            let flags = u32_at(d, 20)?;
            m.flags = Some(flags);
            let (_, name_off) = buffer(d, 12)?;
            push(&mut m.pairs, "Target_Name", buffer_data(d, 12), Some(flags));
            if name_off >= 56 && flags & FLAG_VERSION != 0 {
                version(d, 48, &mut m.pairs);
            }
            if name_off >= 48 && flags & FLAG_TARGET_INFO != 0 {
                if let Some(mut info) = buffer_data(d, 40) {
                    while info.len() >= 4 {
                        let t = u16::from_le_bytes([info[0], info[1]]);
                        let l = u16::from_le_bytes([info[2], info[3]]) as usize;
                        if t == 0 || info.len() < 4 + l {
                            break;
                        }
                        let key = match t {
                            1 => Some("NetBIOS_Computer_Name"),
                            2 => Some("NetBIOS_Domain_Name"),
                            3 => Some("DNS_Computer_Name"),
                            4 => Some("DNS_Domain_Name"),
                            5 => Some("DNS_Tree_Name"),
                            _ => None,
                        };
                        if let Some(key) = key {
                            let data = &info[4..4 + l];
                            if !data.is_empty() {
                                m.pairs.push((key.into(), decode_utf16(data)));
                            }
                        }
                        info = &info[4 + l..];
                    }
                }
            }
        }
        3 => {
            let min_off = [12, 20, 28, 36, 44, 52]
                .iter()
                .filter_map(|&o| buffer(d, o))
                .map(|(_, off)| off)
                .min()?;
            let flags = if min_off > 64 { u32_at(d, 60) } else { None };
            m.flags = flags;
            push(
                &mut m.pairs,
                "NetBIOS_Domain_Name",
                buffer_data(d, 28),
                flags,
            );
            push(&mut m.pairs, "User_Name", buffer_data(d, 36), flags);
            push(&mut m.pairs, "Workstation", buffer_data(d, 44), flags);
            if min_off >= 72 && flags.is_some_and(|f| f & FLAG_VERSION != 0) {
                version(d, 64, &mut m.pairs);
            }
        }
        _ => return None,
    }
    Some(m)
}

/// The `ntlm-fingerprint:0x%08x` text of flags.
pub fn fingerprint(flags: u32) -> String {
    format!("ntlm-fingerprint:0x{flags:08x}")
}

/// Serialises pairs as `Key:base64,...` (`NTLM_Version` and
/// `ntlm-fingerprint` unencoded).
pub fn pairs_to_value(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            if k == "NTLM_Version" || k == "ntlm-fingerprint" {
                format!("{k}:{v}")
            } else {
                format!("{k}:{}", B64.encode(v.as_bytes()))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Decodes a `Key:base64,...` value into infos (`NTLM_Version`,
/// `ntlm-fingerprint` and `is_guest` are not base64; `is_guest` becomes a
/// boolean). Pairs that do not decode are skipped.
pub fn value_to_infos(value: &str) -> Infos {
    let mut infos = Infos::new();
    for pair in value.split(',') {
        let Some((k, v)) = pair.split_once(':') else {
            continue;
        };
        if k.is_empty() {
            continue;
        }
        let v = match k {
            "NTLM_Version" | "ntlm-fingerprint" => Value::String(v.to_owned()),
            "is_guest" => match v {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => continue,
            },
            _ => match B64.decode(v) {
                Ok(b) => Value::String(match String::from_utf8(b) {
                    Ok(s) => s,
                    Err(e) => escape::encode(e.as_bytes()),
                }),
                Err(_) => continue,
            },
        };
        infos.insert(k.to_owned(), v);
    }
    infos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(b64: &str) -> NtlmMessage {
        parse(&B64.decode(b64).unwrap()).unwrap()
    }

    #[test]
    fn negotiate() {
        let m = msg("TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=");
        assert_eq!(m.msg_type, 1);
        assert_eq!(fingerprint(m.flags.unwrap()), "ntlm-fingerprint:0x00088206");
        assert!(m.pairs.is_empty());
    }

    #[test]
    fn challenge() {
        let m = msg("TlRMTVNTUAACAAAABQAFADgAAAAGgooCXpn0VvmfcC0AAAAAAAAAADwAPAA9AAAABQLODgAAAA9XMjAwMwIACgBXADIAMAAwADMAAQAKAFcAMgAwADAAMwAEAAoAVwAyADAAMAAzAAMACgBXADIAMAAwADMAAAAAAA==");
        assert_eq!(m.flags, Some(0x028a8206));
        let v = pairs_to_value(&m.pairs);
        assert!(v.starts_with("Target_Name:VzIwMDM=,Product_Version:NS4yLjM3OTA=,NTLM_Version:15,NetBIOS_Domain_Name:"), "{v}");
        let infos = value_to_infos(&v);
        assert_eq!(infos["DNS_Computer_Name"], "W2003");
    }

    #[test]
    fn authenticate() {
        let m = msg("TlRMTVNTUAADAAAAGAAYAEAAAABsAGwAWAAAAAAAAADEAAAABAAEAMQAAAAIAAgAyAAAAAAAAAAAAAAABoKKAkYg3wQHFmJJo6Kd5XarYS2n+Uhvg9KRcGNtKeqX5S2GX96f8wWf17EBAQAAAAAAAABrOYxT5NYBp/lIb4PSkXAAAAAAAgAKAFcAMgAwADAAMwABAAoAVwAyADAAMAAzAAQACgBXADIAMAAwADMAAwAKAFcAMgAwADAAMwAAAAAAAAAAAHVzZXJhemF0aG90aA==");
        assert_eq!(m.flags, None);
        assert_eq!(
            pairs_to_value(&m.pairs),
            "User_Name:dXNlcg==,Workstation:YXphdGhvdGg="
        );
    }

    #[test]
    fn garbage() {
        assert!(parse(b"NTLMSSP\0\x02\0\0\0").is_none());
        assert!(parse(b"NTLMSSP\0\x03\0\0\0\xff\xff\xff\xff").is_none());
        let mut seed = 7u64;
        for n in 0..500usize {
            let mut d = SIGNATURE.to_vec();
            d.push((n % 4) as u8);
            d.extend_from_slice(&[0, 0, 0]);
            for _ in 0..(n % 90) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                d.push((seed >> 56) as u8 % 80);
            }
            let _ = parse(&d);
        }
    }
}
