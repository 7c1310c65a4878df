//! IVRE's script catalogue: ignore rules and the structured values IVRE builds
//! or rewrites for each script id (spec scans.md §1.4).
//!
//! [`process`] is the single entry point used by every parser (Nmap XML,
//! Masscan XML, and the JSON importers): it drops useless results, rewrites
//! ids (`*-ntlm-info` → `ntlm-info`), builds or normalises the structured
//! value and reports what the script teaches about the host (hostnames,
//! CPEs, MAC addresses, service fields) in [`Effects`].

use serde_json::{Map, Value};

use super::Script;

mod http;
mod ics;
pub mod ignore;
mod ls;
mod misc;
mod ntlm;
mod smb;
mod ssh;
mod ssl_cert;
mod util;
mod vulns;

pub use http::{parse_headers_raw, parse_headers_text};
pub use ics::parse_s7_banner;
pub(crate) use ics::rename_s7;
pub use ls::{parse_ftp_listing, parse_ls_text};
pub use smb::windows_product_version;
pub use ssh::hassh;
pub use ssl_cert::{
    cert_output, der_to_pem, pem_blocks, ssl_cert_from_der, ssl_cert_script, CertError,
};

/// What processing a script adds to the host beyond the script itself.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Effects {
    /// `(name, type)` pairs, e.g. `("www.example.com", "cert-san-dns")`.
    /// Names are as found; the record builder validates and lower-cases them.
    pub hostnames: Vec<(String, String)>,
    /// `(cpe string, origin)` pairs, e.g. `("cpe:/a:microsoft:iis", "scripts.id:http-headers")`.
    pub cpes: Vec<(String, String)>,
    /// MAC addresses to add to `addresses.mac`.
    pub macs: Vec<String>,
    /// Port fields to set (`service_name`, `service_product`, ...), e.g. when
    /// an S7 reply reveals a Conpot honeypot.
    pub service: Map<String, Value>,
}

/// Where the script ran: `port` is `None` for host scripts (the `-1` pseudo-port).
#[derive(Debug, Default, Clone, Copy)]
pub struct PortContext<'a> {
    pub port: Option<u16>,
    pub protocol: Option<&'a str>,
    pub service_name: Option<&'a str>,
}

/// Scripts whose NSE table mixes keyed and unkeyed elements: IVRE keeps only
/// their output.
const NO_TABLE: &[&str] = &["xmpp-info", "sslv2", "sslv2-drown"];

/// Processes one script as it comes out of a parser (`data` holds the raw NSE
/// structured output converted to JSON, if any). Returns the scripts to keep:
/// none when IVRE's ignore rules drop it, two for `smb-os-discovery` (and for
/// `http-headers` revealing an application: `http-app`).
///
/// Masscan banners arrive with `extra.masscan.raw` (base64 of the banner
/// bytes): X509 certificates, S7comm replies, HTTP responses and SSH banners
/// are structured from those bytes.
pub fn process(script: Script, port: &PortContext, effects: &mut Effects) -> Vec<Script> {
    let raw = util::masscan_raw(&script);
    if raw.is_none() && ignore::is_ignored(&script.id, &script.output) {
        return Vec::new();
    }
    let mut script = script;
    if NO_TABLE.contains(&script.id.as_str()) {
        script.data = None;
        return vec![script];
    }
    if script.id.ends_with("-ntlm-info") {
        return ntlm::process(script, effects);
    }
    match script.id.as_str() {
        "ssl-cert" | "ssl-cacert" => ssl_cert::process(script, effects),
        "ssh-hostkey" => ssh::process_hostkey(script),
        "ssh2-enum-algos" => ssh::process_algos(script),
        "banner" => match raw {
            Some(raw) => ssh::process_banner(script, &raw),
            None => vec![script],
        },
        "http-headers" => http::process_headers(script, raw.as_deref(), effects),
        "http-server-header" => http::process_server_header(script),
        "smb-os-discovery" => match raw {
            Some(raw) => smb::process_masscan(script, &raw, port.port, effects),
            None => smb::process_os_discovery(script, effects),
        },
        "smb-enum-shares" => smb::process_enum_shares(script),
        "s7-info" => ics::process_s7(script, raw.as_deref(), effects),
        "modbus-discover" => ics::process_modbus(script),
        "fcrdns" => misc::process_fcrdns(script),
        "rpcinfo" => misc::process_rpcinfo(script),
        "ms-sql-info" => misc::process_ms_sql_info(script),
        "ssl-jarm" => misc::process_jarm(script),
        "http-default-accounts" => misc::process_default_accounts(script),
        "http-git" => misc::process_http_git(script),
        "mongodb-databases" => misc::process_mongodb_databases(script),
        "snmp-info" => misc::process_snmp_info(script, effects),
        _ => match script.key() {
            "ls" => ls::process(script),
            "vulns" => vulns::process(script),
            _ => vec![script],
        },
    }
}
