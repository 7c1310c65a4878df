//! The filter language: a typed tree of and / or / not over leaves.
//!
//! [`Filter`] is generic over its leaves so that every purpose shares the
//! combinators: the scan purpose uses [`scan::ScanLeaf`]; the passive purpose
//! can add its own leaf enum and reuse the same tree, value conventions
//! ([`Match`], [`str2regexp`]) and compilation pattern.
//!
//! The tree carries no SQL: the storage crate compiles it, and a leaf is a
//! self-contained predicate on one record, so OR and NOT combine leaves that
//! look at different parts of a record (ports, hostnames, ...) exactly.

pub mod passive;
pub mod scan;

use std::fmt;

/// A boolean combination of leaf predicates on a record.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Filter<L> {
    /// Matches every record.
    #[default]
    True,
    /// Matches no record.
    False,
    Leaf(L),
    And(Vec<Filter<L>>),
    Or(Vec<Filter<L>>),
    Not(Box<Filter<L>>),
}

impl<L> From<L> for Filter<L> {
    fn from(leaf: L) -> Self {
        Filter::Leaf(leaf)
    }
}

impl<L> Filter<L> {
    pub fn leaf(l: L) -> Self {
        Filter::Leaf(l)
    }

    /// Conjunction, flattening nested ANDs and dropping `True`.
    pub fn and(self, other: Filter<L>) -> Self {
        match (self, other) {
            (Filter::True, x) | (x, Filter::True) => x,
            (Filter::False, _) | (_, Filter::False) => Filter::False,
            (Filter::And(mut a), Filter::And(b)) => {
                a.extend(b);
                Filter::And(a)
            }
            (Filter::And(mut a), x) => {
                a.push(x);
                Filter::And(a)
            }
            (x, Filter::And(mut b)) => {
                b.insert(0, x);
                Filter::And(b)
            }
            (a, b) => Filter::And(vec![a, b]),
        }
    }

    /// Disjunction, flattening nested ORs and dropping `False`.
    pub fn or(self, other: Filter<L>) -> Self {
        match (self, other) {
            (Filter::False, x) | (x, Filter::False) => x,
            (Filter::True, _) | (_, Filter::True) => Filter::True,
            (Filter::Or(mut a), Filter::Or(b)) => {
                a.extend(b);
                Filter::Or(a)
            }
            (Filter::Or(mut a), x) => {
                a.push(x);
                Filter::Or(a)
            }
            (x, Filter::Or(mut b)) => {
                b.insert(0, x);
                Filter::Or(b)
            }
            (a, b) => Filter::Or(vec![a, b]),
        }
    }

    /// Negation (`not(not(x))` is `x`).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        match self {
            Filter::True => Filter::False,
            Filter::False => Filter::True,
            Filter::Not(x) => *x,
            x => Filter::Not(Box::new(x)),
        }
    }

    /// Negates when `neg` is set (IVRE's `neg=True` argument).
    pub fn neg_if(self, neg: bool) -> Self {
        if neg {
            self.not()
        } else {
            self
        }
    }

    /// AND of all of them (`True` when empty).
    pub fn all(items: impl IntoIterator<Item = Filter<L>>) -> Self {
        items.into_iter().fold(Filter::True, Filter::and)
    }

    /// OR of all of them (`False` when empty).
    pub fn any(items: impl IntoIterator<Item = Filter<L>>) -> Self {
        items.into_iter().fold(Filter::False, Filter::or)
    }

    /// Applies `f` to every leaf (e.g. to embed scan leaves in a larger enum).
    pub fn map<M>(self, f: &mut impl FnMut(L) -> M) -> Filter<M> {
        match self {
            Filter::True => Filter::True,
            Filter::False => Filter::False,
            Filter::Leaf(l) => Filter::Leaf(f(l)),
            Filter::And(v) => Filter::And(v.into_iter().map(|x| x.map(f)).collect()),
            Filter::Or(v) => Filter::Or(v.into_iter().map(|x| x.map(f)).collect()),
            Filter::Not(x) => Filter::Not(Box::new(x.map(f))),
        }
    }
}

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

/// A filter that cannot be built from what the user gave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

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

    #[test]
    fn combinators_simplify() {
        let a: Filter<u8> = Filter::leaf(1);
        assert_eq!(a.clone().and(Filter::True), a);
        assert_eq!(a.clone().or(Filter::True), Filter::True);
        assert_eq!(a.clone().not().not(), a);
        assert_eq!(
            Filter::all([Filter::leaf(1), Filter::leaf(2).and(Filter::leaf(3))]),
            Filter::And(vec![Filter::leaf(1), Filter::leaf(2), Filter::leaf(3)])
        );
    }
}
