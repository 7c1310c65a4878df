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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_vulns_become_a_list() {
        let mut s = Script::new("smb-vuln-ms17-010", "\n  VULNERABLE:\n  ...");
        s.data = Some(json!({"CVE-2017-0143": {
            "title": "Remote Code Execution vulnerability in Microsoft SMBv1 servers (ms17-010)",
            "state": "VULNERABLE",
            "ids": ["CVE:CVE-2017-0143"],
            "dates": {"disclosure": {"year": "2017", "month": "03", "day": "14"}},
            "disclosure": "2017-03-14",
            "refs": ["https://technet.microsoft.com/en-us/library/security/ms17-010.aspx"]
        }}));
        let out = process(s);
        let v = out[0].data.as_ref().unwrap();
        assert_eq!(v[0]["id"], "CVE-2017-0143");
        assert_eq!(v[0]["state"], "VULNERABLE");
        assert_eq!(v[0]["ids"], json!(["CVE:CVE-2017-0143"]));
        assert_eq!(
            serde_json::to_value(&out[0]).unwrap()["vulns"][0]["disclosure"],
            "2017-03-14"
        );
    }

    #[test]
    fn text_only_vulns_stay_text() {
        let s = Script::new(
            "http-vuln-cve2010-0738",
            "\n  /jmx-console/: Authentication was not required\n",
        );
        let out = process(s.clone());
        assert_eq!(out, vec![s]);
    }
}
