//! The `ls` family (`afp-ls`, `http-ls`, `nfs-ls`, `smb-ls`, `ftp-anon`):
//! directory listings stored under one key, `ls`, so that one filter finds
//! a file name whatever the protocol.
//!
//! Shape: `{total: {files, bytes}, volumes: [{volume, files: [{filename,
//! size, time, permission, uid, gid, linktarget}], info: [..]}]}`. Sizes are
//! integers; a `<DIR>` size is dropped. `ftp-anon` has no NSE table: its text
//! listing is parsed (Unix `ls -l`, Windows/IIS and VxWorks styles).

use regex::Regex;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

use super::Script;

fn unix_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^([-bcdlpsD][-rwxsStTlL]{9}[+.@]?)\s+\d+\s+(\S+)\s+(\S+)\s+(\d+)\s+([A-Z][a-z]{2}\s+\d{1,2}\s+(?:\d{1,2}:\d{2}|\d{4}))\s+(.+)$",
        )
        .expect("static regex")
    })
}

fn windows_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(\d{2}-\d{2}-\d{2,4}\s+\d{1,2}:\d{2}(?:[AP]M)?)\s+(<DIR>|\d+)\s+(.+)$")
            .expect("static regex")
    })
}

/// VxWorks FTP servers: `  size MON DD YYYY name` (optionally `<DIR>`).
fn vxworks_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^\s*(\d+)\s+([A-Z]{3}-\d{2}-\d{4}\s+\d{2}:\d{2}:\d{2})\s+(.+?)(?:\s+<DIR>)?$")
            .expect("static regex")
    })
}

/// One line of an FTP listing as a file object, if it looks like one.
fn parse_line(line: &str) -> Option<Map<String, Value>> {
    let line = line.trim_end();
    let line = line.strip_suffix(" [NSE: writeable]").unwrap_or(line);
    let mut file = Map::new();
    if let Some(c) = unix_re().captures(line) {
        let mut name = c[6].to_string();
        let perm = &c[1];
        if perm.starts_with('l') {
            if let Some((n, target)) = name.clone().split_once(" -> ") {
                name = n.to_string();
                file.insert("linktarget".into(), json!(target));
            }
        }
        file.insert("filename".into(), json!(name));
        file.insert("permission".into(), json!(perm));
        file.insert("uid".into(), json!(&c[2]));
        file.insert("gid".into(), json!(&c[3]));
        if let Ok(size) = c[4].parse::<u64>() {
            file.insert("size".into(), json!(size));
        }
        file.insert("time".into(), json!(&c[5]));
        return Some(file);
    }
    if let Some(c) = windows_re().captures(line) {
        file.insert("filename".into(), json!(&c[3]));
        file.insert("time".into(), json!(&c[1]));
        if let Ok(size) = c[2].parse::<u64>() {
            file.insert("size".into(), json!(size));
        }
        return Some(file);
    }
    if let Some(c) = vxworks_re().captures(line) {
        file.insert("filename".into(), json!(&c[3]));
        file.insert("time".into(), json!(&c[2]));
        if !line.ends_with("<DIR>") {
            if let Ok(size) = c[1].parse::<u64>() {
                file.insert("size".into(), json!(size));
            }
        }
        return Some(file);
    }
    None
}

/// Builds the `ls` value from a list of files of the `/` volume.
fn listing(volume: &str, files: Vec<Map<String, Value>>) -> Value {
    let bytes: u64 = files
        .iter()
        .filter_map(|f| f.get("size").and_then(Value::as_u64))
        .sum();
    json!({
        "total": {"files": files.len(), "bytes": bytes},
        "volumes": [{"volume": volume, "files": files}],
    })
}

/// Parses `ftp-anon`'s text output; `None` when no file is listed.
pub fn parse_ftp_listing(output: &str) -> Option<Value> {
    let files: Vec<_> = output.lines().filter_map(parse_line).collect();
    (!files.is_empty()).then(|| listing("/", files))
}

/// Normalises an NSE `ls` table: integer sizes and totals, no `<DIR>` size.
fn normalise_table(mut data: Value) -> Value {
    fn to_int(v: &mut Value) {
        if let Some(n) = v.as_str().and_then(|s| s.trim().parse::<u64>().ok()) {
            *v = json!(n);
        }
    }
    if let Some(total) = data.get_mut("total").and_then(Value::as_object_mut) {
        total.values_mut().for_each(to_int);
    }
    if let Some(vols) = data.get_mut("volumes").and_then(Value::as_array_mut) {
        for vol in vols {
            if let Some(files) = vol.get_mut("files").and_then(Value::as_array_mut) {
                for f in files.iter_mut().filter_map(Value::as_object_mut) {
                    if f.get("size").and_then(Value::as_str) == Some("<DIR>") {
                        f.remove("size");
                    }
                    if let Some(size) = f.get_mut("size") {
                        to_int(size);
                    }
                }
            }
        }
    }
    data
}

