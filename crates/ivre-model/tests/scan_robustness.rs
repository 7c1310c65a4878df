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

/// The deepest element nesting the XML reader accepts (its `MAX_DEPTH`).
const MAX_XML_DEPTH: usize = 100;

/// An Nmap document whose first port script holds `tables` nested tables
/// (the script element is at depth 5, its first table at depth 6).
fn nested_tables(tables: usize) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\">\n<host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/>\
         <ports><port protocol=\"tcp\" portid=\"80\"><state state=\"open\"/><script id=\"x\" output=\"y\">{}<elem>1</elem>{}</script>\
         </port></ports></host>\n</nmaprun>\n",
        "<table>".repeat(tables),
        "</table>".repeat(tables)
    )
}

/// Runs `f` in a thread with a stack of `kib` KiB: recursion proportional to
/// the input's nesting (40,000 levels) would overflow it and abort the test
/// binary.
fn with_stack<T: Send + 'static>(kib: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(kib * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn deep_xml_nesting_is_refused_with_its_place() {
    let doc = nested_tables(40_000);
    // The XML reader does not recurse at all.
    let (hosts, errs) = with_stack(256, move || run(doc.as_bytes()));
    assert_eq!(hosts, 0);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = &errs[0];
    assert_eq!(e.kind, ParseErrorKind::Syntax, "{e}");
    assert!(e.message.contains("nested"), "{e}");
    // The first refused <table> is the one at depth MAX_XML_DEPTH + 1.
    let line = nested_tables(40_000).lines().nth(2).unwrap().to_string();
    let first_table = line.find("<table>").unwrap();
    let refused = first_table + (MAX_XML_DEPTH - 5) * "<table>".len();
    assert_eq!((e.line, e.column), (3, refused as u64 + 1), "{e}");
}

#[test]
fn deepest_accepted_xml_round_trips_through_ivre_json() {
    // Port scripts, and host scripts (stored under a ports entry: two JSON
    // levels deeper than their XML depth), with their innermost <elem> at the
    // deepest accepted nesting.
    let port_tables = MAX_XML_DEPTH - 6;
    let host_tables = MAX_XML_DEPTH - 5;
    let doc = format!(
        "<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/>\
         <ports><port protocol=\"tcp\" portid=\"80\"><script id=\"x\" output=\"y\">{}<elem>1</elem>{}</script></port></ports>\
         <hostscript><script id=\"z\" output=\"w\">{}<elem>2</elem>{}</script></hostscript></host></nmaprun>",
        "<table>".repeat(port_tables),
        "</table>".repeat(port_tables),
        "<table>".repeat(host_tables),
        "</table>".repeat(host_tables),
    );
    let hosts: Vec<_> = read_scan(doc.as_bytes(), &ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hosts.len(), 1);
    let line = serde_json::to_string(&hosts[0]).unwrap() + "\n";
    let again: Vec<_> = read_scan(line.as_bytes(), &ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&again[0]).unwrap(),
        serde_json::to_value(&hosts[0]).unwrap()
    );
    // One level more is refused.
    let (_, errs) = run(nested_tables(port_tables + 1).as_bytes());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].kind, ParseErrorKind::Syntax, "{}", errs[0]);
}

