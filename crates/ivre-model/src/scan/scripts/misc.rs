//! Scripts whose NSE table is keyed by a name that IVRE turns into a list of
//! objects (so that the name can be indexed and filtered): `fcrdns`,
//! `rpcinfo`, `ms-sql-info`; and `ssl-jarm`, stored as a bare string.

use serde_json::{json, Map, Value};

use super::util::restore_key;
use super::Script;

/// `{key: {..}}` → `[{<field>: key, ..}]`, keeping non-object members out.
fn keyed_to_list(table: Map<String, Value>, field: &str, output: &str) -> Vec<Value> {
    table
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::Object(mut o) => {
                let mut item = Map::new();
                item.insert(field.into(), json!(restore_key(&k, output)));
                item.append(&mut o);
                Some(Value::Object(item))
            }
            _ => None,
        })
        .collect()
}

pub(crate) fn process_fcrdns(mut script: Script) -> Vec<Script> {
    if let Some(Value::Object(t)) = script.data.take() {
        script.data = Some(Value::Array(keyed_to_list(t, "name", &script.output)));
    }
    vec![script]
}

pub(crate) fn process_ms_sql_info(mut script: Script) -> Vec<Script> {
    if let Some(Value::Object(t)) = script.data.take() {
        script.data = Some(Value::Array(keyed_to_list(t, "Instance", &script.output)));
    }
    vec![script]
}

fn int_or_keep(s: &str) -> Value {
    s.parse::<u64>().map_or_else(|_| json!(s), |n| json!(n))
}

pub(crate) fn process_rpcinfo(mut script: Script) -> Vec<Script> {
    if let Some(Value::Object(t)) = script.data.take() {
        let mut list = Vec::new();
        for (program, protos) in t {
            let Value::Object(protos) = protos else {
                continue;
            };
            for (protocol, info) in protos {
                let mut item = Map::new();
                item.insert("program".into(), int_or_keep(&program));
                item.insert("protocol".into(), json!(protocol));
                if let Value::Object(info) = info {
                    for (k, v) in info {
                        let v = match (k.as_str(), &v) {
                            ("port", Value::String(s)) => int_or_keep(s),
                            _ => v,
                        };
                        item.insert(k, v);
                    }
                }
                list.push(Value::Object(item));
            }
        }
        script.data = Some(Value::Array(list));
    }
    vec![script]
}

/// `ssl-jarm`: the fingerprint as a bare string.
pub(crate) fn process_jarm(mut script: Script) -> Vec<Script> {
    let from_data = match script.data.take() {
        Some(Value::String(s)) => Some(s),
        Some(Value::Object(o)) => o.get("jarm").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    let jarm = from_data.or_else(|| {
        script
            .output
            .split_whitespace()
            .last()
            .filter(|t| t.len() == 62 && t.chars().all(|c| c.is_ascii_hexdigit()))
            .map(str::to_string)
    });
    script.data = jarm.map(Value::String);
    vec![script]
}
