//! Storage of the "nmap" purpose (tables `scan_*`, see `sql/0001_scan.sql`).

pub mod filter;
mod load;
pub mod query;
pub mod top;

pub use load::{ScanFileMeta, ScanLoader};
