//! Raw in-process lookup rate of `GeoIpDb::lookup` (AS + Country + City +
//! tags per lookup), single-threaded and on all cores.
//!
//! ```text
//! cargo run --release -p ivre-data --example lookup_rate [-- DIR|- [N]]
//! ```
//!
//! DIR holds the databases under MaxMind's file names; without it, the test
//! databases of the repository are used. Two address sets are timed: random
//! IPv4 addresses, and (with the test databases) random addresses inside the
//! networks listed by the `*.source.json` files, so that every lookup hits.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ivre_data::GeoIpDb;

const TEST_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/geoip");

/// Counts heap allocations, to report them per lookup.
struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Random addresses inside the networks of the test source files.
fn hit_addresses(rng: &mut Rng, n: usize) -> Vec<IpAddr> {
    let mut nets: Vec<(u128, u32, bool)> = Vec::new();
    for f in [
        "GeoLite2-ASN-Test",
        "GeoLite2-Country-Test",
        "GeoLite2-City-Test",
    ] {
        let text = std::fs::read_to_string(Path::new(TEST_DATA).join(format!("{f}.source.json")))
            .expect("source file");
        let list: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(&text).unwrap();
        for net in list.iter().flat_map(|m| m.keys()) {
            let (addr, len) = net.split_once('/').unwrap();
            let len: u32 = len.parse().unwrap();
            match addr.parse::<IpAddr>().unwrap() {
                IpAddr::V4(a) => nets.push((u128::from(u32::from(a)), 32 - len, false)),
                IpAddr::V6(a) => nets.push((u128::from(a), 128 - len, true)),
            }
        }
    }
    (0..n)
        .map(|_| {
            let (base, host_bits, v6) = nets[(rng.next() % nets.len() as u64) as usize];
            let r = (u128::from(rng.next()) << 64 | u128::from(rng.next()))
                & (u128::MAX >> (128 - host_bits.max(1)));
            let r = if host_bits == 0 { 0 } else { r };
            if v6 {
                IpAddr::V6((base | r).into())
            } else {
                IpAddr::V4(Ipv4Addr::from((base | r) as u32))
            }
        })
        .collect()
}

/// CPU time used by the process so far (user + system, all threads), in
/// seconds, from /proc (Linux); 0 elsewhere.
fn cpu_time() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the file: 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}

/// (lookups per wall-clock second, per CPU second, lookups that found something).
fn time(db: &Arc<GeoIpDb>, addrs: &Arc<Vec<IpAddr>>, threads: usize) -> (f64, f64, usize) {
    let (start, cpu_start) = (Instant::now(), cpu_time());
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (db, addrs) = (Arc::clone(db), Arc::clone(addrs));
            std::thread::spawn(move || {
                let mut found = 0;
                for a in addrs.iter().skip(t).step_by(threads) {
                    let info = db.lookup(*a).expect("lookup");
                    if info.as_num.is_some() || info.country_code.is_some() {
                        found += 1;
                    }
                    black_box(&info);
                }
                found
            })
        })
        .collect();
    let found = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let n = addrs.len() as f64;
    let cpu = cpu_time() - cpu_start;
    (n / start.elapsed().as_secs_f64(), n / cpu.max(0.01), found)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().filter(|s| s != "-").map(PathBuf::from);
    let n: usize = args.next().map_or(2_000_000, |s| s.parse().expect("N"));
    let test_data = dir.is_none();
    let db = match &dir {
        Some(d) => GeoIpDb::open_dir(d),
        None => GeoIpDb::open_files(
            Some(&Path::new(TEST_DATA).join("GeoLite2-ASN-Test.mmdb")),
            Some(&Path::new(TEST_DATA).join("GeoLite2-Country-Test.mmdb")),
            Some(&Path::new(TEST_DATA).join("GeoLite2-City-Test.mmdb")),
        ),
    }
    .expect("open databases");
    let db = Arc::new(db);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut sets = vec![(
        "random IPv4",
        (0..n)
            .map(|_| IpAddr::V4(Ipv4Addr::from(rng.next() as u32)))
            .collect::<Vec<_>>(),
    )];
    if test_data {
        let hits = hit_addresses(&mut rng, 3 * n);
        let v4: Vec<IpAddr> = hits
            .iter()
            .filter(|a| a.is_ipv4())
            .copied()
            .take(n)
            .collect();
        sets.push(("IPv4 in source nets", v4));
        sets.push(("any in source nets", hits.into_iter().take(n).collect()));
    }
    println!("databases: {:?}", db.files());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{cores} cores, load average {}",
        load.split_whitespace().next().unwrap_or("?")
    );
    for (name, addrs) in sets {
        let addrs = Arc::new(addrs);
        // Warm-up: page in the maps, check the records once.
        time(&db, &addrs, 1);
        let before = ALLOCS.load(Ordering::Relaxed);
        for a in addrs.iter() {
            black_box(db.lookup(*a).expect("lookup"));
        }
        let allocs = ALLOCS.load(Ordering::Relaxed) - before;
        println!(
            "{name:>20}: {:.3} heap allocations per lookup (the result's region and tag vectors)",
            allocs as f64 / addrs.len() as f64
        );
        for threads in [1, cores] {
            let (rate, cpu_rate, found) = time(&db, &addrs, threads);
            println!(
                "{name:>20}: {} lookups, {threads} thread(s): {:.2} M lookups/s \
                 ({:.2} M per CPU second), {:.1}% found",
                addrs.len(),
                rate / 1e6,
                cpu_rate / 1e6,
                100.0 * found as f64 / addrs.len() as f64
            );
        }
    }
}