#[test]
fn deep_json_nesting_is_a_clear_error_per_line() {
    let deep = format!("{}1{}", "[".repeat(40_000), "]".repeat(40_000));
    let good = "{\"addr\": \"192.0.2.2\"}";
    // IVRE JSON: the deep line is skipped with an error naming it; the next one is read.
    let ivre = format!(
        "{good}\n{{\"addr\": \"192.0.2.1\", \"ports\": [{{\"port\": 80, \"protocol\": \"tcp\", \
         \"scripts\": [{{\"id\": \"x\", \"output\": \"y\", \"x\": {deep}}}]}}]}}\n{good}\n"
    );
    // serde_json recurses up to its limit of 128 levels: more than 256 KiB
    // of stack in a debug build, far less than 40,000 levels would take.
    let out = with_stack(1024, move || {
        read_scan(ivre.as_bytes(), &ReadOptions::default())
            .unwrap()
            .collect::<Vec<_>>()
    });
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out[0].is_ok() && out[2].is_ok(), "{out:?}");
    let e = out[1].as_ref().unwrap_err();
    assert_eq!((e.kind, e.line), (ParseErrorKind::Syntax, 2), "{e}");
    assert!(e.message.contains("recursion limit"), "{e}");
    // Masscan JSON: a syntax error ends the file, with its place.
    let masscan = format!(
        "[\n{{\"ip\": \"192.0.2.1\", \"timestamp\": \"1\", \"ports\": [{{\"port\": 80, \"proto\": \"tcp\", \
         \"service\": {{\"name\": \"http\", \"banner\": \"x\", \"x\": {deep}}}}}]}}\n]\n"
    );
    let (hosts, errs) = with_stack(1024, move || run(masscan.as_bytes()));
    assert_eq!(hosts, 0);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0].kind, errs[0].line), (ParseErrorKind::Syntax, 2));
    assert!(errs[0].message.contains("recursion limit"), "{}", errs[0]);
}

/// `<name a0="0" a1="1" ...>`, `count` attributes.
fn many_attributes(name: &str, count: usize) -> String {
    let mut tag = format!("<{name}");
    for i in 0..count {
        tag.push_str(&format!(" a{i}=\"{i}\""));
    }
    tag + ">"
}

#[test]
fn many_attributes_take_linear_time() {
    // Before the fix, 50,000 attributes on one element took 17 s in a debug
    // build and 200,000 several minutes (a quadratic duplicate check); now
    // they take well under a second.
    let doc = format!(
        "{}<hosthint>{}</status></hosthint>\n{}<address addr=\"192.0.2.1\" addrtype=\"ipv4\"/>\
         <ports>{}{}</state>{}</service>{}{}{}v</elem></table></script></port></ports>\
         <trace>{}</hop></trace></host>\n</nmaprun>\n",
        many_attributes("nmaprun scanner=\"nmap\"", 20_000),
        many_attributes("status", 20_000),
        many_attributes("host", 200_000),
        many_attributes("port protocol=\"tcp\" portid=\"80\"", 20_000),
        many_attributes("state state=\"open\"", 20_000),
        many_attributes("service name=\"http\"", 20_000),
        many_attributes("script id=\"x\" output=\"y\"", 20_000),
        many_attributes("table key=\"t\"", 20_000),
        many_attributes("elem key=\"k\"", 20_000),
        many_attributes("hop ttl=\"1\" ipaddr=\"192.0.2.254\"", 20_000),
    );
    let started = std::time::Instant::now();
    let hosts: Vec<_> = read_scan(doc.as_bytes(), &ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed < std::time::Duration::from_secs(30),
        "{elapsed:?} for {} bytes",
        doc.len()
    );
    let host = serde_json::to_value(&hosts[0]).unwrap();
    assert_eq!(host["a199999"], "199999");
    assert_eq!(host["ports"][0]["service_name"], "http");
    assert_eq!(host["ports"][0]["scripts"][0]["x"]["t"]["k"], "v");
}

#[test]
fn duplicated_attributes_are_refused() {
    for count in [1, 100_000] {
        let doc = format!(
            "<nmaprun scanner=\"nmap\">\n{} a{}=\"again\"><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/></host></nmaprun>",
            &many_attributes("host", count)[..many_attributes("host", count).len() - 1],
            count / 2,
        );
        let (hosts, errs) = run(doc.as_bytes());
        assert_eq!(hosts, 0);
        assert_eq!(errs.len(), 1, "{errs:?}");
        let e = &errs[0];
        assert_eq!(
            (e.kind, e.line, e.column),
            (ParseErrorKind::Syntax, 2, 1),
            "{e}"
        );
        assert!(
            e.message
                .contains(&format!("duplicated attribute \"a{}\"", count / 2)),
            "{e}"
        );
    }
}
