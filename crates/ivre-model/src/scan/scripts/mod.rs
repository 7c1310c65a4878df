//! IVRE's script catalogue: ignore rules and the structured values IVRE builds
//! or rewrites for each script id (spec scans.md §1.4).

use super::Script;

/// What processing a script adds to the host beyond the script itself.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Effects {
    /// `(name, type)` pairs, e.g. `("www.example.com", "cert-san-dns")`.
    pub hostnames: Vec<(String, String)>,
    /// `(cpe string, origin)` pairs, e.g. `("cpe:/a:microsoft:iis", "scripts.id:http-headers")`.
    pub cpes: Vec<(String, String)>,
    /// MAC addresses to add to `addresses.mac`.
    pub macs: Vec<String>,
}

/// Where the script ran: `port` is `None` for host scripts (the `-1` pseudo-port).
#[derive(Debug, Default, Clone, Copy)]
pub struct PortContext<'a> {
    pub port: Option<u16>,
    pub protocol: Option<&'a str>,
    pub service_name: Option<&'a str>,
}

/// Processes one script as it comes out of a parser (`data` holds the raw NSE
/// structured output converted to JSON, if any). Returns the scripts to keep:
/// none when IVRE's ignore rules drop it, two for `smb-os-discovery`.
pub fn process(script: Script, _port: &PortContext, _effects: &mut Effects) -> Vec<Script> {
    vec![script]
}
