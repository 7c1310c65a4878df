//! Storage of the "passive" purpose (table `passive`, see `sql/0003_passive.sql`).

mod load;

pub use load::{identity_hash, PassiveLoader};
