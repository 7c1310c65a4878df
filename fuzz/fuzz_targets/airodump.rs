//! airodump-ng CSV files, as `ivre-airodump2db` reads them.
#![no_main]

use ivre_model::passive::airodump::AirodumpReader;
use ivre_model::reader::RecordReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for rec in AirodumpReader::new(data).records().flatten() {
        let _ = rec.identity();
    }
});
