//! The "nmap" purpose: one host record per scanned host per scan result.

pub mod detect;
pub mod error;
pub mod fingerprint;
pub mod honeypot;
pub mod ivre_json;
pub mod masscan;
pub mod nmap_xml;
pub mod probes;
pub mod record;
pub mod script;
pub mod scripts;
mod xml_events;

pub use detect::{detect_format, read_scan, HostIter, ReadOptions, ScanFormat, ScanReader};
pub use error::{ParseError, ParseErrorKind};
pub use ivre_json::IvreJsonReader;
pub use masscan::MasscanJsonReader;
pub use nmap_xml::{NmapXmlReader, ScanInfo};
pub use record::{Cpe, Hop, Host, Hostname, OpenPorts, Os, Port, Tag, Trace, SCHEMA_VERSION};
pub use script::Script;
pub mod compat;
pub mod output;
