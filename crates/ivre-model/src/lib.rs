//! IVRE's data model: the records of each purpose, the parsers of every input
//! format and the filter language. Pure: no database and no network, so that
//! everything here can be unit-tested and fuzzed on its own.

pub mod crypto;
pub mod escape;
pub mod filter;
pub mod flow;
pub mod ipcalc;
pub mod moduli;
pub mod oui;
pub mod passive;
pub mod probes;
pub mod reader;
pub mod rir;
pub mod scan;
pub mod storable;
pub mod targets;
pub mod view;
pub mod zeeklog;
