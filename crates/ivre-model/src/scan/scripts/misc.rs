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

/// `http-default-accounts`: `{<product>: {credentials, cpe, path}}` → a list
/// with the product in `name`.
pub(crate) fn process_default_accounts(mut script: Script) -> Vec<Script> {
    if let Some(Value::Object(t)) = script.data.take() {
        script.data = Some(Value::Array(keyed_to_list(t, "name", &script.output)));
    }
    vec![script]
}

/// `http-git`: one object per repository, `files-found` as a list of file
/// names and `interesting-matches` as `[{file, matches}]`.
pub(crate) fn process_http_git(mut script: Script) -> Vec<Script> {
    let Some(Value::Object(t)) = script.data.take() else {
        return vec![script];
    };
    let output = script.output.clone();
    let mut repos = keyed_to_list(t, "repository", &output);
    for repo in repos.iter_mut().filter_map(Value::as_object_mut) {
        if let Some(Value::Object(files)) = repo.get("files-found").cloned() {
            let list: Vec<Value> = files
                .into_iter()
                .filter(|(_, v)| v != &json!(false) && v != &json!("false"))
                .map(|(k, _)| json!(restore_key(&k, &output)))
                .collect();
            repo.insert("files-found".into(), Value::Array(list));
        }
        if let Some(Value::Object(m)) = repo.get("interesting-matches").cloned() {
            let list: Vec<Value> = m
                .into_iter()
                .map(|(k, v)| json!({"file": restore_key(&k, &output), "matches": v}))
                .collect();
            repo.insert("interesting-matches".into(), Value::Array(list));
        }
    }
    script.data = Some(Value::Array(repos));
    vec![script]
}

fn typed_value(v: &str) -> Value {
    if let Ok(n) = v.parse::<i64>() {
        return json!(n);
    }
    if let Ok(f) = v.parse::<f64>() {
        if f.is_finite() {
            return json!(f);
        }
    }
    match v {
        "true" => json!(true),
        "false" => json!(false),
        _ => json!(v),
    }
}

/// Deepest block of `mongodb-databases` output turned into nested objects;
/// real output nests 3 levels. Beyond it, deeper lines join the enclosing
/// block, so that hostile text cannot exhaust the stack (one call a level)
/// nor produce JSON too deep to re-import.
const MAX_INDENTED_DEPTH: usize = 32;

/// One indented block of `mongodb-databases` output (`k = v` leaves and
/// bare-name headers of nested blocks), `depth` blocks deep.
fn parse_indented(
    lines: &[(usize, &str)],
    pos: &mut usize,
    indent: usize,
    depth: usize,
) -> Map<String, Value> {
    let mut out = Map::new();
    while *pos < lines.len() {
        let (ind, text) = lines[*pos];
        if ind < indent {
            break;
        }
        *pos += 1;
        if let Some((k, v)) = text.split_once(" = ") {
            out.insert(k.trim().to_string(), typed_value(v.trim()));
        } else {
            let child_indent = lines.get(*pos).map_or(ind + 1, |l| l.0);
            let child = if child_indent > ind && depth < MAX_INDENTED_DEPTH {
                parse_indented(lines, pos, child_indent, depth + 1)
            } else {
                Map::new()
            };
            out.insert(text.trim().to_string(), Value::Object(child));
        }
    }
    out
}

/// `databases` and `shards` become lists.
fn mongodb_lists(mut obj: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(dbs)) = obj.remove("databases") {
        let list: Vec<Value> = dbs
            .into_iter()
            .map(|(_, db)| match db {
                Value::Object(mut db) => {
                    if let Some(Value::Object(shards)) = db.remove("shards") {
                        let shards: Vec<Value> = shards
                            .into_iter()
                            .map(|(name, size)| json!({"name": name, "size": size}))
                            .collect();
                        db.insert("shards".into(), Value::Array(shards));
                    }
                    Value::Object(db)
                }
                other => other,
            })
            .collect();
        obj.insert("databases".into(), Value::Array(list));
    }
    obj
}

/// `mongodb-databases`: parsed from the text output.
pub(crate) fn process_mongodb_databases(mut script: Script) -> Vec<Script> {
    let lines: Vec<(usize, &str)> = script
        .output
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| (l.len() - l.trim_start().len(), l.trim()))
        .collect();
    if lines.is_empty() {
        return vec![script];
    }
    let mut pos = 0;
    let parsed = parse_indented(&lines, &mut pos, lines[0].0, 0);
    if parsed.contains_key("databases") || parsed.contains_key("totalSize") {
        script.data = Some(Value::Object(mongodb_lists(parsed)));
    }
    vec![script]
}

