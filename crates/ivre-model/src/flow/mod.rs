//! The "flow" purpose (spec part 1): aggregated conversations between two
//! hosts. One [`Flow`] stands for every observation of "client `src` talked
//! to server `dst` with `proto` on `dport` (or ICMP type)"; source ports,
//! ICMP codes and time slots are sets, counters are sums, first / last seen
//! are min / max, and the Zeek protocol logs add `meta.<log>`.
//!
//! Pipeline for one input file:
//!
//! ```text
//! a reader (RecordReader, through crate::reader::Records: a bad line is
//!   skipped, a read error ends the file)      -> Result<Observation, FlowReadError>
//!   -> FlowAggregator::add (pre-aggregation by FlowKey, slots)
//!   -> FlowAggregator::cleanup (reversed flows, after conn / flow inputs)
//!   -> FlowAggregator::drain                  -> storage (one upsert per flow)
//! ```
//!
//! What a storage must keep to give the same answers as this model:
//!
//! * one row per [`FlowKey`] (src, dst, proto, dport or ICMP type; absent
//!   parts are part of the key as "none"), upserts applying
//!   [`Flow::merge`]: least `firstseen`, greatest `lastseen`, summed
//!   counters (`NULL` for flows only protocol logs touched, as
//!   [`Flow::counters`] is `None`), unions of `sports`, `codes`, slots and
//!   metadata values, summed metadata counters and `meta.<log>.count`;
//! * filters mean what [`eval::matches`] computes: a list is present when
//!   it has an element, a condition on an absent field is false and its
//!   negation true, values of different types never compare;
//! * the cleanup is [`cleanup::plan`] over the candidates
//!   ([`cleanup::is_candidate`]: one source port, destination port above
//!   128): delete the replaced flows, upsert the replacing ones;
//! * `-a` / `-b` / `--precision` are a [`SlotWindow`]: one slot in the
//!   window.
//!
//! Decisions on IVRE's quirks (spec 1.12): times are UTC and slots follow
//! UTC ([`slots`]); a Zeek connection lasts `duration` (IVRE used its start
//! as its end); ICMP type and code are numbers whatever the source (IVRE
//! lost them for Argus and kept text for iptables); iptables lines get
//! their year from the caller; the cleanup unites slots instead of
//! multiplying counters by them; `modbus` flows are TCP; the filter
//! language splits alternatives on whole `OR` / `||` tokens only, and `ONE`
//! is refused.

pub mod aggregate;
pub mod argus;
pub mod cleanup;
pub mod detect;
pub mod error;
pub mod eval;
pub mod filter;
pub mod iptables;
pub mod meta;
pub mod nfdump;
pub mod plot;
pub mod ports;
pub mod record;
pub mod slots;
pub mod zeek;

pub use aggregate::FlowAggregator;
pub use argus::ArgusReader;
pub use detect::{detect, FlowFormat};
pub use error::{FlowErrorKind, FlowReadError};
pub use eval::matches;
pub use filter::{parse_filter, parse_filters, FlowField, FlowFilter, FlowLeaf, SlotWindow};
pub use iptables::IptablesReader;
pub use meta::{LogMeta, MetaObservation, MetaValue, META_DESC};
pub use nfdump::NfdumpReader;
pub use ports::PortRanking;
pub use record::{
    Counters, Endpoints, Flow, FlowCounts, FlowKey, Observation, ObservationKind, SCHEMA_VERSION,
};
pub use slots::{SlotConfig, TimeSlot};
pub use zeek::ZeekFlowReader;
