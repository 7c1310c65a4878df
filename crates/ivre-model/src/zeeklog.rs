//! Neutral: the header of Zeek ASCII (TSV) logs, shared by the readers of
//! every purpose (passive `passive_recon` logs, flow `conn.log` and protocol
//! logs).
//!
//! Header lines start with `#`: `#separator \x09` (its argument is
//! `\xNN`-escaped and follows a space), then, split on the separator,
//! `#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#fields`,
//! `#types`, `#open`, `#close`. They may re-appear mid-stream (concatenated
//! logs) and are applied again. Dots in field names become underscores
//! (`id.orig_h` → `id_orig_h`).

use crate::escape::lossless_utf8;

/// A header line that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("empty #separator")]
    EmptySeparator,
    #[error("#fields without any field")]
    NoFields,
}

/// Which directive a header line was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    Separator,
    SetSeparator,
    EmptyField,
    UnsetField,
    Path,
    Fields,
    Types,
    /// `#open`, `#close`, comments: nothing to apply.
    Other,
}

/// The state a Zeek log's header lines set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZeekHeader {
    pub separator: Vec<u8>,
    pub set_separator: String,
    pub empty_field: String,
    pub unset_field: String,
    /// The log type (`conn`, `dns`, ...), when a `#path` line said it.
    pub path: Option<String>,
    /// Column names, dots turned into underscores.
    pub fields: Vec<String>,
    /// Column types (`time`, `addr`, `port`, `count`, `set[string]`, ...);
    /// empty until a `#types` line.
    pub types: Vec<String>,
}

impl Default for ZeekHeader {
    /// Zeek's defaults (TAB, `,`, `(empty)`, `-`), no column yet.
    fn default() -> Self {
        ZeekHeader {
            separator: b"\t".to_vec(),
            set_separator: ",".into(),
            empty_field: "(empty)".into(),
            unset_field: "-".into(),
            path: None,
            fields: Vec::new(),
            types: Vec::new(),
        }
    }
}

impl ZeekHeader {
    /// The defaults, with columns known before any `#fields` line.
    pub fn with_fields(fields: &[&str]) -> ZeekHeader {
        ZeekHeader {
            fields: fields.iter().map(|f| f.to_string()).collect(),
            ..ZeekHeader::default()
        }
    }

    /// Applies one header line (starting with `#`, line ending removed).
    pub fn apply(&mut self, line: &[u8]) -> Result<Directive, HeaderError> {
        // `#separator \x09` uses a space; other directives use the separator.
        if let Some(arg) = line.strip_prefix(b"#separator ") {
            let separator = unescape_header(arg);
            if separator.is_empty() {
                return Err(HeaderError::EmptySeparator);
            }
            self.separator = separator;
            return Ok(Directive::Separator);
        }
        let parts = split_bytes(line, &self.separator);
        let directive = lossless_utf8(parts[0]);
        let mut args = parts[1..].iter().map(|p| lossless_utf8(p));
        Ok(match directive.as_str() {
            "#set_separator" => {
                self.set_separator = args.next().unwrap_or_default();
                Directive::SetSeparator
            }
            "#empty_field" => {
                self.empty_field = args.next().unwrap_or_default();
                Directive::EmptyField
            }
            "#unset_field" => {
                self.unset_field = args.next().unwrap_or_default();
                Directive::UnsetField
            }
            "#path" => {
                self.path = args.next();
                Directive::Path
            }
            "#fields" => {
                let fields: Vec<String> = args.map(|f| f.replace('.', "_")).collect();
                if fields.is_empty() {
                    return Err(HeaderError::NoFields);
                }
                self.fields = fields;
                // Types of the previous columns no longer apply.
                self.types.clear();
                Directive::Fields
            }
            "#types" => {
                self.types = args.collect();
                Directive::Types
            }
            _ => Directive::Other,
        })
    }

    /// The cells of a data line.
    pub fn split<'a>(&self, line: &'a [u8]) -> Vec<&'a [u8]> {
        split_bytes(line, &self.separator)
    }

    /// The type of column `i` (`""` when no `#types` line gave it).
    pub fn type_of(&self, i: usize) -> &str {
        self.types.get(i).map(String::as_str).unwrap_or("")
    }
}

/// Decodes the `\xNN` escapes of a header directive argument.
pub fn unescape_header(arg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(arg.len());
    let mut i = 0;
    while i < arg.len() {
        if arg[i] == b'\\' && i + 3 < arg.len() && arg.get(i + 1) == Some(&b'x') {
            let hex = std::str::from_utf8(&arg[i + 2..i + 4]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(arg[i]);
        i += 1;
    }
    out
}

/// Splits `line` on `sep` (a whole line when `sep` is empty).
pub fn split_bytes<'a>(line: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    if sep.is_empty() {
        return vec![line];
    }
    if let [b] = sep {
        return line.split(|c| c == b).collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= line.len() {
        if &line[i..i + sep.len()] == sep {
            out.push(&line[start..i]);
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&line[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        let mut h = ZeekHeader::default();
        assert_eq!(h.apply(b"#separator \\x7c").unwrap(), Directive::Separator);
        assert_eq!(h.separator, b"|");
        h.apply(b"#set_separator|;").unwrap();
        h.apply(b"#path|conn").unwrap();
        h.apply(b"#fields|ts|id.orig_h").unwrap();
        h.apply(b"#types|time|addr").unwrap();
        assert_eq!(h.set_separator, ";");
        assert_eq!(h.path.as_deref(), Some("conn"));
        assert_eq!(h.fields, ["ts", "id_orig_h"]);
        assert_eq!(h.type_of(1), "addr");
        assert_eq!(h.type_of(2), "");
        assert_eq!(h.apply(b"#fields"), Err(HeaderError::NoFields));
        assert_eq!(h.apply(b"#separator "), Err(HeaderError::EmptySeparator));
        assert_eq!(h.apply(b"#open|2020").unwrap(), Directive::Other);
        assert_eq!(split_bytes(b"a::b::", b"::"), [&b"a"[..], b"b", b""]);
    }
}
