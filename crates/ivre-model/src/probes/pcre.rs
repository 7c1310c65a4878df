//! Translation of Nmap's PCRE patterns to the `regex` crate's syntax (bytes
//! API, Unicode off so that `.` and `\xHH` are bytes).
//!
//! What `regex` cannot express (lookarounds, backreferences, atomic groups,
//! possessive quantifiers, ...) is an [`UnsupportedPattern`]. Nmap's HTTP
//! header-skipping idiom `(?:[^\r\n]*\r\n(?!\r\n))*?` (about 640 patterns)
//! is rewritten to an equivalent lookahead-free form when a header name
//! follows; PCRE's `$` (end, or before a final `\n`) becomes `(?:\n?\z)`;
//! `\0`, octal and `\xH`/`\xHH` escapes become bytes. The literal prefix
//! every match starts with is kept aside for a cheap pre-check.

/// Why a pattern cannot be translated: the match line never matches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsupportedPattern {
    #[error("trailing backslash")]
    TrailingBackslash,
    #[error("octal escape out of range")]
    OctalOutOfRange,
    #[error("backreference")]
    Backreference,
    #[error("unterminated \\x{{")]
    UnterminatedBraceHex,
    #[error("invalid \\x{{}}")]
    InvalidBraceHex,
    #[error("\\x{{}} escape above 0xFF")]
    BraceHexAboveByte,
    #[error("unsupported escape \\{0}")]
    Escape(char),
    #[error("invalid POSIX class")]
    PosixClass,
    #[error("lookaround")]
    Lookaround,
    #[error("atomic group")]
    AtomicGroup,
    #[error("unterminated comment")]
    UnterminatedComment,
    #[error("unterminated group name")]
    UnterminatedGroupName,
    #[error("invalid group name")]
    GroupName,
    #[error("unterminated group")]
    UnterminatedGroup,
    #[error("unsupported group construct")]
    GroupConstruct,
    /// `$` is translated assuming no multi-line mode.
    #[error("multi-line inline flag")]
    MultiLineFlag,
    #[error("possessive quantifier")]
    PossessiveQuantifier,
    #[error("unterminated character class")]
    UnterminatedClass,
}

/// A pattern in the `regex` crate's syntax.
#[derive(Debug)]
pub(super) struct Translated {
    /// Pattern in the `regex` crate syntax (ASCII only).
    pub(super) pattern: String,
    /// Literal bytes every match must start with at offset 0 (empty if
    /// unknown).
    pub(super) prefix: Vec<u8>,
}

fn push_byte(out: &mut String, byte: u8) {
    // two-digit form: in non-Unicode mode it is a byte, also inside classes
    // (`\x{80}` is a code point there)
    out.push_str(&format!("\\x{byte:02X}"));
}

/// Nmap's HTTP idiom "skip header lines, without going past the end of the
/// headers": `(?:[^\r\n]*\r\n(?!\r\n))*?`, followed by a header name.
const HEADER_SKIP_IDIOM: &[u8] = b"(?:[^\\r\\n]*\\r\\n(?!\\r\\n))*?";
/// Equivalent without lookahead, as long as what follows cannot start with
/// `\r\n`: the first line may be empty, the next ones may not.
const HEADER_SKIP_REPLACEMENT: &str = "(?:[^\\r\\n]*\\r\\n(?:[^\\r\\n]+\\r\\n)*?)??";

/// Length of the header-skip idiom at the start of `pat`, when it is followed
/// by a mandatory letter (so that the rewrite is exact).
fn header_skip_idiom(pat: &[u8]) -> Option<usize> {
    let rest = pat.strip_prefix(HEADER_SKIP_IDIOM)?;
    let next = *rest.first()?;
    let quantified = matches!(rest.get(1), Some(b'?' | b'*' | b'{'));
    (next.is_ascii_alphabetic() && !quantified).then_some(HEADER_SKIP_IDIOM.len())
}

