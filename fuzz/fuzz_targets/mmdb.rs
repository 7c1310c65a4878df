//! MaxMind DB files (`ivre-ipdata`, the web API's `ipdata`): arbitrary bytes
//! opened as each database, looked up, verified. Errors, never a panic,
//! an abort or a hang.
#![no_main]

use ivre_data::GeoIpDb;
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fuzz_target!(|data: &[u8]| {
    let bytes = || Some(data.to_vec());
    let Ok(db) = GeoIpDb::from_bytes(bytes(), bytes(), bytes()) else {
        return;
    };
    // Addresses of MaxMind's test databases, the ends of both trees, and
    // one taken from the input (which the fuzzer can steer).
    let mut own = [0u8; 16];
    for (o, b) in own.iter_mut().zip(data.iter().rev()) {
        *o = *b;
    }
    let addrs: [IpAddr; 8] = [
        [81, 2, 69, 142].into(),
        [1, 1, 1, 1].into(),
        [0, 0, 0, 0].into(),
        [255, 255, 255, 255].into(),
        "2001:218::".parse().unwrap(),
        "::ffff:81.2.69.142".parse().unwrap(),
        [u8::MAX; 16].into(),
        own.into(),
    ];
    for addr in addrs {
        let _ = db.lookup(addr);
    }
    let _ = db.verify();
});
