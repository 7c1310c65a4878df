//! Benchmark data: loads N host records made from IVRE's golden records
//! (cycled, each with a fresh IPv4 address) through the COPY loader.
//!
//! `cargo run --release -p ivre-pg --example scan_bench_load -- \
//!     tests/data/golden/ivre-nmap-records.jsonl.gz 1000000 [--db URL]`

use ivre_model::scan::Host;
use ivre_pg::scan::{ScanFileMeta, ScanLoader};
use std::error::Error;
use std::io::BufRead;
use std::net::Ipv4Addr;
use std::time::Instant;

/// Records per import (one transaction each).
const BATCH: u64 = 100_000;

const USAGE: &str = "usage: scan_bench_load RECORDS.jsonl.gz N [--db URL]";

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(n)) = (args.get(1), args.get(2)) else {
        return Err(USAGE.into());
    };
    let n: u64 = n.parse()?;
    let db = args
        .iter()
        .position(|a| a == "--db")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut templates: Vec<Host> = Vec::new();
    for line in std::io::BufReader::new(flate2::read::GzDecoder::new(file)).lines() {
        let mut v: serde_json::Value = serde_json::from_str(&line?)?;
        ivre_model::scan::compat::normalize_mongo_addresses(&mut v);
        templates.push(serde_json::from_value(v)?);
    }
    let mut client = ivre_pg::connect(db.as_deref())?;
    let start = Instant::now();
    let base = u32::from(Ipv4Addr::new(11, 0, 0, 0));
    let mut i = 0u64;
    while i < n {
        let meta = ScanFileMeta {
            sha256: format!("bench-{i}"),
            name: format!("bench-{i}"),
            format: "ivre-json".into(),
            categories: vec!["BENCH".into()],
            source: Some("bench".into()),
            ..Default::default()
        };
        let mut loader = ScanLoader::begin(&mut client, &meta)?;
        let end = (i + BATCH).min(n);
        while i < end {
            let mut host = templates[(i % templates.len() as u64) as usize].clone();
            host.addr = Ipv4Addr::from(base + i as u32).to_string();
            loader.add(&host)?;
            i += 1;
        }
        loader.finish(&meta)?;
        eprintln!(
            "{i} hosts loaded, {:.0} hosts/s",
            i as f64 / start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
