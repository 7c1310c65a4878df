//! The "nmap" purpose: one host record per scanned host per scan result.

pub mod script;
pub mod scripts;

pub use script::Script;
pub mod compat;
pub mod output;
