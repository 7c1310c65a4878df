//! The value syntax of IVRE's filter flags (`/regex/flags`, lists, ports,
//! addresses, networks, durations, dates, `SVC:PROD:PORT`, `SCRIPT:OUTPUT`,
//! CPEs, HTTP headers, files), as the query tools parse user input.
#![no_main]

use ivre_model::filter::{addr, scan::args, time, value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = value::str2regexp(s);
    let _ = value::str2regexpnone(s);
    let _ = value::str2list(s);
    let _ = value::optional_regexp(s);
    let _ = value::regex_escape(s);
    let _ = addr::address(s);
    let _ = addr::parse_port(s);
    let _ = time::parse_duration(s);
    let _ = time::parse_time(s);
    let _ = args::address_arg(s);
    let _ = args::service_arg(s);
    let _ = args::product_arg(s);
    let _ = args::version_arg(s);
    let _ = args::cpe_arg(s);
    let _ = args::script_arg(s);
    let _ = args::httphdr_arg(Some(s));
    let _ = args::file_arg(s);
});
