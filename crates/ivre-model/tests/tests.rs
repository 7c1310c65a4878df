//! The integration tests of the model, built as one test binary (one link
//! instead of one per file). Run one module with `cargo test -p ivre-model
//! --test integration scan_readers::`.

mod passive_golden;
mod passive_inputs;
mod scan_readers;
mod scan_robustness;
mod scripts_golden;
mod view;
