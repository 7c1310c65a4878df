//! RPSL, the format of the RIRs' whois dumps (RIPE, APNIC, AFRINIC and
//! LACNIC bulk files): a streaming reader that gives one object at a time,
//! and keeps the objects the `rir` purpose stores: `inetnum` (an IPv4
//! range), `inet6num` (an IPv6 network) and `aut-num` (an AS number).
//!
//! An object is a run of `key: value` lines ended by an empty line. A line
//! starting with a space, a tab or `+` continues the value of the attribute
//! before it (the pieces are joined with newlines); lines starting with `%`
//! or `#` are comments. A value is kept as written (end-of-line `# comments`
//! included: the record keeps everything), except the values parsed into
//! typed fields (range, AS number, country), which are read without them.
//!
//! Bytes that are not UTF-8 (older dumps are Latin-1) are read as Latin-1,
//! so that no byte is lost. A line longer than [`MAX_LINE`] or an object of
//! more than [`MAX_OBJECT_LINES`] lines ends the file with an error (a
//! hostile or broken input must not exhaust memory); a malformed object is
//! skipped with an error naming its line.

use crate::ipcalc::{Family, Range};
use crate::reader::{Position, RecordReader};
use std::io::{self, BufRead, Read};
use std::net::{IpAddr, Ipv4Addr};

/// Longest line accepted, in bytes.
pub const MAX_LINE: u64 = 1 << 20;
/// Most lines in one object.
pub const MAX_OBJECT_LINES: usize = 100_000;

/// The classes of objects the `rir` purpose stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RirKind {
    Inetnum,
    Inet6num,
    AutNum,
}

impl RirKind {
    /// The RPSL class name (the key of the object's first attribute).
    pub fn as_str(self) -> &'static str {
        match self {
            RirKind::Inetnum => "inetnum",
            RirKind::Inet6num => "inet6num",
            RirKind::AutNum => "aut-num",
        }
    }

    pub fn from_class(class: &str) -> Option<RirKind> {
        match class {
            "inetnum" => Some(RirKind::Inetnum),
            "inet6num" => Some(RirKind::Inet6num),
            "aut-num" => Some(RirKind::AutNum),
            _ => None,
        }
    }
}

/// One stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RirObject {
    pub kind: RirKind,
    /// The addresses of an `inetnum` / `inet6num`.
    pub range: Option<Range>,
    /// The number of an `aut-num`.
    pub aut_num: Option<u32>,
    /// Every attribute, in order, as written (the class attribute first);
    /// continuation lines joined with `\n`.
    pub attrs: Vec<(String, String)>,
    /// Line of the object's first attribute (1-based).
    pub line: u64,
}

impl RirObject {
    /// The values of `key` (every occurrence, joined with `\n`), if any.
    pub fn get(&self, key: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for (k, v) in &self.attrs {
            if k == key {
                match &mut out {
                    Some(s) => {
                        s.push('\n');
                        s.push_str(v);
                    }
                    None => out = Some(v.clone()),
                }
            }
        }
        out
    }

