//! The flow filter language (spec 1.8), as `flowcli -f` / `-n` and the web
//! API's `nodes` / `edges` lists write it, parsed into a [`FlowFilter`].
//!
//! One string is an OR of alternatives separated by the tokens `OR` or
//! `||` (whole tokens only: IVRE also split on `ORACLE`); a list of strings
//! is an AND. Tokens are separated by blanks, double quotes group. An
//! alternative is `[NEG][MODE ]field[ OP value]`:
//!
//! * `NEG` is `!`, `-` or `~`: the whole alternative is negated, and a
//!   negated condition matches the flows that lack the field (`!dport <=
//!   10000` matches ARP flows, `!ANY sports = 68` flows without ports);
//! * `MODE` is `ANY` (some element; the default on lists), `ALL` (the list
//!   exists and every element matches), `NONE` (no element matches) or
//!   `LEN` (the list's length); `ONE` is refused;
//! * `OP` is `=`, `:` or `==` (equality), `!=`, `<`, `<=`, `>`, `>=`, or
//!   `=~` (a regular expression, or a CIDR network on address fields); the
//!   first operator in the text separates field and value (`dport=443`);
//! * without `OP`, the field exists; `field = null` (or `none`): it does
//!   not;
//! * the value is a number, `true` / `false`, a double-quoted string, or
//!   bare text; dates (`firstseen`, `lastseen`, `times.start`) are
//!   `YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]` in UTC, or with a zone
//!   (`2014-01-01 20:23:51+01:00`, `...Z`), or epoch seconds;
//! * `addr` is `src.addr` or `dst.addr` (negated: neither);
//! * a `#` alternative (IVRE's Neo4j labels) is ignored.
//!
//! An unknown field, a value of the wrong type or an operator the field
//! does not support is a [`FilterError`] (a usage error).

use std::net::IpAddr;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use super::meta::{log_desc, META_DESC};
use crate::filter::addr::AddrCond;
use crate::filter::time::parse_time;
use crate::filter::value::Regex;
use crate::filter::{Filter, FilterError};

/// A filter on flows.
pub type FlowFilter = Filter<FlowLeaf>;

/// A field a flow filter can look at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FlowField {
    SrcAddr,
    DstAddr,
    Proto,
    Dport,
    Sports,
    /// ICMP type.
    Type,
    /// ICMP codes.
    Codes,
    Count,
    Csbytes,
    Scbytes,
    Cspkts,
    Scpkts,
    Firstseen,
    Lastseen,
    /// The list of slots.
    Times,
    /// The starts of the slots.
    TimesStart,
    /// The durations of the slots.
    TimesDuration,
    /// `meta.<log>`: the flow has entries of this protocol log.
    Meta(String),
    /// `meta.<log>.<key>`: the set of values of a key.
    MetaKey {
        log: String,
        key: String,
    },
    /// `meta.<log>.<counter>`: a summed counter.
    MetaCounter {
        log: String,
        counter: String,
    },
}

/// What the values of a field are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Addr,
    Int,
    Text,
    Time,
    /// Metadata values: numbers, booleans or text.
    Json,
    /// Only existence (and `LEN` for `times`) can be tested.
    Opaque,
}

/// The general fields, with what `--fields` says of them.
pub const GENERAL_FIELDS: &[(&str, &str)] = &[
    ("src.addr", "source (client) address"),
    ("dst.addr", "destination (server) address"),
    ("proto", "protocol (tcp, udp, icmp, arp, ...)"),
    ("dport", "destination port (tcp, udp)"),
    ("sports", "source ports (list; tcp, udp)"),
    ("type", "ICMP type"),
    ("codes", "ICMP codes (list)"),
    ("count", "number of observations merged"),
    ("csbytes", "bytes client to server"),
    ("scbytes", "bytes server to client"),
    ("cspkts", "packets client to server"),
    ("scpkts", "packets server to client"),
    ("firstseen", "first time seen"),
    ("lastseen", "last time seen"),
    ("times", "time slots (list)"),
    ("times.start", "time slot starts (list)"),
    ("times.duration", "time slot durations (list)"),
];

