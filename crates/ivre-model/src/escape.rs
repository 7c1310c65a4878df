//! Text forms of binary values (spec 2.1.3), shared by every purpose: the
//! Nmap-style escaping is what Nmap writes in version info (filled by
//! [`crate::probes`]) and what passive records store.
//!
//! Zeek writes non-printable bytes as `\xNN` and a backslash as `\\`; IVRE
//! keeps that escaped text as the stored value and only decodes it for some
//! recontypes, with an "Nmap-style" decoder. When a value is rewritten it is
//! re-encoded Nmap-style (`\r`, `\n`, `\t`, `\\`, other non-printables
//! `\xNN`).

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes an escaped text value into bytes: understands `\xNN`, `\\`,
/// `\r`, `\n`, `\t`, `\0`, `\"`, `\'`, `\a`, `\b`, `\f`, `\v`; any other
/// backslash sequence is kept verbatim.
pub fn decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        let simple = match c {
            b'\\' => Some(b'\\'),
            b'r' => Some(b'\r'),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'0' => Some(0),
            b'"' => Some(b'"'),
            b'\'' => Some(b'\''),
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'v' => Some(11),
            _ => None,
        };
        if let Some(v) = simple {
            out.push(v);
            i += 2;
            continue;
        }
        if c == b'x' && i + 3 < b.len() {
            if let (Some(h), Some(l)) = (hex_val(b[i + 2]), hex_val(b[i + 3])) {
                out.push(h << 4 | l);
                i += 4;
                continue;
            }
        }
        out.push(b'\\');
        i += 1;
    }
    out
}

/// Encodes bytes Nmap-style: `\r`, `\n`, `\t`, `\\` short forms, printable
/// ASCII as is, anything else `\xNN` (lower-case hex).
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    for &c in data {
        match c {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out
}

/// Encodes bytes the way Zeek's ASCII writer does: printable ASCII as is,
/// backslash as `\\`, anything else (and the separator) `\xNN`.
pub fn zeek_encode(data: &[u8], separator: u8) -> String {
    let mut out = String::with_capacity(data.len());
    for &c in data {
        match c {
            b'\\' => out.push_str("\\\\"),
            _ if c == separator => out.push_str(&format!("\\x{c:02x}")),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out
}

/// Turns arbitrary bytes into text, escaping every byte of an invalid UTF-8
/// sequence as `\xNN` (valid UTF-8 passes through, as with Zeek's
/// `LogAscii::enable_utf_8`).
pub fn lossless_utf8(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let mut out = String::with_capacity(data.len() + 16);
            for chunk in data.utf8_chunks() {
                out.push_str(chunk.valid());
                for &b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let raw = b"220 hi\r\n\x00\xff\\x";
        let enc = encode(raw);
        assert_eq!(enc, "220 hi\\r\\n\\x00\\xff\\\\x");
        assert_eq!(decode(&enc), raw);
        assert_eq!(decode("\\x0d\\x0a\\x4"), b"\r\n\\x4");
        assert_eq!(decode("abc\\"), b"abc\\");
        assert_eq!(zeek_encode(b"a\tb\\\x01", b'\t'), "a\\x09b\\\\\\x01");
        assert_eq!(lossless_utf8(b"a\xffb\xc3\xa9"), "a\\xffbé");
    }
}
