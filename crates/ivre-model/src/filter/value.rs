//! Value conditions shared by every purpose: IVRE's `/regex/flags`, lists
//! and "absent" conventions ([`str2regexp`], [`str2list`], [`str2regexpnone`])
//! and conditions on JSON values.

use super::FilterError;
use std::fmt;

/// A regular expression as IVRE users write it: `/pattern/flags`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regex {
    pub pattern: String,
    /// `i` (case-insensitive), `m` (^/$ at line breaks), `s` (. matches a
    /// newline), `x` (extended syntax); others are refused.
    pub flags: String,
}

impl Regex {
    pub fn new(pattern: impl Into<String>, flags: &str) -> Result<Regex, FilterError> {
        for c in flags.chars() {
            if !"imsx".contains(c) {
                return Err(FilterError(format!(
                    "unsupported regular expression flag {c:?} (use i, m, s or x)"
                )));
            }
        }
        Ok(Regex {
            pattern: pattern.into(),
            flags: flags.to_string(),
        })
    }

    pub fn case_insensitive(&self) -> bool {
        self.flags.contains('i')
    }
}

impl fmt::Display for Regex {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "/{}/{}", self.pattern, self.flags)
    }
}

/// A string condition: exact value, list of values (any of them), regex
/// (unanchored search), or absence of the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Exact(String),
    AnyOf(Vec<String>),
    Regex(Regex),
    /// The field is missing (IVRE's `False`, `-` on the command line).
    Absent,
    /// Anything but this value, absence included (MongoDB's `$ne`).
    NotExact(String),
}

impl Match {
    pub fn exact(s: impl Into<String>) -> Match {
        Match::Exact(s.into())
    }

    /// Lower-cases exact values (IVRE lower-cases hashes, header names, ...).
    pub fn lowercase(self) -> Match {
        match self {
            Match::Exact(s) => Match::Exact(s.to_lowercase()),
            Match::AnyOf(v) => Match::AnyOf(v.into_iter().map(|s| s.to_lowercase()).collect()),
            m => m,
        }
    }
}

/// IVRE's str2regexp: `/pattern/flags` is a regex, anything else an exact
/// string; a leading `\/` stands for a literal `/`.
pub fn str2regexp(s: &str) -> Result<Match, FilterError> {
    if let Some(rest) = s.strip_prefix('/') {
        if let Some(end) = rest.rfind('/') {
            let flags = &rest[end + 1..];
            if flags.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Ok(Match::Regex(Regex::new(&rest[..end], flags)?));
            }
        }
    }
    if let Some(rest) = s.strip_prefix("\\/") {
        return Ok(Match::Exact(format!("/{rest}")));
    }
    Ok(Match::Exact(s.to_string()))
}

/// str2regexp, where `-` means "absent".
pub fn str2regexpnone(s: &str) -> Result<Match, FilterError> {
    if s == "-" {
        Ok(Match::Absent)
    } else {
        str2regexp(s)
    }
}

/// str2list: `a,b` or `a|b` is a list (IN); one value stays exact; a
/// `/regex/` stays a regex.
pub fn str2list(s: &str) -> Result<Match, FilterError> {
    if s.starts_with('/') {
        return str2regexp(s);
    }
    let parts: Vec<String> = s
        .split([',', '|'])
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    Ok(match parts.len() {
        1 => Match::Exact(parts.into_iter().next().unwrap()),
        _ => Match::AnyOf(parts),
    })
}

/// str2regexp, where an empty value means "no condition" (flags whose value
/// is optional: `--useragent` alone matches every user agent).
pub fn optional_regexp(s: &str) -> Result<Option<Match>, FilterError> {
    Ok(if s.is_empty() {
        None
    } else {
        Some(str2regexp(s)?)
    })
}

// Shorthands for the filters every purpose builds by hand.

/// An exact string.
pub(crate) fn ex(s: &str) -> Match {
    Match::Exact(s.to_string())
}

/// An unanchored regex search, case-sensitive.
pub(crate) fn re(pattern: &str) -> Match {
    Match::Regex(Regex {
        pattern: pattern.to_string(),
        flags: String::new(),
    })
}

/// An unanchored regex search, case-insensitive.
pub(crate) fn rei(pattern: &str) -> Match {
    Match::Regex(Regex {
        pattern: pattern.to_string(),
        flags: "i".to_string(),
    })
}

/// A path of keys into a JSON value (`infos`, structured script output).
pub(crate) fn path(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

/// A condition on a JSON value (structured script output, passive `infos`).
#[derive(Debug, Clone, PartialEq)]
pub enum ValueCond {
    /// On its text (a string, or a number or bool as text).
    Str(Match),
    Bool(bool),
    Int(i64),
    Exists,
}

/// Escapes a literal for a regex.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii() {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

/// Splits IVRE's `A:B:C` arguments on `:` outside `/regex/` parts.
pub fn split_colons(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_re = false;
    let b = s.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b'/' if i == start => in_re = true,
            b'/' if in_re
                && (i + 1 == b.len() || b[i + 1] == b':' || b[i + 1].is_ascii_alphabetic()) =>
            {
                // end of a regex: flags follow until ':'
                in_re = false;
            }
            b':' if !in_re => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexp_convention() {
        assert_eq!(
            str2regexp("/plain/i").unwrap(),
            Match::Regex(Regex::new("plain", "i").unwrap())
        );
        assert_eq!(str2regexp("a/b").unwrap(), Match::exact("a/b"));
        assert_eq!(str2regexp("\\/cgi").unwrap(), Match::exact("/cgi"));
        assert_eq!(
            str2regexp("/x/y/").unwrap(),
            Match::Regex(Regex::new("x/y", "").unwrap())
        );
        assert!(str2regexp("/x/q").is_err());
        assert_eq!(str2regexp("/cgi-bin").unwrap(), Match::exact("/cgi-bin"));
        assert_eq!(str2regexpnone("-").unwrap(), Match::Absent);
        assert_eq!(
            str2list("a,b|c").unwrap(),
            Match::AnyOf(vec!["a".into(), "b".into(), "c".into()])
        );
    }
}
