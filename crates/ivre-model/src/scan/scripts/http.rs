//! `http-headers` (list of `{name, value}` with the status line first as
//! `_status`), the `http-app` script derived from it, and
//! `http-server-header` (list of strings).

use serde_json::{json, Value};

use super::{Effects, Script};

fn header(name: &str, value: &str) -> Value {
    json!({"name": name.trim().to_ascii_lowercase(), "value": value.trim()})
}

/// Headers from Nmap's text output: `  Name: value` lines up to the blank
/// line that precedes `(Request type: ...)`.
pub fn parse_headers_text(output: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for line in output.lines() {
        let t = line.trim();
        if t.is_empty() {
            if !out.is_empty() {
                break;
            }
            continue;
        }
        if t.starts_with("(Request type:") {
            break;
        }
        if out.is_empty() && t.starts_with("HTTP/") {
            out.push(header("_status", t));
        } else if let Some((k, v)) = t.split_once(':') {
            out.push(header(k, v));
        }
    }
    out
}

/// Headers from a raw HTTP response (Masscan banner).
pub fn parse_headers_raw(raw: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(raw);
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line == "\r" {
            break;
        }
        if i == 0 && line.starts_with("HTTP/") {
            out.push(header("_status", line));
        } else if let Some((k, v)) = line.split_once(':') {
            out.push(header(k, v));
        }
    }
    out
}

/// Applications recognised from headers (SharePoint, Kibana), with CPEs.
fn http_app(headers: &[Value], effects: &mut Effects) -> Option<Script> {
    let get = |name: &str| {
        headers.iter().find_map(|h| {
            (h.get("name")?.as_str()? == name)
                .then(|| h.get("value")?.as_str().map(str::to_string))
                .flatten()
        })
    };
    let mut apps = Vec::new();
    let mut lines = Vec::new();
    if let Some(v) = get("microsoftsharepointteamservices") {
        let version = v.split(';').next().unwrap_or(&v).trim().to_string();
        apps.push(json!({"application": "sharepoint", "version": version, "path": "/"}));
        lines.push(format!("SharePoint: path /, version {version}"));
        effects.cpes.push((
            format!("cpe:/a:microsoft:sharepoint_server:{version}"),
            "scripts.id:http-headers".to_string(),
        ));
    }
    if get("kbn-name").is_some() || get("kbn-version").is_some() {
        let mut app = json!({"application": "kibana", "path": "/"});
        let mut line = "Kibana: path /".to_string();
        if let Some(version) = get("kbn-version") {
            app["version"] = json!(version);
            line.push_str(&format!(", version {version}"));
            effects.cpes.push((
                format!("cpe:/a:elasticsearch:kibana:{version}"),
                "scripts.id:http-headers".to_string(),
            ));
        }
        apps.push(app);
        lines.push(line);
    }
    if apps.is_empty() {
        return None;
    }
    let mut s = Script::new("http-app", lines.join("\n"));
    s.data = Some(Value::Array(apps));
    Some(s)
}

/// `http-headers` from Nmap (text) or Masscan (`raw` bytes).
pub(crate) fn process_headers(
    mut script: Script,
    raw: Option<&[u8]>,
    effects: &mut Effects,
) -> Vec<Script> {
    let headers = match (&script.data, raw) {
        (_, Some(raw)) => parse_headers_raw(raw),
        (Some(Value::Array(a)), None) => a.clone(),
        _ => parse_headers_text(&script.output),
    };
    if headers.is_empty() {
        return vec![script];
    }
    let app = http_app(&headers, effects);
    // Masscan has no http-server-header script: derive it from the headers.
    let servers: Vec<&str> = headers
        .iter()
        .filter(|h| raw.is_some() && h["name"] == "server")
        .filter_map(|h| h["value"].as_str())
        .collect();
    let server_script = (!servers.is_empty()).then(|| {
        let mut s = Script::new("http-server-header", servers.join("\n"));
        s.data = Some(json!(servers));
        s
    });
    script.data = Some(Value::Array(headers));
    let mut out = vec![script];
    out.extend(server_script);
    out.extend(app);
    out
}

/// `http-server-header`: always a list of strings (old Nmap gave `{Server: x}`).
pub(crate) fn process_server_header(mut script: Script) -> Vec<Script> {
    let list: Vec<Value> = match script.data.take() {
        Some(Value::Array(a)) => a,
        Some(Value::Object(o)) => o.into_iter().map(|(_, v)| v).collect(),
        Some(Value::String(s)) => vec![json!(s)],
        _ => script
            .output
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| json!(l.strip_prefix("Server:").map_or(l, str::trim)))
            .collect(),
    };
    script.data = (!list.is_empty()).then_some(Value::Array(list));
    vec![script]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kibana_app() {
        let headers =
            parse_headers_raw(b"HTTP/1.1 200 OK\r\nkbn-name: kibana\r\nkbn-version: 6.8.0\r\n\r\n");
        let mut effects = Effects::default();
        let app = http_app(&headers, &mut effects).unwrap();
        assert_eq!(
            app.data,
            Some(json!([{"application": "kibana", "path": "/", "version": "6.8.0"}]))
        );
        assert_eq!(app.output, "Kibana: path /, version 6.8.0");
        assert_eq!(effects.cpes[0].0, "cpe:/a:elasticsearch:kibana:6.8.0");
    }
}
