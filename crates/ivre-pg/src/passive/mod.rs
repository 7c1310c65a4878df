//! Storage of the "passive" purpose (table `passive`, see `sql/0003_passive.sql`).

pub mod filter;
mod load;
pub mod query;

pub use load::{identity_hash, PassiveLoader};
