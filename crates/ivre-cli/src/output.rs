//! Output helpers shared by the query tools: IVRE's text of `--top` and
//! `--distinct` values, the lines every purpose's query streams for
//! `--top`, `--distinct` and `--short`, and JSON records one per line.

use ivre_pg::query::TopValue;
use serde::Serialize;
use serde_json::Value;
use std::io::{self, Write};

/// One value of a `--top` result as IVRE's CLI prints it: tuples joined with
/// ` / `, lists with `, `, dicts as JSON, null as `None`.
pub fn top_value_text(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) if a.iter().any(Value::is_array) => {
            a.iter().map(top_value_text).collect::<Vec<_>>().join(", ")
        }
        Value::Array(a) => a.iter().map(top_value_text).collect::<Vec<_>>().join(" / "),
        Value::Object(_) => v.to_string(),
    }
}

/// What `--top` does with each value a purpose's query streams: a
/// `value: count` line.
pub fn top_value_lines<W: Write>(out: &mut W) -> impl FnMut(TopValue) -> anyhow::Result<()> + '_ {
    move |v| Ok(writeln!(out, "{}: {}", top_value_text(&v.value), v.count)?)
}

/// What `--distinct` does with each value a purpose's query streams: a
/// line.
pub fn distinct_value_lines<W: Write>(out: &mut W) -> impl FnMut(Value) -> anyhow::Result<()> + '_ {
    move |v| Ok(writeln!(out, "{}", top_value_text(&v))?)
}

/// What `--short` does with each address a purpose's query streams: a
/// line.
pub fn address_lines<W: Write>(out: &mut W) -> impl FnMut(String) -> anyhow::Result<()> + '_ {
    move |a| Ok(writeln!(out, "{a}")?)
}

/// A record as JSON on one line, or indented (for people, on a terminal).
pub fn write_json_line(
    out: &mut impl Write,
    record: &impl Serialize,
    pretty: bool,
) -> io::Result<()> {
    if pretty {
        serde_json::to_writer_pretty(&mut *out, record)?;
    } else {
        serde_json::to_writer(&mut *out, record)?;
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_values_print_like_ivre() {
        assert_eq!(top_value_text(&json!(["tcp", 22])), "tcp / 22");
        assert_eq!(top_value_text(&json!([null, null])), "None / None");
        assert_eq!(
            top_value_text(&json!([["tcp", 80], ["tcp", 443]])),
            "tcp / 80, tcp / 443"
        );
        assert_eq!(top_value_text(&json!({"a": 1})), "{\"a\":1}");
    }
}
