//! Parameterized SQL built from filter trees, shared by the purposes.
//!
//! [`SqlBuilder`] collects bind parameters (`$n`) while a filter is compiled:
//! user text only ever travels as a parameter; the SQL text holds fixed
//! fragments (column names from fixed lists). [`SqlBuilder::filter`] compiles
//! the and / or / not tree; each purpose implements [`LeafSql`] for its leaf
//! enum (`scan::filter`, `passive::filter`); conditions shared by purposes
//! (addresses, text and array matches) are methods of the builder.
//!
//! NOT is compiled as `NOT COALESCE(x, false)` so that NULL columns never make
//! a negated filter drop records.

use ivre_model::filter::addr::AddrCond;
use ivre_model::filter::value::{Match, Regex};
use ivre_model::filter::Filter;
use postgres::types::ToSql;

/// Compiles one leaf of a filter into a boolean SQL expression on the
/// purpose's main table (aliased `h` for the scan purpose).
pub trait LeafSql {
    fn leaf_sql(&self, b: &mut SqlBuilder) -> String;
}

/// A bind parameter.
pub type Param = Box<dyn ToSql + Sync + Send>;

/// SQL text and its parameters.
#[derive(Default)]
pub struct SqlBuilder {
    pub params: Vec<Param>,
    alias: usize,
}

impl SqlBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter, returns `$n::cast`.
    pub fn param<T: ToSql + Sync + Send + 'static>(&mut self, v: T, cast: &str) -> String {
        self.params.push(Box::new(v));
        format!("${}::{cast}", self.params.len())
    }

    /// An address condition on the `inet` column `col` (GiST `inet_ops` and
    /// B-tree indexes: `=`, `<<=`, `BETWEEN`).
    pub fn addr_cond(&mut self, col: &str, c: &AddrCond) -> String {
        match c {
            AddrCond::Host(a) => format!("{col} = {}", self.param(*a, "inet")),
            AddrCond::Net(a, len) => {
                let a = self.param(*a, "inet");
                let len = self.param(*len as i32, "int4");
                format!("{col} <<= network(set_masklen({a}, {len}))")
            }
            AddrCond::Range(start, stop) => {
                let a = self.param(*start, "inet");
                let z = self.param(*stop, "inet");
                format!("{col} BETWEEN {a} AND {z}")
            }
            AddrCond::Ipv4 => format!("family({col}) = 4"),
            AddrCond::Ipv6 => format!("family({col}) = 6"),
        }
    }

    /// A fresh alias for a sub-query (`u1`, `e2`, ...).
    pub fn fresh(&mut self, prefix: &str) -> String {
        self.alias += 1;
        format!("{prefix}{}", self.alias)
    }

    /// The parameters as the postgres crate takes them.
    pub fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }

    /// A boolean SQL expression for the filter.
    pub fn filter<L: LeafSql>(&mut self, f: &Filter<L>) -> String {
        match f {
            Filter::True => "true".into(),
            Filter::False => "false".into(),
            Filter::Leaf(l) => l.leaf_sql(self),
            Filter::And(v) => self.join(v, " AND ", "true"),
            Filter::Or(v) => self.join(v, " OR ", "false"),
            Filter::Not(x) => format!("NOT COALESCE(({}), false)", self.filter(x)),
        }
    }

    fn join<L: LeafSql>(&mut self, v: &[Filter<L>], op: &str, empty: &str) -> String {
        if v.is_empty() {
            return empty.into();
        }
        let parts: Vec<String> = v.iter().map(|f| format!("({})", self.filter(f))).collect();
        parts.join(op)
    }

    /// A condition on a text expression.
    pub fn text_match(&mut self, expr: &str, m: &Match) -> String {
        match m {
            Match::Exact(s) => format!("{expr} = {}", self.param(s.clone(), "text")),
            Match::AnyOf(v) => format!("{expr} = ANY({})", self.param(v.clone(), "text[]")),
            Match::Regex(r) => format!("{expr} ~ {}", self.param(pg_regex(r), "text")),
            Match::Absent => format!("{expr} IS NULL"),
            Match::NotExact(s) => {
                format!("{expr} IS DISTINCT FROM {}", self.param(s.clone(), "text"))
            }
        }
    }

    /// A condition on a text[] expression: some element matches.
    pub fn array_match(&mut self, expr: &str, m: &Match) -> String {
        match m {
            Match::Exact(s) => format!("{expr} @> ARRAY[{}]", self.param(s.clone(), "text")),
            Match::AnyOf(v) => format!("{expr} && {}", self.param(v.clone(), "text[]")),
            Match::Regex(_) => {
                let a = self.fresh("u");
                let cond = self.text_match(&format!("{a}.v"), m);
                format!("EXISTS (SELECT 1 FROM unnest({expr}) {a}(v) WHERE {cond})")
            }
            Match::Absent => format!("coalesce(cardinality({expr}), 0) = 0"),
            Match::NotExact(s) => format!(
                "NOT coalesce({expr} @> ARRAY[{}], false)",
                self.param(s.clone(), "text")
            ),
        }
    }
}

/// IVRE regex flags as PostgreSQL ARE embedded options. Python semantics:
/// without `s`, `.` does not match a newline; with `m`, `^`/`$` match at
/// line breaks.
pub fn pg_regex(r: &Regex) -> String {
    let m = r.flags.contains('m');
    let s = r.flags.contains('s');
    let mut opts = String::new();
    opts.push(match (m, s) {
        (false, false) => 'p',
        (false, true) => 's',
        (true, false) => 'n',
        (true, true) => 'w',
    });
    if r.case_insensitive() {
        opts.push('i');
    }
    if r.flags.contains('x') {
        opts.push('x');
    }
    format!("(?{opts}){}", r.pattern)
}
