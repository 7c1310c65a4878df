//! Vulnerability scripts (key `vulns`): Nmap's `vulns` library reports
//! `{<vuln id>: {title, state, ids, refs, description, dates, ...}}`; IVRE
//! stores a list of those tables with the key moved into an `id` field, so
//! that `vulns.id` can be filtered on.

use serde_json::{json, Value};

use super::Script;

pub(crate) fn process(mut script: Script) -> Vec<Script> {
    script.data = match script.data.take() {
        Some(Value::Object(table)) => {
            // A single vulnerability table without an id wrapper.
            if table.contains_key("state") || table.contains_key("title") {
                Some(Value::Array(vec![Value::Object(table)]))
            } else {
                let list: Vec<Value> = table
                    .into_iter()
                    .map(|(id, v)| match v {
                        Value::Object(mut o) => {
                            let mut vuln = serde_json::Map::new();
                            vuln.insert("id".into(), json!(id));
                            vuln.append(&mut o);
                            Value::Object(vuln)
                        }
                        other => json!({"id": id, "output": other}),
                    })
                    .collect();
                (!list.is_empty()).then_some(Value::Array(list))
            }
        }
        other => other,
    };
    vec![script]
}
