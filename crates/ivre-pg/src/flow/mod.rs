//! Storage of the "flow" purpose (tables `flow_key` with each flow's
//! totals, `flow` append-only and partitioned by month, view `flow_total`,
//! provenance `flow_file`; see `sql/0006_flow.sql` and
//! `sql/0009_flow_totals.sql`): the loader of aggregated flows, the filter
//! compiler, the query API and the cleanup of reversed flows.

pub mod cleanup;
mod fields;
pub mod filter;
mod load;
pub mod query;
pub mod web;

pub use load::{ensure_partition, meta_json, partition_name, period_of, FlowLoader};