impl FlowField {
    /// A field by its name; `addr` (both sides) is not a field.
    pub fn parse(name: &str) -> Result<FlowField, FilterError> {
        use FlowField::*;
        Ok(match name {
            "src.addr" => SrcAddr,
            "dst.addr" => DstAddr,
            "proto" => Proto,
            "dport" => Dport,
            "sports" => Sports,
            "type" => Type,
            "codes" => Codes,
            "count" => Count,
            "csbytes" => Csbytes,
            "scbytes" => Scbytes,
            "cspkts" => Cspkts,
            "scpkts" => Scpkts,
            "firstseen" => Firstseen,
            "lastseen" => Lastseen,
            "times" => Times,
            "times.start" => TimesStart,
            "times.duration" => TimesDuration,
            _ => return FlowField::parse_meta(name),
        })
    }

    /// A field of `--top`, `--collect`, `--sum` and `--fields`: a filter
    /// field, or `sport` (IVRE's name for one element of `sports`).
    pub fn parse_top(name: &str) -> Result<FlowField, FilterError> {
        match name {
            "sport" => Ok(FlowField::Sports),
            _ => FlowField::parse(name),
        }
    }

    fn parse_meta(name: &str) -> Result<FlowField, FilterError> {
        let unknown = || {
            FilterError(format!(
                "unknown flow field {name:?} (see the field list: flowcli --fields)"
            ))
        };
        let rest = name.strip_prefix("meta.").ok_or_else(unknown)?;
        let (log, sub) = match rest.split_once('.') {
            Some((log, sub)) => (log, Some(sub)),
            None => (rest, None),
        };
        let desc = log_desc(log).ok_or_else(unknown)?;
        Ok(match sub {
            None => FlowField::Meta(log.to_owned()),
            Some(k) if desc.has_key(k) => FlowField::MetaKey {
                log: log.to_owned(),
                key: k.to_owned(),
            },
            Some(c) if desc.has_counter(c) => FlowField::MetaCounter {
                log: log.to_owned(),
                counter: c.to_owned(),
            },
            Some(_) => return Err(unknown()),
        })
    }

    /// The field's name in the language.
    pub fn name(&self) -> String {
        use FlowField::*;
        match self {
            SrcAddr => "src.addr".into(),
            DstAddr => "dst.addr".into(),
            Proto => "proto".into(),
            Dport => "dport".into(),
            Sports => "sports".into(),
            Type => "type".into(),
            Codes => "codes".into(),
            Count => "count".into(),
            Csbytes => "csbytes".into(),
            Scbytes => "scbytes".into(),
            Cspkts => "cspkts".into(),
            Scpkts => "scpkts".into(),
            Firstseen => "firstseen".into(),
            Lastseen => "lastseen".into(),
            Times => "times".into(),
            TimesStart => "times.start".into(),
            TimesDuration => "times.duration".into(),
            Meta(log) => format!("meta.{log}"),
            MetaKey { log, key } => format!("meta.{log}.{key}"),
            MetaCounter { log, counter } => format!("meta.{log}.{counter}"),
        }
    }

    /// Whether the field holds a list (ANY / ALL / NONE / LEN apply).
    pub fn is_list(&self) -> bool {
        use FlowField::*;
        matches!(
            self,
            Sports | Codes | Times | TimesStart | TimesDuration | MetaKey { .. }
        )
    }

    pub fn field_type(&self) -> FieldType {
        use FlowField::*;
        match self {
            SrcAddr | DstAddr => FieldType::Addr,
            Proto => FieldType::Text,
            Dport
            | Sports
            | Type
            | Codes
            | Count
            | Csbytes
            | Scbytes
            | Cspkts
            | Scpkts
            | TimesDuration
            | MetaCounter { .. } => FieldType::Int,
            Firstseen | Lastseen | TimesStart => FieldType::Time,
            MetaKey { .. } => FieldType::Json,
            Times | Meta(_) => FieldType::Opaque,
        }
    }

    /// Every field name with its description, general fields first, then
    /// one group per protocol log (what `flowcli --fields` prints).
    pub fn catalogue() -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = GENERAL_FIELDS
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .collect();
        for desc in META_DESC {
            out.push((
                format!("meta.{}", desc.log),
                format!("has {} metadata", desc.log),
            ));
            for (k, _) in desc.keys {
                out.push((format!("meta.{}.{k}", desc.log), "(list)".into()));
            }
            for c in desc.counters {
                out.push((format!("meta.{}.{c}", desc.log), "(sum)".into()));
            }
        }
        out
    }
}