/// Column names of NSE's `ls` listings as IVRE's file keys.
fn column_key(header: &str) -> String {
    match header {
        "DATE/TIME" | "DATE" => "time".to_string(),
        h => h.to_ascii_lowercase(),
    }
}

/// Parses the text of NSE's `ls` library (`afp-ls`, `nfs-ls`, `smb-ls`,
/// `http-ls` without a table): `Volume <name>` (or `Directory of <name>`)
/// headers, free-form info lines, then an aligned table whose header row
/// gives the column positions.
pub fn parse_ls_text(output: &str) -> Option<Value> {
    let mut volumes: Vec<Map<String, Value>> = Vec::new();
    let mut columns: Vec<(usize, String)> = Vec::new();
    let mut base = 0;
    for line in output.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if t.is_empty() {
            columns.clear();
            continue;
        }
        let header = t
            .strip_prefix("Volume ")
            .or_else(|| t.strip_prefix("Directory of "));
        if let Some(name) = header {
            let mut vol = Map::new();
            vol.insert("volume".into(), json!(name.trim()));
            vol.insert("files".into(), json!([]));
            volumes.push(vol);
            columns.clear();
            continue;
        }
        let Some(vol) = volumes.last_mut() else {
            continue;
        };
        if columns.is_empty() {
            let is_header = t.contains("FILENAME")
                && t.split_whitespace()
                    .all(|w| !w.chars().any(|c| c.is_ascii_lowercase()));
            if is_header {
                base = indent;
                let mut pos = 0;
                for word in t.split_whitespace() {
                    let start = t[pos..].find(word).map_or(pos, |p| p + pos);
                    columns.push((start, column_key(word)));
                    pos = start + word.len();
                }
            } else if let Value::Array(info) = vol.entry("info").or_insert_with(|| json!([])) {
                info.push(json!(t));
            }
            continue;
        }
        let row = line.get(base..).unwrap_or(t);
        let mut file = Map::new();
        for (i, (start, key)) in columns.iter().enumerate() {
            let end = columns.get(i + 1).map_or(row.len(), |c| c.0.min(row.len()));
            let cell = row.get(*start..end).unwrap_or("").trim();
            if key == "size" {
                match cell.parse::<u64>() {
                    Ok(n) => {
                        file.insert("size".into(), json!(n));
                    }
                    Err(_) => continue, // `<DIR>`
                }
            } else if !cell.is_empty() {
                file.insert(key.clone(), json!(cell));
            }
        }
        if let Some(Value::Array(files)) = vol.get_mut("files") {
            files.push(Value::Object(file));
        }
    }
    if volumes.is_empty() {
        return None;
    }
    let mut nfiles = 0;
    let mut bytes = 0;
    for vol in &volumes {
        for f in vol["files"].as_array().into_iter().flatten() {
            nfiles += 1;
            bytes += f.get("size").and_then(Value::as_u64).unwrap_or(0);
        }
    }
    Some(json!({"total": {"files": nfiles, "bytes": bytes}, "volumes": volumes}))
}

pub(crate) fn process(mut script: Script) -> Vec<Script> {
    script.data = match script.data.take() {
        Some(data) if data.get("volumes").is_some() => Some(normalise_table(data)),
        _ if script.id == "ftp-anon" => parse_ftp_listing(&script.output),
        None => parse_ls_text(&script.output),
        other => other,
    };
    vec![script]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_dir_has_no_size() {
        let v = parse_ftp_listing(
            "Anonymous FTP login allowed (FTP code 230)\n12-16-13  01:43PM       <DIR>          report",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"total": {"bytes": 0, "files": 1}, "volumes": [{"files": [{"filename": "report", "time": "12-16-13  01:43PM"}], "volume": "/"}]})
        );
    }

    #[test]
    fn nfs_ls_text() {
        let out = "\n  Volume /home\n    access: Read Lookup NoModify NoExtend NoDelete NoExecute\n  PERMISSION  UID  GID  SIZE  TIME                 FILENAME\n  drwxr-xr-x  0    0    4096  2010-06-17 12:31:33  .\n  -rw-r--r--  0    0    1024  2010-06-17 12:31:34  a b.txt\n  \n  Volume /tmp\n    ERROR: Mount failed\n";
        assert_eq!(
            parse_ls_text(out).unwrap(),
            json!({"total": {"files": 2, "bytes": 5120}, "volumes": [
                {"volume": "/home", "files": [
                    {"permission": "drwxr-xr-x", "uid": "0", "gid": "0", "size": 4096, "time": "2010-06-17 12:31:33", "filename": "."},
                    {"permission": "-rw-r--r--", "uid": "0", "gid": "0", "size": 1024, "time": "2010-06-17 12:31:34", "filename": "a b.txt"}],
                 "info": ["access: Read Lookup NoModify NoExtend NoDelete NoExecute"]},
                {"volume": "/tmp", "files": [], "info": ["ERROR: Mount failed"]}]})
        );
    }

    #[test]
    fn no_listing() {
        assert_eq!(
            parse_ftp_listing("Anonymous FTP login allowed (FTP code 230)"),
            None
        );
    }
}
