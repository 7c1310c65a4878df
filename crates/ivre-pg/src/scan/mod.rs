//! Storage of the "nmap" purpose (tables `scan_*`, see `sql/0001_scan.sql`),
//! and the host-record machinery (filters, queries, `--top`, loader) that
//! the view purpose runs on its own tables ([`HostTables`]).

pub mod diff;
pub mod filter;
pub(crate) mod load;
pub mod query;
pub mod tables;
pub mod top;

pub use load::{ScanFileMeta, ScanLoader};
pub use tables::{HostLeaf, HostTables};
