//! `smb-os-discovery` (split in two: the OS part stays, the NTLM part becomes
//! an `ntlm-info` script with `protocol: smb`) and `smb-enum-shares`.

use serde_json::{json, Map, Value};

use super::util::{get_str, parse_flat_output, restore_key};
use super::{Effects, Script};

/// Windows version (`major.minor.build`) of an OS name such as
/// `Windows Server 2008 R2 Enterprise 7600` or `Windows 5.1`.
pub fn windows_product_version(os: &str) -> Option<String> {
    let tokens: Vec<&str> = os.split_whitespace().collect();
    // Old SMB stacks give `Windows 5.0` / `Windows 5.1` / `Windows 5.2`.
    if tokens.len() == 2 && tokens[0] == "Windows" {
        let build = match tokens[1] {
            "5.0" => "2195",
            "5.1" => "2600",
            "5.2" => "3790",
            _ => return None,
        };
        return Some(format!("{}.{build}", tokens[1]));
    }
    let build: u32 = tokens
        .iter()
        .rev()
        .find(|t| t.len() >= 4 && t.chars().all(|c| c.is_ascii_digit()))?
        .parse()
        .ok()?;
    let major_minor = match build {
        2195 => "5.0",
        2600 => "5.1",
        3790 => "5.2",
        6000..=6003 => "6.0",
        7600 | 7601 => "6.1",
        9200 => "6.2",
        9600 => "6.3",
        10240.. => "10.0",
        _ => return None,
    };
    let sp1 = os.contains("Service Pack 1");
    Some(match (build, sp1) {
        // Windows Server 2003 SP1 reports its service-pack build.
        (3790, true) => format!("{major_minor}.3790.1180"),
        // Windows Server 2008 SP2 is known by its updated build.
        (6002, _) if os.contains("Service Pack 2") => format!("{major_minor}.6003"),
        _ => format!("{major_minor}.{build}"),
    })
}

const OS_KEYS: &[(&str, &str)] = &[
    ("os", "OS"),
    ("lanmanager", "LAN Manager"),
    ("date", "System Time"),
    ("cpe", "OS CPE"),
    ("smb-version", "SMB Version"),
    ("guid", "GUID"),
];

/// (Nmap key, ntlm-info key), in output order.
const NTLM_KEYS: &[(&str, &str)] = &[
    ("domain", "NetBIOS_Domain_Name"),
    ("server", "NetBIOS_Computer_Name"),
    ("fqdn", "DNS_Computer_Name"),
    ("domain_dns", "DNS_Domain_Name"),
    ("forest_dns", "DNS_Tree_Name"),
    ("workgroup", "Workgroup"),
];

/// Nmap's table from its text output, for old results without a table.
fn table_from_text(output: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in parse_flat_output(output) {
        let key = match k.as_str() {
            "OS" => "os",
            "OS CPE" => "cpe",
            "LAN Manager" => "lanmanager",
            "NetBIOS computer name" => "server",
            "Workgroup" => "workgroup",
            "Domain name" => "domain_dns",
            "Forest name" => "forest_dns",
            "FQDN" => "fqdn",
            "System time" | "System Time" => "date",
            _ => continue,
        };
        let v = match (key, v.split_once(" (")) {
            ("os", Some((os, _))) => os.to_string(),
            _ => v,
        };
        out.insert(key.into(), json!(v));
    }
    out
}

