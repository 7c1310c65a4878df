//! Storage of the "passive" purpose (table `passive`, see `sql/0003_passive.sql`).

pub mod dns;
mod load;

pub use load::{identity_hash, record_key, PassiveLoader, StagedRow};
