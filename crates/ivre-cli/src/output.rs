//! Output helpers shared by the query tools: IVRE's text of `--top` and
//! `--distinct` values, and JSON records one per line.

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

/// A `--top` line: `value: count`.
pub fn write_top_value(out: &mut impl Write, value: &Value, count: i64) -> io::Result<()> {
    writeln!(out, "{}: {}", top_value_text(value), count)
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
