//! The "passive" purpose: host intelligence seen on the wire (Zeek
//! `passive_recon` logs, p0f logs, airodump-ng CSV), one record per distinct
//! observation with count, first and last seen.
pub mod airodump;
pub mod cert;
pub mod escape;
pub mod ignore;
pub mod infos;
pub mod normalize;
pub mod ntlm;
pub mod p0f;
pub mod record;
pub mod zeek;

pub use normalize::{normalize, process, NormalizeConfig};
pub use record::{Aggregator, IdentityKey, PassiveRecord, ValueKey, SCHEMA_VERSION};
pub use zeek::{LineError, ZeekReader};
