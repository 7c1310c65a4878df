//! Storage of the "passive" purpose (table `passive`, see `sql/0003_passive.sql`).

mod ingest;
mod load;

pub use ingest::{ingest, IngestOptions, IngestStats};
pub use load::{identity_hash, PassiveLoader};
