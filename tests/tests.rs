//! The integration tests of the tools, built as one test binary (one link
//! instead of one per file, and the harness in `common` compiled once).
//! Each module is one tool or concern; run one with `cargo test --test
//! integration scancli::`.

mod arp2db;
mod common;

mod auditdom;
mod browser;
mod citus;
mod conventions;
mod db;
mod faults;
mod first_hour;
mod flow;
mod flow_captures;
mod flow_query;
mod flow_upgrade;
mod foundation;
mod geoip_download;
mod getmoduli;
mod hints;
mod import_summary;
mod ipcalc;
mod ipdata;
mod iphost;
mod ipinfo;
mod iprange;
mod kill;
mod macinfo;
mod passive;
mod passive_exactly_once;
mod rir;
mod runscans;
mod scan2db;
mod scan_explain;
mod scan_scale;
mod scancli;
mod scancli_ingest;
mod scanners;
mod schema_doc;
mod truncated;
mod unstorable;
mod view;
mod view_flags;
mod view_jobs;
mod view_parity;
mod web;
mod web_auth;
mod web_diffcats;
mod web_keys;
mod web_read_role;
mod web_upload;
mod web_view;
mod weblog2db;
