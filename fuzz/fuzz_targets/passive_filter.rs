//! The values of `ivre-ipinfo`'s filter flags (and the web API's passive
//! filters), through the passive filter builders and their compilation to
//! SQL: each line of the input is one value, the second one the extra
//! part some flags take (DNS type, infos key, JA3 client).
#![no_main]

use ivre_model::filter::passive::{self as p, Ja4Query, PassiveFilter};
use ivre_model::filter::time::{parse_duration, parse_time};
use ivre_model::filter::value::{optional_regexp, str2list, str2regexp};
use ivre_pg::sql::SqlBuilder;
use libfuzzer_sys::fuzz_target;

fn compile(f: Result<PassiveFilter, impl std::fmt::Debug>) {
    if let Ok(f) = f {
        let mut b = SqlBuilder::new();
        let _ = b.filter(&f);
        let _ = b.refs();
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (value, extra) = s.split_once('\n').unwrap_or((s, ""));
    compile(p::address_arg(value));
    compile(p::net(value));
    compile(p::port_arg(value));
    compile(p::service_arg(value));
    compile(p::product_arg(value));
    compile(p::version_arg(value));
    compile(p::cert_hash(value, extra.is_empty()));
    compile(p::ja4client_raw(value));
    compile(str2list(value).map(p::sensor));
    compile(str2list(value).map(|m| p::recontype(Some(m), None)));
    compile(str2list(value).map(p::source));
    compile(str2regexp(value).map(p::hostname));
    compile(str2regexp(value).map(p::domain));
    for (sub, reverse) in [(false, false), (true, false), (false, true), (true, true)] {
        let dnstype = (!extra.is_empty()).then_some(extra);
        compile(str2regexp(value).map(|m| p::dns(Some(m), reverse, dnstype, sub, !sub)));
    }
    compile(optional_regexp(value).map(p::mac));
    compile(optional_regexp(value).map(p::useragent));
    compile(optional_regexp(value).map(p::ja3client));
    compile(optional_regexp(value).and_then(|s| {
        let c = optional_regexp(extra)?;
        Ok(p::ja3server(s, c))
    }));
    compile(optional_regexp(value).map(|m| {
        p::ja4client(Ja4Query {
            value: m.clone(),
            ja4_b: m,
            ..Default::default()
        })
    }));
    compile(optional_regexp(value).map(|m| p::hassh(m, Some(extra.is_empty()))));
    compile(str2regexp(value).map(p::tcpsrvbanner));
    compile(str2regexp(value).map(p::svchostname));
    let keys: Vec<&str> = extra.split('.').collect();
    compile(str2regexp(value).map(|m| p::infos(&keys, m)));
    compile(parse_duration(value).map(|d| p::timeago(d, extra.is_empty())));
    compile(parse_time(value).map(|t| p::newer(t, extra.is_empty())));
});
