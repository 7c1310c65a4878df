//! What `--top` and `--distinct` count, described in typed parts rather
//! than SQL text: which rows are counted ([`Rows`]: the purpose's main
//! records, a list they hold, or a child table), extra conditions, and the
//! value's shape ([`ValueShape`]). From these the SQL of a top-values
//! query is built once for every purpose ([`TopQuery`]).

use crate::sql::SqlBuilder;
use postgres::Row;
use serde_json::Value;

/// One value of a top-values result.
#[derive(Debug, Clone, PartialEq)]
pub struct TopValue {
    pub value: Value,
    pub count: i64,
}

impl TopValue {
    /// The value of a row of a [`TopQuery`].
    pub fn from_row(row: &Row) -> TopValue {
        TopValue {
            value: row.get::<_, Option<Value>>(0).unwrap_or(Value::Null),
            count: row.get(1),
        }
    }
}

/// A table of rows that belong to a main record (ports of a host, ...).
pub trait ChildTable {
    /// The table and its alias (`scan_port p`).
    fn table(&self) -> &'static str;
    /// How a row joins its main record (`p.host_id = h.id`).
    fn on(&self) -> &'static str;
}

/// The child tables of a purpose that has none.
#[derive(Debug, Clone, Copy)]
pub enum NoChild {}

impl ChildTable for NoChild {
    fn table(&self) -> &'static str {
        match *self {}
    }
    fn on(&self) -> &'static str {
        match *self {}
    }
}

/// A list unwound into rows: ` CROSS JOIN {call} {alias}(v)`.
#[derive(Debug, Clone)]
pub struct Unnest {
    /// A set-returning call (`unnest(h.categories)`, `jsonb_path_query(...)`).
    pub call: String,
    /// The alias; the element is `{alias}.v`.
    pub alias: &'static str,
}

impl Unnest {
    pub fn new(call: impl Into<String>, alias: &'static str) -> Unnest {
        Unnest {
            call: call.into(),
            alias,
        }
    }

    fn sql(&self) -> String {
        format!(" CROSS JOIN {} {}(v)", self.call, self.alias)
    }
}

/// The rows a projection counts.
#[derive(Debug, Clone)]
pub enum Rows<C> {
    /// One per main record.
    Main,
    /// The elements of a list of the main record.
    MainList(Unnest),
    /// The rows of a child table, each list they hold unwound in turn.
    /// The value and conditions read these rows only (never the main
    /// record), so that an unfiltered count skips the main table.
    Child { table: C, unnest: Vec<Unnest> },
}

/// The value of a projection (always jsonb in results: strings, numbers,
/// tuples as arrays).
#[derive(Debug, Clone)]
pub enum ValueShape {
    /// One scalar SQL expression (a column or a function of one):
    /// `to_jsonb(expr)`.
    Scalar(String),
    /// Scalar SQL expressions, as an array: `jsonb_build_array(a, b)`.
    Tuple(Vec<String>),
    /// A jsonb expression (a path into a document, a computed value).
    Json(String),
}

impl ValueShape {
    /// The value as a jsonb SQL expression.
    pub fn sql(&self) -> String {
        match self {
            ValueShape::Scalar(e) => format!("to_jsonb({e})"),
            ValueShape::Tuple(v) => format!("jsonb_build_array({})", v.join(", ")),
            ValueShape::Json(e) => e.clone(),
        }
    }

    /// The scalar expressions to group on, when the value is built from
    /// them (hashing and comparing jsonb per row costs several times more).
    fn keys(&self) -> Option<&[String]> {
        match self {
            ValueShape::Scalar(e) => Some(std::slice::from_ref(e)),
            ValueShape::Tuple(v) => Some(v),
            ValueShape::Json(_) => None,
        }
    }

    /// The value rebuilt from the grouped keys `x.k0, x.k1, ...`.
    fn sql_over_keys(&self) -> String {
        let keys = |n: usize| (0..n).map(|i| format!("x.k{i}")).collect::<Vec<_>>();
        match self {
            ValueShape::Scalar(_) => "to_jsonb(x.k0)".into(),
            ValueShape::Tuple(v) => format!("jsonb_build_array({})", keys(v.len()).join(", ")),
            ValueShape::Json(e) => e.clone(),
        }
    }
}

/// What `topvalues` / `distinct` group on.
#[derive(Debug, Clone)]
pub struct Projection<C> {
    pub rows: Rows<C>,
    /// Conditions on the counted rows, besides the filter.
    pub cond: Vec<String>,
    pub value: ValueShape,
}