/// How a condition applies to the elements of a list field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// Some element matches (the only meaning on a single-valued field).
    Any,
    /// The list exists and every element matches.
    All,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A value compared to a field (its type is the field's).
#[derive(Debug, Clone, PartialEq)]
pub enum FlowValue {
    Addr(IpAddr),
    Int(i64),
    Bool(bool),
    Text(String),
    Time(DateTime<Utc>),
}

/// One condition on a flow. A condition on a field the flow lacks is false
/// (so its negation is true).
#[derive(Debug, Clone, PartialEq)]
pub enum FlowLeaf {
    /// The field is present (a list: present and not empty).
    Exists(FlowField),
    /// `field op value`, on the field or (lists) its elements.
    Compare {
        field: FlowField,
        quantifier: Quantifier,
        op: CmpOp,
        value: FlowValue,
    },
    /// An unanchored regular expression search on a text or metadata field.
    Regex {
        field: FlowField,
        quantifier: Quantifier,
        regex: Regex,
    },
    /// The address (`src.addr` or `dst.addr`) is in a network.
    Network { field: FlowField, net: AddrCond },
    /// The length of a list field.
    Len {
        field: FlowField,
        op: CmpOp,
        len: i64,
    },
}

/// The time window of a query (flowcli `-a`, `-b`, `--precision`): flows
/// having one slot with `start >= after`, `start < before` and `duration =
/// precision` (each bound optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotWindow {
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    pub precision: Option<u32>,
}

impl SlotWindow {
    /// Whether no bound is set.
    pub fn is_unbounded(&self) -> bool {
        self.after.is_none() && self.before.is_none() && self.precision.is_none()
    }
}

/// A list of filter strings, AND-ed.
pub fn parse_filters<S: AsRef<str>>(filters: &[S]) -> Result<FlowFilter, FilterError> {
    filters
        .iter()
        .map(|f| parse_filter(f.as_ref()))
        .collect::<Result<Vec<_>, _>>()
        .map(Filter::all)
}

/// One filter string: its alternatives, OR-ed.
pub fn parse_filter(s: &str) -> Result<FlowFilter, FilterError> {
    let tokens = tokenize(s)?;
    let mut alternatives = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for token in tokens {
        if token == "OR" || token == "||" {
            alternatives.push(std::mem::take(&mut current));
        } else {
            current.push(token);
        }
    }
    alternatives.push(current);
    let mut parsed = Vec::new();
    for alt in alternatives {
        if alt.is_empty() {
            return Err(FilterError(format!("empty alternative in filter {s:?}")));
        }
        if let Some(f) = parse_clause(&alt.join(" "))? {
            parsed.push(f);
        }
    }
    Ok(if parsed.is_empty() {
        Filter::True
    } else {
        Filter::any(parsed)
    })
}

/// Splits on blanks; double-quoted segments (with `\"` and `\\`) are kept
/// whole, quotes included, so that the value parser knows a string.
fn tokenize(s: &str) -> Result<Vec<String>, FilterError> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    let mut in_quotes = false;
    let mut started = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                started = true;
                cur.push(c);
            }
            '\\' if in_quotes => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !in_quotes => {
                if started {
                    tokens.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                started = true;
                cur.push(c);
            }
        }
    }
    if in_quotes {
        return Err(FilterError(format!("unterminated quote in filter {s:?}")));
    }
    if started {
        tokens.push(cur);
    }
    Ok(tokens)
}

/// The operators, longest first where they share a prefix.
const OPERATORS: &[(&str, Op)] = &[
    ("=~", Op::Regex),
    ("==", Op::Cmp(CmpOp::Eq)),
    ("!=", Op::Cmp(CmpOp::Ne)),
    ("<=", Op::Cmp(CmpOp::Le)),
    (">=", Op::Cmp(CmpOp::Ge)),
    ("=", Op::Cmp(CmpOp::Eq)),
    (":", Op::Cmp(CmpOp::Eq)),
    ("<", Op::Cmp(CmpOp::Lt)),
    (">", Op::Cmp(CmpOp::Gt)),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Cmp(CmpOp),
    Regex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Any,
    All,
    None,
    Len,
}

