//! Storage of the "nmap" purpose (tables `scan_*`, see `sql/0001_scan.sql`).

mod load;
pub mod read;

pub use load::{already_imported, ScanFileMeta, ScanLoader};
