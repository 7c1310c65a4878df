//! Storage of the "passive" purpose (table `passive`, see `sql/0003_passive.sql`).

pub mod dns;
pub mod filter;
mod load;
pub mod provenance;
pub mod query;
pub mod top;

pub use load::{identity_hash, record_key, PassiveLoader, StagedRow};
