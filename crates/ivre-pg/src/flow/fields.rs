//! The flow fields (spec 1.8) as SQL on the view `flow_total f`: scalar
//! columns, lists unwound with a set-returning call, metadata paths (log
//! and key names travel as parameters, after the model checked them
//! against its catalogue).

use crate::sql::SqlBuilder;
use crate::{Error, Result};
use ivre_model::flow::FlowField;
use std::collections::BTreeMap;

/// A list field: the set-returning call over the flow, and how an element
/// is read from its alias (`{alias}.v`).
pub(super) struct ListSource {
    pub call: String,
    pub element: String,
}

/// The `meta` path of a metadata field, as a parameter.
fn meta_path(b: &mut SqlBuilder, keys: &[&str]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    format!("(f.meta #> {})", b.param(keys, "text[]"))
}

/// The element (for lists) of a list field: `call` unwinds it into rows
/// `{alias}(v)`.
pub(super) fn list_source(
    b: &mut SqlBuilder,
    field: &FlowField,
    alias: &str,
) -> Option<ListSource> {
    let v = format!("{alias}.v");
    Some(match field {
        FlowField::Sports => ListSource {
            call: "unnest(f.sports)".into(),
            element: v,
        },
        FlowField::Codes => ListSource {
            call: "unnest(f.codes)".into(),
            element: v,
        },
        FlowField::Times => ListSource {
            call: "unnest(f.times)".into(),
            element: v,
        },
        FlowField::TimesStart => ListSource {
            call: "unnest(f.times)".into(),
            element: format!("lower({v})"),
        },
        FlowField::TimesDuration => ListSource {
            call: "unnest(f.times)".into(),
            element: format!("extract(epoch FROM upper({v}) - lower({v}))::int8"),
        },
        FlowField::MetaKey { log, key } => ListSource {
            call: format!("jsonb_array_elements({})", meta_path(b, &[log, key])),
            element: v,
        },
        _ => return None,
    })
}

/// The length of a list field (NULL when absent).
pub(super) fn list_length(b: &mut SqlBuilder, field: &FlowField) -> Option<String> {
    Some(match field {
        FlowField::Sports => "cardinality(f.sports)".into(),
        FlowField::Codes => "cardinality(f.codes)".into(),
        FlowField::Times | FlowField::TimesStart | FlowField::TimesDuration => {
            "cardinality(f.times)".into()
        }
        FlowField::MetaKey { log, key } => {
            format!("jsonb_array_length({})", meta_path(b, &[log, key]))
        }
        _ => return None,
    })
}

/// The SQL value of a scalar field.
pub(super) fn scalar(b: &mut SqlBuilder, field: &FlowField) -> Option<String> {
    Some(match field {
        FlowField::SrcAddr => "f.src".into(),
        FlowField::DstAddr => "f.dst".into(),
        FlowField::Proto => "f.proto".into(),
        FlowField::Dport => "f.dport".into(),
        FlowField::Type => "f.type".into(),
        FlowField::Count => "f.count".into(),
        // Counters exist where `count` does (IVRE leaves all of them out
        // of flows that only protocol logs touched).
        FlowField::Csbytes => "CASE WHEN f.count IS NOT NULL THEN f.csbytes END".into(),
        FlowField::Scbytes => "CASE WHEN f.count IS NOT NULL THEN f.scbytes END".into(),
        FlowField::Cspkts => "CASE WHEN f.count IS NOT NULL THEN f.cspkts END".into(),
        FlowField::Scpkts => "CASE WHEN f.count IS NOT NULL THEN f.scpkts END".into(),
        FlowField::Firstseen => "f.firstseen".into(),
        FlowField::Lastseen => "f.lastseen".into(),
        FlowField::Meta(log) => format!("(f.meta -> {})", b.param(log.clone(), "text")),
        FlowField::MetaCounter { log, counter } => meta_path(b, &[log, counter]),
        _ => return None,
    })
}

/// A time as Python's `str()` of a UTC datetime writes it.
fn py_time_sql(expr: &str) -> String {
    format!(
        "CASE WHEN extract(microseconds FROM {expr})::int8 % 1000000 = 0
             THEN to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
             ELSE to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') END"
    )
}

/// A `--top` / `--collect` field as a value to group on: lists are unwound
/// (a flow counts once per element) with one join per list, shared by the
/// fields of the same list (`unwound`: list call → alias). `sport` is
/// `sports`.
pub(super) fn top_expr(
    b: &mut SqlBuilder,
    name: &str,
    joins: &mut Vec<String>,
    unwound: &mut BTreeMap<String, String>,
) -> Result<String> {
    let name = if name == "sport" { "sports" } else { name };
    let field = FlowField::parse(name).map_err(Error::from)?;
    if field.is_list() {
        // The slot fields are one list: `times.start` and `times.duration`
        // grouped together are those of the same slot.
        let family = match field {
            FlowField::TimesStart | FlowField::TimesDuration => "times".to_string(),
            _ => field.name(),
        };
        let alias = match unwound.get(&family) {
            Some(alias) => alias.clone(),
            None => {
                let alias = b.fresh("t");
                let source = list_source(b, &field, &alias).expect("a list field");
                joins.push(format!(" CROSS JOIN LATERAL {} {alias}(v)", source.call));
                unwound.insert(family, alias.clone());
                alias
            }
        };
        let element = list_source(&mut SqlBuilder::new(), &field, &alias)
            .expect("a list field")
            .element;
        return Ok(match field {
            FlowField::Times => format!(
                "jsonb_build_object('start', {}, 'duration', extract(epoch FROM upper({element}) - lower({element}))::int8)",
                py_time_sql(&format!("lower({element})"))
            ),
            FlowField::TimesStart => py_time_sql(&element),
            _ => element,
        });
    }
    let expr = scalar(b, &field).expect("a scalar field");
    Ok(match field {
        FlowField::SrcAddr | FlowField::DstAddr => format!("host({expr})"),
        FlowField::Firstseen | FlowField::Lastseen => py_time_sql(&expr),
        _ => expr,
    })
}

/// A `--sum` field: a number per flow (0 when absent).
pub(super) fn sum_expr(b: &mut SqlBuilder, name: &str) -> Result<String> {
    let field = FlowField::parse(name).map_err(Error::from)?;
    match field {
        FlowField::Count
        | FlowField::Csbytes
        | FlowField::Scbytes
        | FlowField::Cspkts
        | FlowField::Scpkts
        | FlowField::Dport
        | FlowField::Type => Ok(format!(
            "coalesce(({})::numeric, 0)",
            scalar(b, &field).expect("a scalar field")
        )),
        FlowField::MetaCounter { .. } => Ok(format!(
            "coalesce(({})::numeric, 0)",
            scalar(b, &field).expect("a scalar field")
        )),
        other => Err(Error::BadFilter(format!(
            "{} cannot be summed (count, csbytes, scbytes, cspkts, scpkts, meta counters)",
            other.name()
        ))),
    }
}