/// Translates a PCRE pattern (as used by Nmap) to the `regex` crate syntax,
/// or explains why it cannot.
pub(super) fn translate_pcre(pat: &[u8]) -> Result<Translated, UnsupportedPattern> {
    let mut out = String::with_capacity(pat.len() + 16);
    // Literal prefix tracking: only while we are in the initial run of
    // literals after a leading `^`.
    let mut prefix: Vec<u8> = Vec::new();
    let mut in_prefix = pat.first() == Some(&b'^');
    let mut top_level_alternation = false;
    let mut depth = 0usize;
    let mut in_class = false;
    let mut class_start = 0usize; // index in `pat` of the first class item
    let mut i = 0;
    if in_prefix {
        out.push('^');
        i = 1;
    }
    let n = pat.len();
    while i < n {
        let c = pat[i];
        if c == b'\\' {
            let Some(&e) = pat.get(i + 1) else {
                return Err(UnsupportedPattern::TrailingBackslash);
            };
            i += 2;
            // A literal byte produced by this escape, if any.
            let mut literal: Option<u8> = None;
            match e {
                b'0'..=b'7' if e == b'0' || in_class => {
                    // octal: \0, \0N, \0NN (and \N.. inside a class)
                    let mut value = u32::from(e - b'0');
                    let mut taken = 0;
                    while taken < 2 && i < n && (b'0'..=b'7').contains(&pat[i]) {
                        value = value * 8 + u32::from(pat[i] - b'0');
                        i += 1;
                        taken += 1;
                    }
                    if value > 255 {
                        return Err(UnsupportedPattern::OctalOutOfRange);
                    }
                    literal = Some(value as u8);
                }
                b'1'..=b'9' => return Err(UnsupportedPattern::Backreference),
                b'x' => {
                    if pat.get(i) == Some(&b'{') {
                        let end = pat[i..]
                            .iter()
                            .position(|&b| b == b'}')
                            .ok_or(UnsupportedPattern::UnterminatedBraceHex)?;
                        let hex = std::str::from_utf8(&pat[i + 1..i + end])
                            .map_err(|_| UnsupportedPattern::InvalidBraceHex)?;
                        let value = u32::from_str_radix(hex, 16)
                            .map_err(|_| UnsupportedPattern::InvalidBraceHex)?;
                        if value > 255 {
                            return Err(UnsupportedPattern::BraceHexAboveByte);
                        }
                        literal = Some(value as u8);
                        i += end + 1;
                    } else {
                        let hex = pat[i..]
                            .iter()
                            .take(2)
                            .take_while(|b| b.is_ascii_hexdigit())
                            .count();
                        let value = if hex == 0 {
                            0
                        } else {
                            let text = std::str::from_utf8(&pat[i..i + hex]).unwrap_or("0");
                            u8::from_str_radix(text, 16).unwrap_or(0)
                        };
                        i += hex;
                        literal = Some(value);
                    }
                }
                b'a' => literal = Some(7),
                b'e' => literal = Some(0x1B),
                b'f' => literal = Some(12),
                b'n' => literal = Some(b'\n'),
                b'r' => literal = Some(b'\r'),
                b't' => literal = Some(b'\t'),
                b'b' if in_class => literal = Some(8),
                // PCRE's vertical / horizontal white space classes
                b'v' => out.push_str(if in_class {
                    "\\n\\x0B\\x0C\\r\\x85"
                } else {
                    "[\\n\\x0B\\x0C\\r\\x85]"
                }),
                b'h' => out.push_str(if in_class { " \\t\\xA0" } else { "[ \\t\\xA0]" }),
                b'd' | b'D' | b'w' | b'W' | b's' | b'S' => {
                    out.push('\\');
                    out.push(e as char);
                }
                b'b' | b'B' | b'A' | b'z' => {
                    out.push('\\');
                    out.push(e as char);
                }
                b'Z' => out.push_str("(?:\\n?\\z)"),
                _ if e.is_ascii_alphanumeric() => {
                    return Err(UnsupportedPattern::Escape(e as char));
                }
                // escaped punctuation, space or non-ASCII byte
                _ => literal = Some(e),
            }
            match literal {
                Some(byte) => {
                    push_byte(&mut out, byte);
                    if in_prefix && !in_class {
                        prefix.push(byte);
                    }
                }
                None => in_prefix = false,
            }
            continue;
        }
        if in_class {
            i += 1;
            match c {
                b']' if i - 1 > class_start => {
                    in_class = false;
                    out.push(']');
                }
                b'[' => {
                    // POSIX class [:name:] or a literal `[`
                    if pat.get(i) == Some(&b':') {
                        if let Some(end) = pat[i + 1..].windows(2).position(|w| w == b":]") {
                            let name = &pat[i..i + 1 + end + 2];
                            if !name[1..name.len() - 2]
                                .iter()
                                .all(|b| b.is_ascii_alphabetic() || *b == b'^')
                            {
                                return Err(UnsupportedPattern::PosixClass);
                            }
                            out.push('[');
                            out.push_str(&String::from_utf8_lossy(name));
                            i += 1 + end + 2;
                            continue;
                        }
                    }
                    out.push_str("\\[");
                }
                b'-' if pat.get(i) == Some(&b'-') => {
                    // avoid the `--` set-difference operator
                    out.push('-');
                    out.push_str("\\-");
                    i += 1;
                }
                b'&' | b'~' | b'^' => push_byte(&mut out, c),
                _ if !c.is_ascii() || c.is_ascii_control() => push_byte(&mut out, c),
                _ => out.push(c as char),
            }
            continue;
        }
        i += 1;
        match c {
            b'[' => {
                in_prefix = false;
                in_class = true;
                out.push('[');
                if pat.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i;
                if pat.get(i) == Some(&b']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            b'(' => {
                in_prefix = false;
                if let Some(len) = header_skip_idiom(&pat[i - 1..]) {
                    out.push_str(HEADER_SKIP_REPLACEMENT);
                    i += len - 1;
                    continue;
                }
                if pat.get(i) != Some(&b'?') {
                    depth += 1;
                    out.push('(');
                    continue;
                }
                let rest = &pat[i + 1..];
                if rest.starts_with(b"=")
                    || rest.starts_with(b"!")
                    || rest.starts_with(b"<=")
                    || rest.starts_with(b"<!")
                {
                    return Err(UnsupportedPattern::Lookaround);
                }
                if rest.starts_with(b">") {
                    return Err(UnsupportedPattern::AtomicGroup);
                }
                if rest.starts_with(b"#") {
                    let end = rest
                        .iter()
                        .position(|&b| b == b')')
                        .ok_or(UnsupportedPattern::UnterminatedComment)?;
                    i += 1 + end + 1;
                    continue;
                }
                if rest.starts_with(b":") {
                    depth += 1;
                    out.push_str("(?:");
                    i += 2;
                    continue;
                }
                // named groups: (?<name>...), (?P<name>...), (?'name'...)
                let name_start = if rest.starts_with(b"P<") {
                    Some((2, b'>'))
                } else if rest.starts_with(b"<") {
                    Some((1, b'>'))
                } else if rest.starts_with(b"'") {
                    Some((1, b'\''))
                } else {
                    None
                };
                if let Some((skip, close)) = name_start {
                    let end = rest[skip..]
                        .iter()
                        .position(|&b| b == close)
                        .ok_or(UnsupportedPattern::UnterminatedGroupName)?;
                    let name = &rest[skip..skip + end];
                    if name.is_empty()
                        || !name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    {
                        return Err(UnsupportedPattern::GroupName);
                    }
                    depth += 1;
                    out.push_str("(?P<");
                    out.push_str(std::str::from_utf8(name).unwrap_or("_"));
                    out.push('>');
                    i += 1 + skip + end + 1;
                    continue;
                }
                // inline flags: (?flags) or (?flags:...)
                let end = rest
                    .iter()
                    .position(|&b| b == b':' || b == b')')
                    .ok_or(UnsupportedPattern::UnterminatedGroup)?;
                let flags = &rest[..end];
                if flags.is_empty()
                    || !flags
                        .iter()
                        .all(|b| matches!(b, b'i' | b's' | b'm' | b'x' | b'U' | b'-'))
                {
                    return Err(UnsupportedPattern::GroupConstruct);
                }
                if flags.contains(&b'm') {
                    // `$` is translated assuming no multi-line mode
                    return Err(UnsupportedPattern::MultiLineFlag);
                }
                if rest[end] == b':' {
                    depth += 1;
                }
                out.push_str("(?");
                out.push_str(std::str::from_utf8(&rest[..=end]).unwrap_or(")"));
                i += 1 + end + 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                out.push(')');
            }
            b'|' => {
                if depth == 0 {
                    top_level_alternation = true;
                }
                in_prefix = false;
                out.push('|');
            }
            b'*' | b'+' | b'?' => {
                if pat.get(i) == Some(&b'+') {
                    return Err(UnsupportedPattern::PossessiveQuantifier);
                }
                if in_prefix && c != b'+' {
                    // the previous literal is optional
                    prefix.pop();
                }
                in_prefix = false;
                out.push(c as char);
            }
            b'{' => {
                let rest = &pat[i..];
                let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
                let mut len = digits;
                if digits > 0 && rest.get(len) == Some(&b',') {
                    len += 1;
                    len += rest[len..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                }
                if digits > 0 && rest.get(len) == Some(&b'}') {
                    if rest.get(len + 1) == Some(&b'+') {
                        return Err(UnsupportedPattern::PossessiveQuantifier);
                    }
                    if in_prefix {
                        prefix.pop();
                    }
                    in_prefix = false;
                    out.push('{');
                    out.push_str(std::str::from_utf8(&rest[..len]).unwrap_or("1"));
                    out.push('}');
                    i += len + 1;
                } else {
                    push_byte(&mut out, b'{');
                    if in_prefix {
                        prefix.push(b'{');
                    }
                }
            }
            b'}' => {
                push_byte(&mut out, b'}');
                if in_prefix {
                    prefix.push(b'}');
                }
            }
            b'$' => {
                in_prefix = false;
                out.push_str("(?:\\n?\\z)");
            }
            b'^' | b'.' => {
                in_prefix = false;
                out.push(c as char);
            }
            _ => {
                if c.is_ascii_alphanumeric() {
                    out.push(c as char);
                } else {
                    push_byte(&mut out, c);
                }
                if in_prefix {
                    prefix.push(c);
                }
            }
        }
    }
    if in_class {
        return Err(UnsupportedPattern::UnterminatedClass);
    }
    if top_level_alternation {
        prefix.clear();
    }
    Ok(Translated {
        pattern: out,
        prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::super::ServiceProbes;
    use super::*;

    #[test]
    fn pcre_translation() {
        let t = |p: &[u8]| translate_pcre(p).map(|t| (t.pattern, t.prefix));
        let (pattern, prefix) = t(b"^SSH-\\d").unwrap();
        assert_eq!(prefix, b"SSH-");
        assert!(pattern.starts_with('^'));
        assert_eq!(t(b"^ab?c").unwrap().1, b"a");
        assert_eq!(t(b"^ab|cd").unwrap().1, b"");
        assert_eq!(t(b"^\\0\\x1\\xff").unwrap().1, b"\0\x01\xff");
        assert!(t(b"[[]").is_ok());
        assert!(t(b"a(?=b)").is_err());
        assert!(t(b"(a)\\1").is_err());
        assert!(t(b"[a").is_err());
        assert_eq!(
            translate_pcre(b"\\x{100}").unwrap_err().to_string(),
            "\\x{} escape above 0xFF"
        );
        assert_eq!(
            translate_pcre(b"\\q").unwrap_err().to_string(),
            "unsupported escape \\q"
        );
        // binary-safe: \xff matches a raw byte, `.` any byte but \n
        let probes = ServiceProbes::from_reader(
            &b"Probe TCP NULL q||\nmatch bin m|^\\xff.\\0(.)$| p/bin/ v/$1/\n"[..],
        )
        .unwrap();
        let m = probes
            .match_banner(&["NULL"], "tcp", 1, b"\xff\xfe\0\x80\n")
            .unwrap();
        assert_eq!(m.version.as_deref(), Some("\\x80"));
    }
}