/// The first operator of `s`: its byte offset, length and meaning.
fn find_operator(s: &str) -> Option<(usize, usize, Op)> {
    s.char_indices().find_map(|(i, _)| {
        OPERATORS
            .iter()
            .find(|(text, _)| s[i..].starts_with(text))
            .map(|(text, op)| (i, text.len(), *op))
    })
}

fn parse_clause(clause: &str) -> Result<Option<FlowFilter>, FilterError> {
    let mut rest = clause.trim();
    if rest.starts_with('#') {
        return Ok(None);
    }
    let neg = rest.starts_with(['!', '-', '~']);
    if neg {
        rest = rest[1..].trim_start();
    }
    let mut mode = Mode::Plain;
    for (word, m) in [
        ("ANY", Mode::Any),
        ("ALL", Mode::All),
        ("NONE", Mode::None),
        ("LEN", Mode::Len),
        ("ONE", Mode::Plain),
    ] {
        if let Some(after) = rest.strip_prefix(word) {
            if after.starts_with(char::is_whitespace) {
                if word == "ONE" {
                    return Err(FilterError(
                        "ONE is not supported (use ANY, ALL or NONE)".into(),
                    ));
                }
                mode = m;
                rest = after.trim_start();
                break;
            }
        }
    }
    let (attr, op_value) = match find_operator(rest) {
        Some((i, len, op)) => (rest[..i].trim(), Some((op, rest[i + len..].trim()))),
        None => (rest.trim(), None),
    };
    if attr.is_empty() {
        return Err(FilterError(format!("no field in filter {clause:?}")));
    }
    let built = if attr == "addr" {
        if mode != Mode::Plain {
            return Err(FilterError(format!(
                "addr is not a list (in filter {clause:?})"
            )));
        }
        let src = condition(FlowField::SrcAddr, mode, op_value, clause)?;
        let dst = condition(FlowField::DstAddr, mode, op_value, clause)?;
        src.or(dst)
    } else {
        condition(FlowField::parse(attr)?, mode, op_value, clause)?
    };
    Ok(Some(built.neg_if(neg)))
}

fn condition(
    field: FlowField,
    mode: Mode,
    op_value: Option<(Op, &str)>,
    clause: &str,
) -> Result<FlowFilter, FilterError> {
    let name = field.name();
    if mode != Mode::Plain && !field.is_list() {
        return Err(FilterError(format!(
            "{name} is not a list: ANY, ALL, NONE and LEN apply to lists (in filter {clause:?})"
        )));
    }
    let Some((op, raw)) = op_value else {
        if mode != Mode::Plain {
            return Err(FilterError(format!(
                "an operator and a value are needed after {name} (in filter {clause:?})"
            )));
        }
        return Ok(Filter::Leaf(FlowLeaf::Exists(field)));
    };
    if raw.is_empty() {
        return Err(FilterError(format!("no value in filter {clause:?}")));
    }
    if mode == Mode::Len {
        let Op::Cmp(op) = op else {
            return Err(FilterError(format!(
                "LEN compares lengths, not regular expressions (in filter {clause:?})"
            )));
        };
        let len = unquote(raw)
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| FilterError(format!("LEN needs a length, not {raw:?}")))?;
        return Ok(Filter::Leaf(FlowLeaf::Len { field, op, len }));
    }
    if matches!(raw.to_ascii_lowercase().as_str(), "null" | "none") {
        return match (mode, op) {
            (Mode::Plain, Op::Cmp(CmpOp::Eq)) => Ok(Filter::Leaf(FlowLeaf::Exists(field)).not()),
            (Mode::Plain, Op::Cmp(CmpOp::Ne)) => Ok(Filter::Leaf(FlowLeaf::Exists(field))),
            _ => Err(FilterError(format!(
                "null can only be compared with = or != (in filter {clause:?})"
            ))),
        };
    }
    let quantifier = if mode == Mode::All {
        Quantifier::All
    } else {
        Quantifier::Any
    };
    let leaf = match op {
        Op::Regex => regex_leaf(field, quantifier, raw, clause)?,
        Op::Cmp(op) => {
            let value = typed_value(&field, raw, clause)?;
            // Plain `!=` is "no element equal" (and matches a missing
            // field), as MongoDB's `$ne`; `ANY f != v` is "some element
            // differs", `ALL f != v` "every element differs".
            if mode == Mode::Plain && op == CmpOp::Ne {
                return Ok(compare(field, Quantifier::Any, CmpOp::Eq, value).not());
            }
            compare(field, quantifier, op, value)
        }
    };
    Ok(if mode == Mode::None { leaf.not() } else { leaf })
}

