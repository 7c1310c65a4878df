//! Bad input never panics: random bytes, and every 97th truncation of real
//! samples gives the complete hosts then (at most) one `Truncated` error.

use ivre_model::scan::{read_scan, ParseErrorKind, ReadOptions};
use std::io::Read;

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/ivre-samples/"
);

fn sample(name: &str) -> Vec<u8> {
    let raw = std::fs::read(format!("{SAMPLES}{name}")).unwrap();
    if name.ends_with(".bz2") {
        let mut out = Vec::new();
        bzip2::read::BzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

/// (records, errors) for an input; panics propagate.
fn run(data: &[u8]) -> (usize, Vec<ivre_model::scan::ParseError>) {
    match read_scan(data, &ReadOptions::default()) {
        Err(e) => (0, vec![e]),
        Ok(it) => {
            let mut ok = 0;
            let mut errs = Vec::new();
            for r in it {
                match r {
                    Ok(_) => {
                        assert!(errs.is_empty(), "a record after an error");
                        ok += 1
                    }
                    Err(e) => errs.push(e),
                }
            }
            (ok, errs)
        }
    }
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let prefixes: [&[u8]; 6] = [
        b"",
        b"<",
        b"<nmaprun scanner=\"nmap\"><host>",
        b"{",
        b"[",
        b"{\"addr\": 1}\n",
    ];
    for i in 0..3000 {
        let len = (rng.next() % 300) as usize;
        let mut data = prefixes[i % prefixes.len()].to_vec();
        data.extend((0..len).map(|_| rng.next() as u8));
        let _ = run(&data);
    }
    // mutations of a real sample
    let base = sample("ipv6_all.xml");
    for _ in 0..300 {
        let mut data = base.clone();
        for _ in 0..4 {
            let i = (rng.next() as usize) % data.len();
            data[i] = rng.next() as u8;
        }
        let _ = run(&data);
    }
}

#[test]
fn truncations_are_reported_as_such() {
    for name in [
        "ipv6_all.xml",
        "nmap-ntlm-smb.xml.bz2",
        "test-T22.xml.bz2",
        "masscan-ntlm-smb.xml.bz2",
    ] {
        let mut data = sample(name);
        if data.len() > 40_000 {
            // keep the quadratic cost down: the first hosts and a proper end
            let cut = data[..40_000]
                .windows(7)
                .rposition(|w| w == b"</host>")
                .unwrap()
                + 7;
            data.truncate(cut);
            data.extend_from_slice(b"\n</nmaprun>\n");
        }
        let (full, errs) = run(&data);
        assert!(errs.is_empty(), "{name}: {errs:?}");
        let mut last = 0;
        for cut in (1..data.len()).step_by(97) {
            let (n, errs) = run(&data[..cut]);
            assert!(n <= full && n >= last, "{name} cut at {cut}: {n} records");
            last = n;
            // the only way a cut can be complete is when only trailing whitespace was removed
            if errs.is_empty() {
                assert!(
                    data[cut..].iter().all(u8::is_ascii_whitespace),
                    "{name} cut at {cut}: no error"
                );
                continue;
            }
            assert_eq!(errs.len(), 1, "{name} cut at {cut}: {errs:?}");
            assert_eq!(
                errs[0].kind,
                ParseErrorKind::Truncated,
                "{name} cut at {cut}: {}",
                errs[0]
            );
        }
    }
}

#[test]
fn json_truncations() {
    let data = sample("Nmap-Modbus-IPv4.json.bz2");
    let data = &data[..200_000];
    for cut in (1..data.len()).step_by(9_973) {
        let (_, errs) = run(&data[..cut]);
        if let Some(e) = errs.last() {
            assert_eq!(e.kind, ParseErrorKind::Truncated, "cut at {cut}: {e}");
        }
    }
}