pub(crate) fn process_os_discovery(mut script: Script, effects: &mut Effects) -> Vec<Script> {
    let table = match script.data.take() {
        Some(Value::Object(o)) => o,
        _ => table_from_text(&script.output),
    };
    if table.is_empty() {
        return vec![script];
    }
    let mut os = Map::new();
    let mut lines = Vec::new();
    for (key, label) in OS_KEYS {
        if let Some(v) = get_str(&table, key) {
            os.insert((*key).into(), json!(v));
            lines.push(format!("  {label}: {v}"));
        }
    }
    script.output = lines.join("\n");
    if let Some(cpe) = get_str(&os, "cpe") {
        effects
            .cpes
            .push((cpe.to_string(), "scripts.id:smb-os-discovery".to_string()));
    }
    script.data = Some(Value::Object(os));
    let mut ntlm_data = Map::new();
    for (key, name) in NTLM_KEYS {
        if let Some(v) = get_str(&table, key) {
            ntlm_data.insert((*name).into(), json!(v));
        }
    }
    if ntlm_data.is_empty() {
        return vec![script];
    }
    if let Some(pv) = get_str(&table, "os").and_then(windows_product_version) {
        ntlm_data.insert("Product_Version".into(), json!(pv));
    }
    ntlm_data.insert("NTLM_Version".into(), json!("15"));
    let output = ntlm_data
        .iter()
        .map(|(k, v)| format!("  {k}: {}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n");
    // IVRE derives no `ntlm` host name from the split (the golden records
    // show none): only the `*-ntlm-info` scripts give one.
    ntlm_data.insert("protocol".into(), json!("smb"));
    let mut ntlm_script = Script::new("ntlm-info", output);
    ntlm_script.data = Some(Value::Object(ntlm_data));
    vec![script, ntlm_script]
}

/// `\\10_0_0_1\IPC$` → `\\10.0.0.1\IPC$`: the dots of the host part were
/// turned into `_` by the NSE-key conversion.
fn share_name(key: &str) -> String {
    if let Some(rest) = key.strip_prefix("\\\\") {
        if let Some((host, share)) = rest.split_once('\\') {
            return format!("\\\\{}\\{share}", host.replace('_', "."));
        }
    }
    key.to_string()
}

pub(crate) fn process_enum_shares(mut script: Script) -> Vec<Script> {
    let Some(Value::Object(table)) = script.data.take() else {
        return vec![script];
    };
    let output = script.output.clone();
    let mut out = Map::new();
    let mut shares = Vec::new();
    for (k, v) in table {
        match v {
            Value::Object(mut share) => {
                share.insert("Share".into(), json!(share_name(&restore_key(&k, &output))));
                shares.push(Value::Object(share));
            }
            other => {
                out.insert(k, other);
            }
        }
    }
    shares.sort_by(|a, b| {
        let s = |v: &Value| v["Share"].as_str().unwrap_or_default().to_string();
        s(a).cmp(&s(b))
    });
    out.insert("shares".into(), Value::Array(shares));
    script.data = Some(Value::Object(out));
    vec![script]
}

/// The `key=value` pairs of a Masscan SMB banner (values may hold spaces:
/// `time=2021-01-11 00:06:52`, `os=Windows Server 2003 3790`). Repeated keys
/// keep their first value.
fn masscan_smb_fields(banner: &str) -> (String, Map<String, Value>) {
    const KEYS: &[&str] = &[
        "guid",
        "time",
        "TZ",
        "domain",
        "version",
        "ntlm-ver",
        "name",
        "domain-dns",
        "name-dns",
        "forest",
        "os",
        "ver",
    ];
    let mut starts: Vec<(usize, usize, &str)> = Vec::new(); // (key start, value start, key)
    for (i, _) in banner.match_indices('=') {
        let key_start = banner[..i].rfind(' ').map_or(0, |p| p + 1);
        let key = &banner[key_start..i];
        if let Some(k) = KEYS.iter().find(|k| **k == key) {
            starts.push((key_start, i + 1, k));
        }
    }
    let version = banner[..starts.first().map_or(banner.len(), |s| s.0)]
        .trim()
        .to_string();
    let mut out = Map::new();
    for (n, (_, vstart, key)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(banner.len(), |s| s.0);
        let value = banner[*vstart..end].trim();
        if !out.contains_key(*key) {
            out.insert((*key).to_string(), json!(value));
        }
    }
    (version, out)
}

/// Masscan's SMB banner: `smb2-time`, `smb-os-discovery` and `ntlm-info`,
/// a `smb` hostname and the service name of the port.
pub(crate) fn process_masscan(
    mut script: Script,
    raw: &[u8],
    port: Option<u16>,
    effects: &mut Effects,
) -> Vec<Script> {
    let banner = String::from_utf8_lossy(raw).to_string();
    let (version, f) = masscan_smb_fields(&banner);
    let get = |k: &str| get_str(&f, k).map(str::to_string);
    let mut out = Vec::new();
    if let Some(time) = get("time") {
        let date = match get("TZ").and_then(|t| t.parse::<i32>().ok()) {
            Some(tz) => format!(
                "{time}{}{:02}:{:02}",
                if tz < 0 { '-' } else { '+' },
                tz.abs() / 60,
                tz.abs() % 60
            ),
            None => time.clone(),
        };
        let mut s = Script::new("smb2-time", format!("\n  date: {date}"));
        s.data = Some(json!({ "date": date }));
        out.push(s);
    }
    let mut os = Map::new();
    let mut lines = Vec::new();
    if let Some(o) = get("os") {
        os.insert("os".into(), json!(o));
        match get("ver") {
            Some(v) => {
                lines.push(format!("  OS: {o} ({v})"));
                os.insert("lanmanager".into(), json!(v));
            }
            None => lines.push(format!("  OS: {o}")),
        }
    }
    if !version.is_empty() {
        lines.push(format!("  SMB Version: {version}"));
        os.insert("smb-version".into(), json!(version));
    }
    if let Some(g) = get("guid") {
        lines.push(format!("  GUID: {g}"));
        os.insert("guid".into(), json!(g));
    }
    if let Some(t) = get("time") {
        let t = t.replacen(' ', "T", 1);
        lines.push(format!("  System time: {t}"));
        os.insert("date".into(), json!(t));
    }
    script.output = format!("\n{}\n", lines.join("\n"));
    script.data = Some(Value::Object(os));
    out.push(script);
    let mut ntlm_data = Map::new();
    for (key, name) in [
        ("name", "NetBIOS_Computer_Name"),
        ("domain", "Workgroup"),
        ("name-dns", "DNS_Computer_Name"),
        ("domain-dns", "DNS_Domain_Name"),
        ("forest", "DNS_Tree_Name"),
        ("version", "Product_Version"),
        ("ntlm-ver", "NTLM_Version"),
    ] {
        if let Some(v) = get(key) {
            ntlm_data.insert(name.into(), json!(v));
        }
    }
    if !ntlm_data.is_empty() {
        let output = ntlm_data
            .iter()
            .map(|(k, v)| format!("\n  {k}: {}", v.as_str().unwrap_or_default()))
            .collect::<String>();
        ntlm_data.insert("protocol".into(), json!("smb"));
        if let Some(name) = get("name-dns") {
            let pair = (name, "smb".to_string());
            if !effects.hostnames.contains(&pair) {
                effects.hostnames.push(pair);
            }
        }
        // Masscan's SMB banner gives an `smb` host name (above), not an `ntlm` one.
        let mut s = Script::new("ntlm-info", output);
        s.data = Some(Value::Object(ntlm_data));
        out.push(s);
    }
    let service = if port == Some(139) {
        "netbios-ssn"
    } else {
        "microsoft-ds"
    };
    effects
        .service
        .insert("service_name".into(), json!(service));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_versions() {
        for (os, pv) in [
            ("Windows Server 2003 3790 Service Pack 1", "5.2.3790.1180"),
            ("Windows Server 2003 3790 Service Pack 2", "5.2.3790"),
            ("Windows Server 2008 R2 Enterprise 7600", "6.1.7600"),
            ("Windows 5.0", "5.0.2195"),
            ("Windows 5.1", "5.1.2600"),
            (
                "Windows Server (R) 2008 Enterprise 6001 Service Pack 1",
                "6.0.6001",
            ),
            ("Windows Server 2016 Standard 14393", "10.0.14393"),
            ("Windows 7 Professional 7601 Service Pack 1", "6.1.7601"),
        ] {
            assert_eq!(windows_product_version(os).as_deref(), Some(pv), "{os}");
        }
    }
}