/// `snmp-info`: an engine ID in MAC format gives the host's MAC address.
pub(crate) fn process_snmp_info(script: Script, effects: &mut super::Effects) -> Vec<Script> {
    if let Some(Value::Object(t)) = &script.data {
        let is_mac = t
            .get("engineIDFormat")
            .and_then(Value::as_str)
            .is_some_and(|f| f.eq_ignore_ascii_case("mac"));
        if let (true, Some(mac)) = (is_mac, t.get("engineIDData").and_then(Value::as_str)) {
            let mac = mac.trim().to_ascii_lowercase();
            let valid = mac.len() == 17
                && mac
                    .split(':')
                    .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
            if valid && !effects.macs.contains(&mac) {
                effects.macs.push(mac);
            }
        }
    }
    vec![script]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snmp_engine_mac() {
        let mut s = Script::new(
            "snmp-info",
            "\n  enterprise: net-snmp\n  engineIDFormat: mac\n  engineIDData: 00:0C:29:12:34:56",
        );
        s.data = Some(
            json!({"enterprise": "net-snmp", "engineIDFormat": "mac", "engineIDData": "00:0C:29:12:34:56"}),
        );
        let mut effects = super::super::Effects::default();
        process_snmp_info(s, &mut effects);
        assert_eq!(effects.macs, ["00:0c:29:12:34:56"]);
    }

    #[test]
    fn jarm_is_a_bare_string() {
        let fp = "2ad2ad0002ad2ad00042d42d000000ad9bf51cc3f5a1e29eecb81d0c7b06eb";
        let s = Script::new("ssl-jarm", fp);
        assert_eq!(process_jarm(s)[0].data, Some(json!(fp)));
    }

    #[test]
    fn mongodb_databases_text() {
        let s = Script::new(
            "mongodb-databases",
            "\n  ok = 1\n  databases\n    1\n      empty = false\n      sizeOnDisk = 83886080\n      name = test\n    0\n      empty = true\n      sizeOnDisk = 1\n      name = local\n  totalSize = 83886081\n  totalSizeMb = 80\n",
        );
        let out = process_mongodb_databases(s);
        assert_eq!(
            out[0].data,
            Some(json!({
                "ok": 1,
                "databases": [
                    {"empty": false, "sizeOnDisk": 83886080, "name": "test"},
                    {"empty": true, "sizeOnDisk": 1, "name": "local"}
                ],
                "totalSize": 83886081,
                "totalSizeMb": 80
            }))
        );
    }

    #[test]
    fn mongodb_databases_nesting_is_bounded() {
        // One header a line, each indented one more: 3 000 levels.
        let output: String = ["totalSize = 1\n".to_string()]
            .into_iter()
            .chain((0..3_000).map(|i| format!("{}h{i}\n", " ".repeat(i))))
            .collect();
        let out = process_mongodb_databases(Script::new("mongodb-databases", &output));
        let mut depth = 0;
        let mut value = out[0].data.as_ref().expect("parsed");
        while let Some(child) = value.as_object().and_then(|o| o.values().next()) {
            depth += 1;
            value = child;
        }
        assert!(depth <= MAX_INDENTED_DEPTH + 1, "{depth}");
    }

    #[test]
    fn default_accounts_and_git() {
        let mut s = Script::new(
            "http-default-accounts",
            "\n  [Apache Tomcat] at /manager/html/\n    tomcat:tomcat",
        );
        s.data = Some(
            json!({"Apache Tomcat": {"cpe": "cpe:/a:apache:tomcat", "path": "/manager/html/",
            "credentials": [{"username": "tomcat", "password": "tomcat"}]}}),
        );
        let out = process_default_accounts(s);
        assert_eq!(
            out[0].data,
            Some(
                json!([{"name": "Apache Tomcat", "cpe": "cpe:/a:apache:tomcat", "path": "/manager/html/",
                "credentials": [{"username": "tomcat", "password": "tomcat"}]}])
            )
        );
        let mut s = Script::new(
            "http-git",
            "\n  10.0.0.1:80/.git/\n    Git repository found!\n    Files found:\n      .git/config\n      .gitignore\n",
        );
        s.data = Some(json!({"10_0_0_1:80/_git/": {
            "files-found": {"_git/config": "true", "_gitignore": "true"},
            "interesting-matches": {"_git/config": ["password"]}}}));
        let out = process_http_git(s);
        assert_eq!(
            out[0].data,
            Some(json!([{"repository": "10.0.0.1:80/.git/",
                "files-found": [".git/config", ".gitignore"],
                "interesting-matches": [{"file": ".git/config", "matches": ["password"]}]}]))
        );
    }
}
