//! p0f v3 logs, as `ivre-p0f2db` reads them.
#![no_main]

use ivre_model::passive::p0f::P0fReader;
use ivre_model::reader::RecordReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for rec in P0fReader::new(data).records().flatten() {
        let _ = rec.identity();
    }
});