fn compare(field: FlowField, quantifier: Quantifier, op: CmpOp, value: FlowValue) -> FlowFilter {
    Filter::Leaf(FlowLeaf::Compare {
        field,
        quantifier,
        op,
        value,
    })
}

fn regex_leaf(
    field: FlowField,
    quantifier: Quantifier,
    raw: &str,
    clause: &str,
) -> Result<FlowFilter, FilterError> {
    let pattern = unquote(raw);
    match field.field_type() {
        FieldType::Addr => {
            if quantifier == Quantifier::All {
                return Err(FilterError(format!("{} is not a list", field.name())));
            }
            let net = AddrCond::net(&pattern)?;
            Ok(Filter::Leaf(FlowLeaf::Network { field, net }))
        }
        FieldType::Text | FieldType::Json => {
            regex::Regex::new(&pattern).map_err(|e| {
                FilterError(format!(
                    "invalid regular expression {pattern:?} in filter {clause:?}: {e}"
                ))
            })?;
            Ok(Filter::Leaf(FlowLeaf::Regex {
                field,
                quantifier,
                regex: Regex::new(pattern, "")?,
            }))
        }
        _ => Err(FilterError(format!(
            "=~ does not apply to {} (in filter {clause:?})",
            field.name()
        ))),
    }
}

/// A double-quoted string's content (`\"` and `\\` unescaped), or the text
/// as it is.
fn unquote(raw: &str) -> String {
    match raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|_| raw.len() >= 2)
    {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => raw.to_owned(),
    }
}

fn typed_value(field: &FlowField, raw: &str, clause: &str) -> Result<FlowValue, FilterError> {
    let quoted = raw.starts_with('"');
    let text = unquote(raw);
    let bad = |what: &str| {
        FilterError(format!(
            "{} needs {what}, not {raw:?} (in filter {clause:?})",
            field.name()
        ))
    };
    Ok(match field.field_type() {
        FieldType::Addr => FlowValue::Addr(text.trim().parse().map_err(|_| bad("an address"))?),
        FieldType::Int => FlowValue::Int(text.trim().parse().map_err(|_| bad("an integer"))?),
        FieldType::Text => FlowValue::Text(text.to_lowercase()),
        FieldType::Time => FlowValue::Time(parse_time_literal(&text).map_err(|e| bad(&e.0))?),
        FieldType::Json if quoted => FlowValue::Text(text),
        FieldType::Json => match text.as_str() {
            "true" | "True" => FlowValue::Bool(true),
            "false" | "False" => FlowValue::Bool(false),
            t => match t.parse::<i64>() {
                Ok(n) => FlowValue::Int(n),
                Err(_) => FlowValue::Text(text),
            },
        },
        FieldType::Opaque => {
            return Err(FilterError(format!(
                "{} can only be tested for existence{} (in filter {clause:?})",
                field.name(),
                if field.is_list() { " or LEN" } else { "" }
            )))
        }
    })
}

/// A date literal: epoch seconds, `YYYY-MM-DD[( |T)HH:MM[:SS[.f]]]` in
/// UTC, or followed by a zone (`Z`, `+01:00`, `+0100`, optionally after a
/// blank).
pub fn parse_time_literal(s: &str) -> Result<DateTime<Utc>, FilterError> {
    let s = s.trim();
    let with_zone = s
        .strip_suffix(['Z', 'z'])
        .map(|t| format!("{t}+00:00"))
        .unwrap_or_else(|| s.to_owned());
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f %#z",
        "%Y-%m-%d %H:%M%#z",
        "%Y-%m-%dT%H:%M%#z",
        "%Y-%m-%d %H:%M %#z",
    ] {
        if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(&with_zone, fmt) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        return Ok(Utc.from_utc_datetime(&t));
    }
    parse_time(s).map_err(|_| {
        FilterError("a date (YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][+HH:MM], UTC by default)".into())
    })
}

/// The `flowcli` shortcuts, as filters: `--host`, `--src`, `--dst` (a value
/// with `/` is a network), `--proto`, `--port` / `--dport`, `--sport`.
pub mod shortcuts {
    use super::*;

