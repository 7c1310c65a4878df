//! The "passive" purpose: host intelligence seen on the wire (Zeek
//! `passive_recon` logs, p0f logs, airodump-ng CSV), one record per distinct
//! observation with count, first and last seen.
//!
//! Pipeline for one input file:
//!
//! ```text
//! ZeekReader / P0fReader / AirodumpReader (RecordReader, through
//!   crate::reader::Records: a bad line is skipped, a read error ends the
//!   file)                                    -> Result<PassiveRecord, LineError>
//!   -> process(rec, &NormalizeConfig, Option<&IgnoreSpec>)   (0, 1 or 2 records,
//!      ignore rules, normalisation, infos)
//!   -> Aggregator::add (pre-aggregation on IdentityKey)      -> storage
//! ```
//!
//! Decisions on IVRE's quirks (spec 6.3):
//! * times are UTC (Zeek epochs; p0f and airodump times read as UTC);
//! * the identity never treats an absent field as a wildcard; long values
//!   are keyed by SHA-256 ([`record::ValueKey`], [`PassiveRecord::value_digest`]);
//! * p0f records carry the server port on SYN+ACK (server) records only: a
//!   SYN (client) record aggregates per address and signature (IVRE 0.9.20);
//! * `ja3-UNKNOWN` is hashed like any JA3 client string; the doubled
//!   `SSH_SERVER_ALGOS` kex line is counted twice (both as IVRE);
//! * airodump: every probed ESSID is kept, ESSIDs with commas are rebuilt,
//!   bad rows are errors instead of crashes;
//! * ignore rules are a declarative file ([`ignore`]), not Python.
//!
//! Left to other modules: Nmap service matching of banners and `SERVER`
//! headers (`service_*` infos) and scanner-probe identification of client
//! payloads (both need `probes`).
pub mod airodump;
pub mod arp;
pub mod cert;
pub mod display;
pub mod dns;
pub mod error;
pub mod ignore;
pub mod infos;
pub mod normalize;
pub mod ntlm;
pub mod p0f;
pub mod record;
pub mod services;
pub mod weblog;
pub mod zeek;

pub use error::{LineError, LineErrorKind};
pub use normalize::{normalize, process, NormalizeConfig};
pub use record::{Aggregator, IdentityKey, PassiveRecord, ValueKey, SCHEMA_VERSION};
pub use zeek::ZeekReader;