impl<C> Projection<C> {
    pub fn new(rows: Rows<C>, cond: Vec<String>, value: ValueShape) -> Self {
        Projection { rows, cond, value }
    }

    /// The same projection over the child table `f` gives for its own
    /// (a purpose with several table sets builds once, then picks the set).
    pub fn map_child<D>(self, f: impl FnOnce(C) -> D) -> Projection<D> {
        let rows = match self.rows {
            Rows::Main => Rows::Main,
            Rows::MainList(u) => Rows::MainList(u),
            Rows::Child { table, unnest } => Rows::Child {
                table: f(table),
                unnest,
            },
        };
        Projection {
            rows,
            cond: self.cond,
            value: self.value,
        }
    }
}

impl<C: ChildTable> Projection<C> {
    /// The FROM items joined to `main` (a table and its alias), with a
    /// leading space, or empty.
    pub fn joins(&self) -> String {
        match &self.rows {
            Rows::Main => String::new(),
            Rows::MainList(u) => u.sql(),
            Rows::Child { table, unnest } => {
                let mut s = format!(" JOIN {} ON {}", table.table(), table.on());
                s.extend(unnest.iter().map(Unnest::sql));
                s
            }
        }
    }

    /// The FROM clause: `main` and the joins; the child rows alone when
    /// `filtered` is false and the projection reads child rows.
    pub fn from_clause(&self, main: &str, filtered: bool) -> String {
        match &self.rows {
            Rows::Child { table, unnest } if !filtered => {
                let mut s = table.table().to_string();
                s.extend(unnest.iter().map(Unnest::sql));
                s
            }
            _ => format!("{main}{}", self.joins()),
        }
    }

    /// The conditions as ` AND c1 AND c2`, or empty.
    pub fn cond_sql(&self) -> String {
        self.cond.iter().map(|c| format!(" AND {c}")).collect()
    }
}

/// How a top-values query groups and counts.
#[derive(Debug, Clone, Copy)]
pub struct Counting<'a> {
    /// The count of a group (`count(*)`, `sum(p.count)::int8`).
    pub count: &'a str,
    /// Group on the scalar keys of the value rather than on its jsonb.
    pub on_keys: bool,
    /// The least common values first.
    pub least: bool,
}

/// A top-values query: the values of a [`Projection`] among the rows of
/// `from` meeting `filter`, with their counts, most common first.
pub struct TopQuery<'a> {
    pub from: &'a str,
    pub filter: &'a str,
    pub cond: &'a str,
    pub value: &'a ValueShape,
    pub counting: Counting<'a>,
    /// ` LIMIT $n`, or empty.
    pub limit: &'a str,
}

impl TopQuery<'_> {
    pub fn sql(&self) -> String {
        let TopQuery {
            from,
            filter,
            cond,
            value,
            counting,
            limit,
        } = self;
        let n = counting.count;
        let dir = if counting.least { "ASC" } else { "DESC" };
        match value.keys().filter(|_| counting.on_keys) {
            // Group on the plain keys, build the JSON of the winners only.
            Some(keys) => {
                let cols: Vec<String> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| format!("{k} AS k{i}"))
                    .collect();
                let order: Vec<String> = (0..keys.len()).map(|i| format!("k{i}")).collect();
                let xorder: Vec<String> = order.iter().map(|k| format!("x.{k}")).collect();
                format!(
                    "SELECT {v} AS v, x.n FROM (SELECT {cols}, {n} AS n FROM {from} \
                     WHERE ({filter}){cond} GROUP BY {order} ORDER BY n {dir}, {order}{limit}) x \
                     ORDER BY x.n {dir}, {xorder}",
                    v = value.sql_over_keys(),
                    cols = cols.join(", "),
                    order = order.join(", "),
                    xorder = xorder.join(", "),
                )
            }
            None => format!(
                "SELECT {v} AS v, {n} AS n FROM {from} WHERE ({filter}){cond} \
                 GROUP BY 1 ORDER BY 2 {dir}, 1{limit}",
                v = value.sql(),
            ),
        }
    }
}

/// ` LIMIT $n` for a top-values query (0: no limit).
pub fn top_limit(b: &mut SqlBuilder, limit: u64) -> String {
    if limit > 0 {
        format!(" LIMIT {}", b.param(limit as i64, "int8"))
    } else {
        String::new()
    }
}
