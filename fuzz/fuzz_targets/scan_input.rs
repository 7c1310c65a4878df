//! Every scan input format (Nmap and Masscan XML, Masscan JSON, IVRE JSON,
//! Zgrab2, Nuclei, httpx, tlsx and dnsx NDJSON),
//! through format detection, as `ivre-scan2db` reads them: no panic, no
//! hang, every record serialises to JSON.
#![no_main]

use ivre_model::scan::{ReadOptions, ScanReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions::default();
    let Ok(reader) = ScanReader::open(data, &opts) else {
        return;
    };
    for host in reader.flatten() {
        let _ = serde_json::to_vec(&host);
    }
});
