//! The "nmap" purpose: one host record per scanned host per scan result.

pub mod assemble;
pub mod auditdom;
pub mod error;
pub mod fingerprint;
pub mod honeypot;
pub mod input;
pub mod record;
pub mod script;
pub mod scripts;

pub use error::{ParseError, ParseErrorKind};
pub use input::{detect_format, read_scan, HostIter, ReadOptions, ScanFormat, ScanReader};
pub use record::{Cpe, Hop, Host, Hostname, OpenPorts, Os, Port, Tag, Trace, SCHEMA_VERSION};
pub use script::Script;
pub mod compat;
pub mod output;
