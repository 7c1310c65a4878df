//! The filter language: a typed tree of and / or / not over leaves.
//!
//! [`Filter`] is generic over its leaves so that every purpose shares the
//! combinators: the scan purpose uses [`scan::ScanLeaf`], the passive purpose
//! [`passive::PassiveLeaf`]. What several purposes share lives in neutral
//! modules that no purpose owns: [`value`] (IVRE's `/regex/`, list and
//! "absent" conventions), [`addr`] (addresses, networks, ranges, ports),
//! [`time`] (durations and dates), [`cert`] and [`service`] (the shapes of
//! the certificate and service searches), [`search`] (the searches every
//! purpose answers, one trait). A purpose's leaf enum embeds these
//! shapes, so no purpose imports another.
//!
//! The tree carries no SQL: the storage crate compiles it, and a leaf is a
//! self-contained predicate on one record, so OR and NOT combine leaves that
//! look at different parts of a record (ports, hostnames, ...) exactly.

pub mod addr;
pub mod cert;
pub mod passive;
pub mod query;
pub mod scan;
pub mod search;
pub mod service;
pub mod time;
pub mod value;
pub mod view;

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

/// A filter that cannot be built from what the user gave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

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
