//! Flow filters (the model's [`FlowFilter`], spec 1.8) compiled to SQL on
//! the view `flow_total f`, every value a parameter. A condition on a
//! field the flow lacks is NULL or false, so that its negation (`NOT
//! COALESCE(…, false)`, see [`SqlBuilder::filter`]) matches the flow.

use super::fields::{list_length, list_source, scalar};
use crate::sql::{pg_regex, LeafSql, SqlBuilder};
use ivre_model::flow::filter::{CmpOp, FlowValue, Quantifier};
use ivre_model::flow::{FlowField, FlowFilter, FlowLeaf};

/// The boolean SQL of a flow filter.
pub fn compile(b: &mut SqlBuilder, flt: &FlowFilter) -> String {
    b.filter(flt)
}

fn op_sql(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// `expr op value` for a value of the field's type; on metadata values
/// (jsonb) the comparison holds only between values of the same JSON type.
fn compare(
    b: &mut SqlBuilder,
    expr: &str,
    field: &FlowField,
    op: CmpOp,
    value: &FlowValue,
) -> String {
    let op = op_sql(op);
    let json = matches!(
        field,
        FlowField::MetaKey { .. } | FlowField::MetaCounter { .. } | FlowField::Meta(_)
    );
    match value {
        FlowValue::Addr(a) => format!("{expr} {op} {}", b.param(*a, "inet")),
        FlowValue::Time(t) => format!("{expr} {op} {}", b.param(*t, "timestamptz")),
        FlowValue::Int(n) if json => format!(
            "(jsonb_typeof({expr}) = 'number' AND ({expr})::numeric {op} {})",
            b.param(*n, "int8")
        ),
        FlowValue::Int(n) => format!("{expr} {op} {}", b.param(*n, "int8")),
        FlowValue::Bool(v) if json => format!(
            "(jsonb_typeof({expr}) = 'boolean' AND ({expr})::boolean {op} {})",
            b.param(*v, "bool")
        ),
        FlowValue::Bool(v) => format!("{expr} {op} {}", b.param(*v, "bool")),
        FlowValue::Text(s) if json => format!(
            "(jsonb_typeof({expr}) = 'string' AND ({expr} #>> '{{}}') {op} {})",
            b.param(s.clone(), "text")
        ),
        FlowValue::Text(s) => format!("{expr} {op} {}", b.param(s.clone(), "text")),
    }
}

/// A condition on the elements of a list field: some element (`Any`), or
/// the list is not empty and every element (`All`).
fn quantified(
    b: &mut SqlBuilder,
    field: &FlowField,
    quantifier: Quantifier,
    cond: impl FnOnce(&mut SqlBuilder, &str) -> String,
) -> String {
    let alias = b.fresh("e");
    let source = list_source(b, field, &alias).expect("a list field");
    let c = cond(b, &source.element);
    match quantifier {
        Quantifier::Any => format!(
            "EXISTS (SELECT 1 FROM {} {alias}(v) WHERE {c})",
            source.call
        ),
        Quantifier::All => {
            let len = list_length(b, field).expect("a list field");
            format!(
                "({len} > 0 AND NOT EXISTS (SELECT 1 FROM {} {alias}(v) WHERE NOT coalesce({c}, false)))",
                source.call
            )
        }
    }
}

impl LeafSql for FlowLeaf {
    fn leaf_sql(&self, b: &mut SqlBuilder) -> String {
        match self {
            FlowLeaf::Exists(field) => exists(b, field),
            FlowLeaf::Compare {
                field,
                quantifier,
                op,
                value,
            } => {
                if field.is_list() {
                    quantified(b, field, *quantifier, |b, e| {
                        compare(b, e, field, *op, value)
                    })
                } else {
                    match scalar(b, field) {
                        Some(expr) => compare(b, &expr, field, *op, value),
                        None => "false".into(),
                    }
                }
            }
            FlowLeaf::Regex {
                field,
                quantifier,
                regex,
            } => {
                let pattern = pg_regex(regex);
                let cond = |b: &mut SqlBuilder, e: &str, json: bool| {
                    let p = b.param(pattern.clone(), "text");
                    if json {
                        format!("(jsonb_typeof({e}) = 'string' AND ({e} #>> '{{}}') ~ {p})")
                    } else {
                        format!("{e} ~ {p}")
                    }
                };
                if field.is_list() {
                    quantified(b, field, *quantifier, |b, e| cond(b, e, true))
                } else {
                    match scalar(b, field) {
                        Some(expr) => {
                            cond(b, &expr, matches!(field, FlowField::MetaCounter { .. }))
                        }
                        None => "false".into(),
                    }
                }
            }
            FlowLeaf::Network { field, net } => {
                let col = match field {
                    FlowField::DstAddr => "f.dst",
                    _ => "f.src",
                };
                b.addr_cond(col, net)
            }
            FlowLeaf::Len { field, op, len } => match list_length(b, field) {
                Some(expr) => format!("{expr} {} {}", op_sql(*op), b.param(*len, "int8")),
                None => "false".into(),
            },
        }
    }
}

/// The field is present (a list: present and not empty).
fn exists(b: &mut SqlBuilder, field: &FlowField) -> String {
    if let Some(len) = list_length(b, field) {
        return format!("{len} > 0");
    }
    match field {
        FlowField::Meta(log) => format!("f.meta ? {}", b.param(log.clone(), "text")),
        other => match scalar(b, other) {
            Some(expr) => format!("{expr} IS NOT NULL"),
            None => "false".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivre_model::flow::parse_filters;

    #[test]
    fn user_text_travels_as_parameters() {
        for (f, text) in [
            ("proto = \"x'); DROP TABLE flow; --\"", "drop"),
            ("meta.dns.query =~ \"a'b\"", "a'b"),
            ("meta.http.user_agent = \"o'hara\"", "hara"),
            ("addr =~ 10.0.0.0/8", "10.0"),
            ("meta.dns", "dns"),
        ] {
            let flt = parse_filters(&[f]).unwrap();
            let mut b = SqlBuilder::new();
            let sql = compile(&mut b, &flt);
            assert!(!sql.contains(text), "{f}: {sql}");
            assert!(!b.params.is_empty(), "{f}");
        }
    }
}