    fn addr_filter(field: &str, value: &str) -> Result<FlowFilter, FilterError> {
        let op = if value.contains('/') { "=~" } else { "=" };
        parse_filter(&format!("{field} {op} {value}"))
    }

    pub fn host(value: &str) -> Result<FlowFilter, FilterError> {
        addr_filter("addr", value)
    }

    pub fn src(value: &str) -> Result<FlowFilter, FilterError> {
        addr_filter("src.addr", value)
    }

    pub fn dst(value: &str) -> Result<FlowFilter, FilterError> {
        addr_filter("dst.addr", value)
    }

    pub fn proto(value: &str) -> FlowFilter {
        compare(
            FlowField::Proto,
            Quantifier::Any,
            CmpOp::Eq,
            FlowValue::Text(value.to_lowercase()),
        )
    }

    pub fn dport(port: u16) -> FlowFilter {
        compare(
            FlowField::Dport,
            Quantifier::Any,
            CmpOp::Eq,
            FlowValue::Int(port.into()),
        )
    }

    pub fn sport(port: u16) -> FlowFilter {
        compare(
            FlowField::Sports,
            Quantifier::Any,
            CmpOp::Eq,
            FlowValue::Int(port.into()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(l: FlowLeaf) -> FlowFilter {
        Filter::Leaf(l)
    }

    fn cmp(field: FlowField, q: Quantifier, op: CmpOp, value: FlowValue) -> FlowFilter {
        compare(field, q, op, value)
    }

    fn err(s: &str) -> String {
        parse_filter(s).unwrap_err().0
    }

    #[test]
    fn equality_operators_are_one() {
        let expected = cmp(
            FlowField::Dport,
            Quantifier::Any,
            CmpOp::Eq,
            FlowValue::Int(80),
        );
        for s in [
            "dport = 80",
            "dport:80",
            "dport == 80",
            "dport=80",
            "  dport ==80 ",
        ] {
            assert_eq!(parse_filter(s).unwrap(), expected, "{s}");
        }
    }

    #[test]
    fn comparisons_and_negations() {
        use CmpOp::*;
        for (s, op) in [("<", Lt), ("<=", Le), (">", Gt), (">=", Ge)] {
            assert_eq!(
                parse_filter(&format!("count {s} 3")).unwrap(),
                cmp(FlowField::Count, Quantifier::Any, op, FlowValue::Int(3))
            );
        }
        // Negation and != match flows lacking the field: NOT of the leaf.
        let eq = cmp(FlowField::Dport, Quantifier::Any, Eq, FlowValue::Int(80));
        assert_eq!(parse_filter("dport != 80").unwrap(), eq.clone().not());
        assert_eq!(parse_filter("!dport = 80").unwrap(), eq.clone().not());
        assert_eq!(parse_filter("-dport = 80").unwrap(), eq.clone().not());
        assert_eq!(parse_filter("~dport = 80").unwrap(), eq.not());
        assert_eq!(
            parse_filter("!dport <= 10000").unwrap(),
            cmp(FlowField::Dport, Quantifier::Any, Le, FlowValue::Int(10000)).not()
        );
    }

    #[test]
    fn existence_and_null() {
        let exists = leaf(FlowLeaf::Exists(FlowField::Sports));
        assert_eq!(parse_filter("sports").unwrap(), exists);
        assert_eq!(parse_filter("!sports").unwrap(), exists.clone().not());
        assert_eq!(parse_filter("sports = null").unwrap(), exists.clone().not());
        assert_eq!(parse_filter("sports != None").unwrap(), exists);
        assert_eq!(
            parse_filter("meta.http").unwrap(),
            leaf(FlowLeaf::Exists(FlowField::Meta("http".into())))
        );
    }

    #[test]
    fn list_modes() {
        use CmpOp::*;
        let any68 = cmp(FlowField::Sports, Quantifier::Any, Eq, FlowValue::Int(68));
        assert_eq!(parse_filter("sports = 68").unwrap(), any68);
        assert_eq!(parse_filter("ANY sports = 68").unwrap(), any68);
        assert_eq!(
            parse_filter("!ANY sports = 68").unwrap(),
            any68.clone().not()
        );
        assert_eq!(parse_filter("NONE sports = 68").unwrap(), any68.not());
        assert_eq!(
            parse_filter("ALL sports > 50000").unwrap(),
            cmp(
                FlowField::Sports,
                Quantifier::All,
                Gt,
                FlowValue::Int(50000)
            )
        );
        assert_eq!(
            parse_filter("ANY sports != 68").unwrap(),
            cmp(FlowField::Sports, Quantifier::Any, Ne, FlowValue::Int(68))
        );
        assert_eq!(
            parse_filter("ALL times.duration = 3600").unwrap(),
            cmp(
                FlowField::TimesDuration,
                Quantifier::All,
                Eq,
                FlowValue::Int(3600)
            )
        );
        for (s, op) in [
            ("=", Eq),
            ("!=", Ne),
            ("<", Lt),
            ("<=", Le),
            (">", Gt),
            (">=", Ge),
        ] {
            assert_eq!(
                parse_filter(&format!("LEN sports {s} 5")).unwrap(),
                leaf(FlowLeaf::Len {
                    field: FlowField::Sports,
                    op,
                    len: 5
                })
            );
        }
        assert_eq!(
            parse_filter("LEN times = 1").unwrap(),
            leaf(FlowLeaf::Len {
                field: FlowField::Times,
                op: Eq,
                len: 1
            })
        );
    }

    #[test]
    fn addresses_and_networks() {
        let a: IpAddr = "192.168.122.214".parse().unwrap();
        let src = cmp(
            FlowField::SrcAddr,
            Quantifier::Any,
            CmpOp::Eq,
            FlowValue::Addr(a),
        );
        let dst = cmp(
            FlowField::DstAddr,
            Quantifier::Any,
            CmpOp::Eq,
            FlowValue::Addr(a),
        );
        assert_eq!(parse_filter("src.addr = 192.168.122.214").unwrap(), src);
        let either = src.clone().or(dst.clone());
        assert_eq!(parse_filter("addr = 192.168.122.214").unwrap(), either);
        // Negated: neither side.
        assert_eq!(
            parse_filter("!addr = 192.168.122.214").unwrap(),
            either.clone().not()
        );
        assert_eq!(shortcuts::host("192.168.122.214").unwrap(), either);
        let net = parse_filter("addr =~ 10.0.0.0/8").unwrap();
        assert_eq!(
            net,
            leaf(FlowLeaf::Network {
                field: FlowField::SrcAddr,
                net: AddrCond::net("10.0.0.0/8").unwrap()
            })
            .or(leaf(FlowLeaf::Network {
                field: FlowField::DstAddr,
                net: AddrCond::net("10.0.0.0/8").unwrap()
            }))
        );
        assert_eq!(shortcuts::host("10.0.0.0/8").unwrap(), net);
        assert_eq!(
            shortcuts::dst("::1").unwrap(),
            parse_filter("dst.addr = ::1").unwrap()
        );
        assert!(parse_filter("addr = 10.0.0").is_err());
        assert!(parse_filter("addr =~ 10.0.0.0/40").is_err());
        assert!(parse_filter("ANY addr = 10.0.0.1").is_err());
    }

    #[test]
    fn regex_and_meta() {
        assert_eq!(
            parse_filter(r"meta.dns.query =~ .*neuf\.fr.*").unwrap(),
            leaf(FlowLeaf::Regex {
                field: FlowField::MetaKey {
                    log: "dns".into(),
                    key: "query".into()
                },
                quantifier: Quantifier::Any,
                regex: Regex::new(r".*neuf\.fr.*", "").unwrap()
            })
        );
        assert!(parse_filter("proto =~ tc(").is_err());
        assert!(parse_filter("dport =~ 80").is_err());
        let code = |v| {
            cmp(
                FlowField::MetaKey {
                    log: "http".into(),
                    key: "status_code".into(),
                },
                Quantifier::Any,
                CmpOp::Eq,
                v,
            )
        };
        assert_eq!(
            parse_filter("meta.http.status_code = 200").unwrap(),
            code(FlowValue::Int(200))
        );
        assert_eq!(
            parse_filter("meta.http.status_code = \"200\"").unwrap(),
            code(FlowValue::Text("200".into()))
        );
        assert_eq!(
            parse_filter("meta.http.request_body_len > 0").unwrap(),
            cmp(
                FlowField::MetaCounter {
                    log: "http".into(),
                    counter: "request_body_len".into()
                },
                Quantifier::Any,
                CmpOp::Gt,
                FlowValue::Int(0)
            )
        );
        assert_eq!(
            parse_filter("meta.sip.user_agent = \"neufbox6 - r13507\"").unwrap(),
            cmp(
                FlowField::MetaKey {
                    log: "sip".into(),
                    key: "user_agent".into()
                },
                Quantifier::Any,
                CmpOp::Eq,
                FlowValue::Text("neufbox6 - r13507".into())
            )
        );
    }

    #[test]
    fn dates_with_zones() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let first = |v| {
            cmp(
                FlowField::Firstseen,
                Quantifier::Any,
                CmpOp::Eq,
                FlowValue::Time(v),
            )
        };
        let utc = first(t("2014-01-01T19:23:51.036Z"));
        for s in [
            "firstseen = 2014-01-01 19:23:51.036",
            "firstseen = \"2014-01-01 19:23:51.036\"",
            "firstseen = 2014-01-01 20:23:51.036+01:00",
            "firstseen = \"2014-01-01 14:23:51.036 -0500\"",
            "firstseen = 2014-01-01T19:23:51.036Z",
        ] {
            assert_eq!(parse_filter(s).unwrap(), utc, "{s}");
        }
        assert_eq!(
            parse_filter("lastseen > 2015-01-01").unwrap(),
            cmp(
                FlowField::Lastseen,
                Quantifier::Any,
                CmpOp::Gt,
                FlowValue::Time(t("2015-01-01T00:00:00Z"))
            )
        );
        assert!(parse_filter("firstseen = yesterday").is_err());
    }

    #[test]
    fn alternatives_and_lists() {
        let p = |s: &str| shortcuts::proto(s);
        assert_eq!(
            parse_filter("proto = tcp OR proto = udp || proto = ICMP").unwrap(),
            p("tcp").or(p("udp")).or(p("icmp"))
        );
        // Only whole tokens split: a field named like ORACLE stays an error.
        assert!(parse_filter("ORACLE").is_err());
        assert_eq!(
            parse_filters(&["proto = tcp", "dport = 80"]).unwrap(),
            p("tcp").and(shortcuts::dport(80))
        );
        assert_eq!(parse_filter("#Host").unwrap(), Filter::True);
        assert_eq!(parse_filter("#Host OR proto = tcp").unwrap(), p("tcp"));
        assert_eq!(parse_filters::<&str>(&[]).unwrap(), Filter::True);
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(err("nosuchfield = 1").contains("unknown flow field \"nosuchfield\""));
        assert!(err("meta.nosuchlog").contains("unknown flow field"));
        assert!(err("meta.http.nosuchkey = 1").contains("unknown flow field"));
        assert!(err("meta.http.count = 1").contains("unknown flow field"));
        assert!(err("dport = eighty").contains("dport needs an integer"));
        assert!(err("ONE sports = 1").contains("ONE is not supported"));
        assert!(err("ANY dport = 1").contains("dport is not a list"));
        assert!(err("LEN dport = 1").contains("dport is not a list"));
        assert!(err("LEN sports =~ 1").contains("LEN compares lengths"));
        assert!(err("LEN sports = -1").contains("LEN needs a length"));
        assert!(err("ALL sports").contains("an operator and a value"));
        assert!(err("dport =").contains("no value"));
        assert!(err("= 80").contains("no field"));
        assert!(err("times = 3").contains("existence or LEN"));
        assert!(err("proto = \"tcp").contains("unterminated quote"));
        assert!(err("proto = tcp OR").contains("empty alternative"));
    }

    #[test]
    fn catalogue_lists_every_field() {
        let names: Vec<String> = FlowField::catalogue().into_iter().map(|(n, _)| n).collect();
        for n in &names {
            assert!(FlowField::parse(n).is_ok(), "{n}");
        }
        assert!(names.contains(&"meta.modbus.name".to_string()));
        assert_eq!(FlowField::parse_top("sport").unwrap(), FlowField::Sports);
        assert!(FlowField::parse_top("addr").is_err());
        assert!(FlowField::parse_top("meta.http.count").is_err());
        assert!(names.contains(&"meta.snmp.get_requests".to_string()));
    }
}
