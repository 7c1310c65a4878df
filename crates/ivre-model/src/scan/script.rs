//! The script object of a port: `{"id", "output", <KEY>: <structured value>, ...}`.
//!
//! IVRE stores the structured value of a script under a key that is usually the
//! script id, but several scripts share one key (see [`alias_key`]), so that a
//! filter on `ls` finds `ftp-anon` and `smb-ls` listings alike.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// One NSE script result (or a result synthesised from another tool's output).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub id: String,
    pub output: String,
    /// The structured value, serialised under [`Script::key`].
    pub data: Option<Value>,
    /// Any other member (for example `masscan: {raw, encoded}`), kept verbatim.
    pub extra: Map<String, Value>,
}

impl Script {
    pub fn new(id: impl Into<String>, output: impl Into<String>) -> Self {
        Script {
            id: id.into(),
            output: output.into(),
            ..Script::default()
        }
    }

    /// The key under which the structured value lives.
    pub fn key(&self) -> &str {
        alias_key(&self.id)
    }
}

/// Vulnerability-checking scripts whose structured output IVRE files under `vulns`.
/// Prefix families (`http-vuln-*`, `smb-vuln-*`, ...) are handled in [`alias_key`].
const VULN_SCRIPTS: &[&str] = &[
    "afp-path-vuln",
    "clamav-exec",
    "distcc-cve2004-2687",
    "ftp-libopie",
    "ftp-vsftpd-backdoor",
    "ftp-vuln-cve2010-4221",
    "http-avaya-ipoffice-users",
    "http-cross-domain-policy",
    "http-dlink-backdoor",
    "http-frontpage-login",
    "http-huawei-hg5xx-vuln",
    "http-iis-short-name-brute",
    "http-method-tamper",
    "http-phpmyadmin-dir-traversal",
    "http-phpself-xss",
    "http-shellshock",
    "http-slowloris-check",
    "http-tplink-dir-traversal",
    "http-trace",
    "http-vmware-path-vuln",
    "http-litespeed-sourcecode-download",
    "http-majordomo2-dir-traversal",
    "http-wnr1000-creds",
    "http-adobe-coldfusion-apsa1301",
    "http-aspnet-debug",
    "http-axis2-dir-traversal",
    "http-barracuda-dir-traversal",
    "http-cookie-flags",
    "http-internal-ip-disclosure",
    "ipmi-cipher-zero",
    "mysql-vuln-cve2012-2122",
    "qconn-exec",
    "rdp-vuln-ms12-020",
    "realvnc-auth-bypass",
    "rmi-vuln-classloader",
    "rsa-vuln-roca",
    "samba-vuln-cve-2012-1182",
    "smb-double-pulsar-backdoor",
    "sslv2-drown",
    "ssl-ccs-injection",
    "ssl-cert-intaddr",
    "ssl-dh-params",
    "ssl-heartbleed",
    "ssl-poodle",
    "supermicro-ipmi-conf",
    "tls-ticketbleed",
    "vulners",
    "wdb-version",
];

/// The key of the structured value for a script id (IVRE's `ALIASES_TABLE_ELEMS`).
pub fn alias_key(id: &str) -> &str {
    match id {
        "ssl-cacert" => "ssl-cert",
        "afp-ls" | "http-ls" | "nfs-ls" | "smb-ls" | "ftp-anon" => "ls",
        "dns-nuclei" | "http-nuclei" | "network-nuclei" | "ssl-nuclei" | "tcp-nuclei" => "nuclei",
        _ if id.ends_with("-ntlm-info") => "ntlm-info",
        _ if id.starts_with("http-vuln-")
            || id.starts_with("smb-vuln-")
            || id.starts_with("smb2-vuln-")
            || id.starts_with("mysql-vuln-")
            || id.starts_with("smtp-vuln-")
            || id.starts_with("ftp-vuln-")
            || VULN_SCRIPTS.contains(&id) =>
        {
            "vulns"
        }
        _ => id,
    }
}

impl Serialize for Script {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("output", &self.output)?;
        if let Some(data) = &self.data {
            map.serialize_entry(self.key(), data)?;
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Script {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScriptVisitor;
        impl<'de> Visitor<'de> for ScriptVisitor {
            type Value = Script;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a script object with an \"id\"")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Script, A::Error> {
                let mut all = Map::new();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    all.insert(k, v);
                }
                let id = match all.remove("id") {
                    Some(Value::String(s)) => s,
                    _ => return Err(de::Error::missing_field("id")),
                };
                let output = match all.remove("output") {
                    Some(Value::String(s)) => s,
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let data = all.remove(alias_key(&id));
                Ok(Script {
                    id,
                    output,
                    data,
                    extra: all,
                })
            }
        }
        deserializer.deserialize_map(ScriptVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn structured_value_lives_under_the_alias_key() {
        let v = json!({"id": "ftp-anon", "output": "x", "ls": {"total": {"files": 1}}, "masscan": {"raw": "eA=="}});
        let s: Script = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(s.key(), "ls");
        assert_eq!(s.data, Some(json!({"total": {"files": 1}})));
        assert_eq!(serde_json::to_value(&s).unwrap(), v);
    }

    #[test]
    fn ntlm_and_vuln_aliases() {
        assert_eq!(alias_key("http-ntlm-info"), "ntlm-info");
        assert_eq!(alias_key("smb-vuln-ms17-010"), "vulns");
        assert_eq!(alias_key("ssl-heartbleed"), "vulns");
        assert_eq!(alias_key("http-title"), "http-title");
    }
}
