//! Zeek passive_recon logs (TSV and JSON lines), normalised and with their
//! infos computed, as `ivre-passiverecon2db` does.
#![no_main]

use ivre_model::passive::normalize::{prepare, NormalizeConfig};
use ivre_model::passive::{infos, ZeekReader};
use ivre_model::reader::RecordReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = NormalizeConfig::default();
    for rec in ZeekReader::new(data).records().flatten() {
        for mut rec in prepare(rec, &config, None) {
            rec.infos = infos::compute(&rec);
        }
    }
});