    /// The first value of `key`, without its end-of-line comment and
    /// surrounding blanks; none when empty.
    pub fn first_clean(&self, key: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| strip_comment(v).to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn netname(&self) -> Option<String> {
        self.first_clean("netname")
    }

    /// The object's country code, upper case (`EU # worldwide` gives `EU`).
    pub fn country(&self) -> Option<String> {
        self.first_clean("country").map(|c| c.to_ascii_uppercase())
    }

    pub fn descr(&self) -> Option<String> {
        self.get("descr")
    }

    pub fn as_name(&self) -> Option<String> {
        self.first_clean("as-name")
    }
}

/// The value without its end-of-line `# comment`, trimmed.
pub fn strip_comment(v: &str) -> &str {
    v.split('#').next().unwrap_or("").trim()
}

/// What is wrong with the input, and where.
#[derive(Debug, thiserror::Error)]
pub enum RirError {
    #[error("line {line}: {message}")]
    Syntax { line: u64, message: String },
    #[error("line {line}: {message}")]
    TooLarge { line: u64, message: String },
    #[error("line {line}: read error: {source}")]
    Io { line: u64, source: io::Error },
}

impl RirError {
    pub fn line(&self) -> u64 {
        match self {
            RirError::Syntax { line, .. }
            | RirError::TooLarge { line, .. }
            | RirError::Io { line, .. } => *line,
        }
    }
}

/// Reads the objects of an RPSL file one at a time; objects of other
/// classes (person, mntner, route...) are read and passed over.
pub struct RpslReader<R> {
    input: R,
    /// Lines read so far.
    line: u64,
    /// Line of the current object's start.
    start: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> RpslReader<R> {
    pub fn new(input: R) -> Self {
        RpslReader {
            input,
            line: 0,
            start: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    /// Lines read so far (after the last object returned, the count of the
    /// lines it spans and those before it).
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// The next line (without its end of line), `None` at the end.
    fn next_line(&mut self) -> Result<Option<String>, RirError> {
        self.buf.clear();
        let n = (&mut self.input)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| RirError::Io {
                line: self.line + 1,
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.len() as u64 > MAX_LINE {
            return Err(RirError::TooLarge {
                line: self.line,
                message: format!("line longer than {MAX_LINE} bytes"),
            });
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Ok(Some(match std::str::from_utf8(&self.buf) {
            Ok(s) => s.to_string(),
            // Latin-1: every byte is the code point of the same value.
            Err(_) => self.buf.iter().map(|&b| b as char).collect(),
        }))
    }

    /// The next object's attributes (any class), `None` at the end.
    fn next_object(&mut self) -> Result<Option<Vec<(String, String)>>, RirError> {
        let mut attrs: Vec<(String, String)> = Vec::new();
        let mut error: Option<RirError> = None;
        let mut lines = 0usize;
        while let Some(line) = self.next_line()? {
            if line.trim().is_empty() {
                if attrs.is_empty() && error.is_none() {
                    continue;
                }
                break;
            }
            if attrs.is_empty() && error.is_none() {
                if line.starts_with(['%', '#']) {
                    continue;
                }
                self.start = self.line;
            }
            lines += 1;
            if lines > MAX_OBJECT_LINES {
                return Err(RirError::TooLarge {
                    line: self.start,
                    message: format!("object of more than {MAX_OBJECT_LINES} lines"),
                });
            }
            if error.is_some() {
                // The rest of a malformed object: read to its end.
                continue;
            }
            if line.starts_with(['%', '#']) {
                continue;
            }
            if let Some(rest) = line.strip_prefix([' ', '\t', '+']) {
                match attrs.last_mut() {
                    Some((_, v)) => {
                        v.push('\n');
                        v.push_str(rest.trim());
                    }
                    None => {
                        error = Some(RirError::Syntax {
                            line: self.line,
                            message: "continuation line before any attribute".into(),
                        })
                    }
                }
                continue;
            }
            match line.split_once(':') {
                Some((key, value)) if is_key(key) => {
                    attrs.push((key.to_ascii_lowercase(), value.trim().to_string()));
                }
                _ => {
                    error = Some(RirError::Syntax {
                        line: self.line,
                        message: format!(
                            "not an RPSL attribute (key: value): {:?}",
                            truncate(&line, 60)
                        ),
                    })
                }
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        Ok((!attrs.is_empty()).then_some(attrs))
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// An attribute name: letters, digits, `-` and `_`.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl<R: BufRead> RecordReader for RpslReader<R> {
    type Record = RirObject;
    type Error = RirError;

    fn next_record(&mut self) -> Result<Option<RirObject>, RirError> {
        if self.done {
            return Ok(None);
        }
        loop {
            let attrs = match self.next_object() {
                Ok(Some(a)) => a,
                Ok(None) => {
                    self.done = true;
                    return Ok(None);
                }
                Err(e) => {
                    if self.is_fatal(&e) {
                        self.done = true;
                    }
                    return Err(e);
                }
            };
            let Some(kind) = RirKind::from_class(&attrs[0].0) else {
                continue;
            };
            return object(kind, attrs, self.start).map(Some);
        }
    }

    fn is_fatal(&self, error: &RirError) -> bool {
        !matches!(error, RirError::Syntax { .. })
    }

    fn position(&self) -> Position {
        Position {
            line: self.start,
            column: 0,
        }
    }
}

/// Builds the stored object from its attributes.
fn object(kind: RirKind, attrs: Vec<(String, String)>, line: u64) -> Result<RirObject, RirError> {
    let key = strip_comment(&attrs[0].1).to_string();
    let bad = |what: &str| RirError::Syntax {
        line,
        message: format!("{}: {what}: {key:?}", kind.as_str()),
    };
    let (range, aut_num) = match kind {
        RirKind::Inetnum | RirKind::Inet6num => {
            let range = parse_inetnum(&key).ok_or_else(|| bad("not an address range"))?;
            (Some(range), None)
        }
        RirKind::AutNum => (None, Some(parse_asn(&key).ok_or_else(|| bad("not an AS"))?)),
    };
    Ok(RirObject {
        kind,
        range,
        aut_num,
        attrs,
        line,
    })
}

/// `AS3215`, `as3215` or `3215`.
pub fn parse_asn(s: &str) -> Option<u32> {
    let s = s.trim();
    let digits = s
        .strip_prefix("AS")
        .or_else(|| s.strip_prefix("as"))
        .or_else(|| s.strip_prefix("As"))
        .or_else(|| s.strip_prefix("aS"))
        .unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// An `inetnum` / `inet6num` key: `A - B` (IPv4, leading zeros allowed
/// as some dumps write them), or a network `ADDR/N` (IPv6, and LACNIC's
/// abbreviated IPv4 `24.232.16/24`).
pub fn parse_inetnum(s: &str) -> Option<Range> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once('-') {
        let (a, b) = (parse_addr(a.trim())?, parse_addr(b.trim())?);
        return Range::parse(&a.to_string(), &b.to_string()).ok();
    }
    let (addr, prefix) = s.split_once('/')?;
    let addr = match addr.parse::<IpAddr>() {
        Ok(a) => a,
        Err(_) => IpAddr::V4(parse_v4(addr, true)?),
    };
    let prefix: u32 = prefix.trim().parse().ok()?;
    if prefix > Family::of(addr).bits() {
        return None;
    }
    Range::from_cidr(&format!("{addr}/{prefix}")).ok()
}

/// An address, IPv4 with leading zeros accepted.
fn parse_addr(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| parse_v4(s, false).map(IpAddr::V4))
}

/// Dotted decimal IPv4, each part up to 3 digits; `abbreviated`: fewer
/// than four parts, the missing ones zero.
fn parse_v4(s: &str, abbreviated: bool) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut n = 0;
    for part in s.split('.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        octets[n] = part.parse().ok()?;
        n += 1;
    }
    (n == 4 || (abbreviated && n > 0)).then(|| Ipv4Addr::from(octets))
}

/// The form an `inetnum` header is printed in: the network when the range
/// is one, else `first - last`.
pub fn range_label(r: &Range) -> String {
    let mut cidrs = r.cidrs();
    match (cidrs.next(), cidrs.next()) {
        (Some(c), None) => c.to_string(),
        _ => format!("{} - {}", r.first(), r.last()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Vec<Result<RirObject, String>> {
        RpslReader::new(text)
            .records()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn objects_continuations_and_comments() {
        let text = b"% comment\n# comment\n\nperson: X\naddress: a\n\ninetnum:  10.0.0.0 - 10.0.0.255\nnetname:  NET\ndescr:    one\n          two\n+\tthree\n\tfour\ndescr:    five\ncountry:  eu # worldwide\n\naut-num: AS65537\nas-name: TEST-AS\n\ninet6num: 2001:db8::/48\nnetname: V6\n";
        let objs: Vec<RirObject> = read(text).into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(objs.len(), 3);
        let v4 = &objs[0];
        assert_eq!(v4.kind, RirKind::Inetnum);
        assert_eq!(v4.line, 7);
        assert_eq!(v4.range.unwrap().to_string(), "10.0.0.0-10.0.0.255");
        assert_eq!(v4.descr().unwrap(), "one\ntwo\nthree\nfour\nfive");
        assert_eq!(v4.country().unwrap(), "EU");
        assert_eq!(v4.get("country").unwrap(), "eu # worldwide");
        assert_eq!(v4.netname().unwrap(), "NET");
        assert_eq!(range_label(&v4.range.unwrap()), "10.0.0.0/24");
        assert_eq!(objs[1].aut_num, Some(65537));
        assert_eq!(objs[1].as_name().unwrap(), "TEST-AS");
        assert_eq!(
            objs[2].range.unwrap().to_string(),
            "2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff"
        );
    }

    #[test]
    fn range_forms() {
        assert_eq!(
            parse_inetnum("192.0.2.0 - 192.0.02.255")
                .unwrap()
                .to_string(),
            "192.0.2.0-192.0.2.255"
        );
        assert_eq!(
            parse_inetnum("24.232.16/24").unwrap().to_string(),
            "24.232.16.0-24.232.16.255"
        );
        assert_eq!(parse_inetnum("0::/0").unwrap().size(), u128::MAX);
        assert_eq!(
            range_label(&parse_inetnum("10.0.0.0 - 10.0.1.3").unwrap()),
            "10.0.0.0 - 10.0.1.3"
        );
        for bad in [
            "",
            "10.0.0.1 - 10.0.0.0",
            "1.2.3.4 - ::1",
            "1.2.3.4/33",
            "x - y",
            "1.2.3/x",
            "256.1.1.1 - 1.1.1.1",
        ] {
            assert!(parse_inetnum(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_asn("AS3215"), Some(3215));
        assert_eq!(parse_asn("3215"), Some(3215));
        assert_eq!(parse_asn("AS"), None);
        assert_eq!(parse_asn("AS99999999999"), None);
    }

    #[test]
    fn malformed_objects_are_skipped_with_their_line() {
        let text = b"inetnum: 10.0.0.0 - 9.0.0.0\nnetname: A\n\n garbage first\nx: y\n\nno colon here\n\ninetnum: 10.0.0.0 - 10.0.0.1\nnetname: OK\n";
        let out = read(text);
        assert_eq!(out.len(), 4);
        assert!(out[0].as_ref().unwrap_err().starts_with("line 1: inetnum"));
        assert!(out[1]
            .as_ref()
            .unwrap_err()
            .starts_with("line 4: continuation"));
        assert!(out[2]
            .as_ref()
            .unwrap_err()
            .starts_with("line 7: not an RPSL"));
        assert_eq!(out[3].as_ref().unwrap().netname().unwrap(), "OK");
    }

    #[test]
    fn latin1_is_kept_and_huge_lines_end_the_file() {
        let text = b"inetnum: 10.0.0.0 - 10.0.0.1\ndescr: caf\xe9\n";
        assert_eq!(
            read(text)[0].as_ref().unwrap().descr().unwrap(),
            "caf\u{e9}"
        );
        let mut huge = b"inetnum: 10.0.0.0 - 10.0.0.1\ndescr: ".to_vec();
        huge.resize(huge.len() + MAX_LINE as usize + 10, b'x');
        huge.extend_from_slice(b"\n\ninetnum: 10.0.0.0 - 10.0.0.1\n");
        let out = read(&huge);
        assert_eq!(out.len(), 1);
        assert!(out[0].as_ref().unwrap_err().contains("line 2: line longer"));
    }

    /// Mangled inputs (bytes flipped, cut, lines duplicated) never panic
    /// and every error names a line inside the input.
    #[test]
    fn mangled_inputs_never_panic() {
        let base: &[u8] = b"inetnum: 10.0.0.0 - 10.255.255.255\nnetname: N\ndescr: d\n d2\ncountry: FR\n\naut-num: AS1\nas-name: X\n\ninet6num: 2001:db8::/32\nnetname: V6\n+ cont\n";
        let mut rng = crate::targets::XorShift::new(7);
        let lines = base.iter().filter(|&&b| b == b'\n').count() as u64 + 2;
        for _ in 0..3000 {
            let mut data = base.to_vec();
            for _ in 0..(rng.next_u64() % 6) {
                let i = (rng.next_u64() as usize) % data.len();
                match rng.next_u64() % 4 {
                    0 => data[i] = rng.next_u64() as u8,
                    1 => data.truncate(i),
                    2 => data.insert(i, b"\n:-/# +\t"[(rng.next_u64() % 8) as usize]),
                    _ => {
                        let piece = data[i..].to_vec();
                        data.extend_from_slice(&piece[..piece.len().min(20)]);
                    }
                }
                if data.is_empty() {
                    break;
                }
            }
            for r in RpslReader::new(&data[..]).records() {
                if let Err(e) = r {
                    assert!(e.line() >= 1 && e.line() <= lines * 2, "{e}");
                }
            }
        }
    }
}
