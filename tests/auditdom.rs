//! ivre-auditdom against real name servers on loopback addresses: Debian's
//! `named` (bind9) on 127.0.0.1 serves the zones (one allowing zone
//! transfers, one refusing them), and small servers written here answer on
//! 127.0.0.2 to 127.0.0.5 (a server that disagrees with bind, and hostile
//! ones: malformed, cut-short and endless answers). The results are then
//! imported with ivre-scan2db (XML and JSON) and read back with
//! `ivre-scancli --json`.
//!
//! Skipped, with a one-line message, where `named` is not installed.

use crate::common::*;
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, MX, NS, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn named_binary() -> Option<PathBuf> {
    ["/usr/sbin/named", "/usr/bin/named", "/sbin/named"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// What the small servers on 127.0.0.2-5 do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Behaviour {
    /// Answers, but not what bind answers; refuses zone transfers.
    Disagrees,
    /// Sends bytes that are no DNS message (with the right id).
    Malformed,
    /// Sets the truncation bit over UDP, then closes TCP mid-message.
    CutShort,
    /// An endless zone transfer.
    Endless,
}

const FAKES: [(u8, Behaviour); 4] = [
    (2, Behaviour::Disagrees),
    (3, Behaviour::Malformed),
    (4, Behaviour::CutShort),
    (5, Behaviour::Endless),
];

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn soa() -> RData {
    RData::SOA(SOA::new(
        name("ns.bad.test."),
        name("h.bad.test."),
        1,
        7200,
        3600,
        1209600,
        3600,
    ))
}

/// The answer of a well-formed server with `behaviour` to `query`.
fn answer(query: &Message, behaviour: Behaviour) -> Message {
    let mut m = Message::new();
    m.set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_authoritative(true);
    let Some(q) = query.queries().first() else {
        return m;
    };
    m.add_query(q.clone());
    let owner = q.name().clone();
    let rec = |data: RData| Record::from_rdata(owner.clone(), 300, data);
    if behaviour == Behaviour::Disagrees {
        match q.query_type() {
            RecordType::NS => {
                m.add_answer(rec(RData::NS(NS(name("ns9.open.test.")))));
            }
            RecordType::MX => {
                m.add_answer(rec(RData::MX(MX::new(5, name("other.open.test.")))));
            }
            RecordType::TXT => {
                for t in [
                    "v=TLSRPTv1; rua=mailto:a@open.test",
                    "v=TLSRPTv1; rua=mailto:b@open.test",
                ] {
                    m.add_answer(rec(RData::TXT(TXT::new(vec![t.to_string()]))));
                }
            }
            RecordType::AXFR => {
                m.set_response_code(ResponseCode::Refused);
            }
            _ => {}
        }
    }
    m
}

fn serve_udp(sock: UdpSocket, behaviour: Behaviour, stop: Arc<AtomicBool>) {
    let mut buf = [0u8; 4096];
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let Ok(q) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        let reply = match behaviour {
            Behaviour::Malformed => {
                let mut b = q.id().to_be_bytes().to_vec();
                b.extend_from_slice(&[0x84, 0, 0, 1, 0, 9, 0, 0, 0, 0, 0xff, 0xfe]);
                b
            }
            Behaviour::CutShort => {
                let mut m = answer(&q, behaviour);
                m.set_truncated(true);
                m.to_vec().unwrap()
            }
            _ => answer(&q, behaviour).to_vec().unwrap(),
        };
        let _ = sock.send_to(&reply, from);
    }
}

fn send(s: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    s.write_all(&(bytes.len() as u16).to_be_bytes())?;
    s.write_all(bytes)
}

fn serve_tcp_client(mut s: TcpStream, behaviour: Behaviour) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf)?;
    let q = Message::from_vec(&buf).map_err(std::io::Error::other)?;
    match behaviour {
        Behaviour::Disagrees => send(&mut s, &answer(&q, behaviour).to_vec().unwrap()),
        Behaviour::Malformed => {
            let mut b = q.id().to_be_bytes().to_vec();
            b.extend_from_slice(&[0x84, 0, 0, 1, 0, 200, 0, 0, 0, 0, 7, b'j', b'u', b'n']);
            send(&mut s, &b)
        }
        Behaviour::CutShort => {
            let full = answer(&q, behaviour).to_vec().unwrap();
            s.write_all(&300u16.to_be_bytes())?;
            s.write_all(&full)
        }
        Behaviour::Endless => {
            let owner = q.queries()[0].name().clone();
            let mut first = answer(&q, behaviour);
            first.add_answer(Record::from_rdata(owner.clone(), 300, soa()));
            send(&mut s, &first.to_vec().unwrap())?;
            for i in 0u32.. {
                let mut m = answer(&q, behaviour);
                for j in 0..100u32 {
                    let n = (i * 100 + j).to_be_bytes();
                    let host = owner.prepend_label(format!("h{i}-{j}")).unwrap();
                    let a = A(Ipv4Addr::new(10, n[1], n[2], n[3]));
                    m.add_answer(Record::from_rdata(host, 300, RData::A(a)));
                }
                send(&mut s, &m.to_vec().unwrap())?;
            }
            Ok(())
        }
    }
}

fn serve_tcp(l: TcpListener, behaviour: Behaviour, stop: Arc<AtomicBool>) {
    l.set_nonblocking(true).unwrap();
    while !stop.load(Ordering::Relaxed) {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                std::thread::spawn(move || {
                    let _ = serve_tcp_client(s, behaviour);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// bind9 on 127.0.0.1:PORT and the small servers on 127.0.0.2-5:PORT.
struct Servers {
    port: u16,
    named: Child,
    stop: Arc<AtomicBool>,
    _dir: tempfile::TempDir,
}

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = self.named.kill();
        let _ = self.named.wait();
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A zone whose name server has an IPv4 and an IPv6 address.
const V6_ZONE: &str = "$TTL 3600
@ IN SOA ns1.v6.test. h.v6.test. 1 7200 3600 1209600 3600
@ IN NS ns1.v6.test.
ns1 IN A 127.0.0.1
ns1 IN AAAA ::1
";

/// Whether ::1 can be used here.
fn ipv6_loopback() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

/// A zone whose only name server is the small server on 127.0.0.`last`.
fn bad_zone(domain: &str, last: u8) -> String {
    format!(
        "$TTL 3600\n@ IN SOA ns.{domain}. h.{domain}. 1 7200 3600 1209600 3600\n\
         @ IN NS ns.{domain}.\nns IN A 127.0.0.{last}\n"
    )
}

/// A port free on 127.0.0.1-5, TCP and UDP.
fn free_port() -> (u16, Vec<(UdpSocket, TcpListener)>) {
    'again: loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut held = Vec::new();
        for (last, _) in FAKES {
            let addr = SocketAddr::from((Ipv4Addr::new(127, 0, 0, last), port));
            match (UdpSocket::bind(addr), TcpListener::bind(addr)) {
                (Ok(u), Ok(t)) => held.push((u, t)),
                _ => continue 'again,
            }
        }
        if UdpSocket::bind(("127.0.0.1", port)).is_err()
            || ipv6_loopback()
                && (UdpSocket::bind(("::1", port)).is_err()
                    || TcpListener::bind(("::1", port)).is_err())
        {
            continue;
        }
        return (port, held);
    }
}

fn start() -> Option<Servers> {
    let Some(named) = named_binary() else {
        eprintln!("skipped: named (Debian package bind9) is not installed");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (port, sockets) = free_port();
    let mut conf = format!(
        "options {{\n  directory \"{dir}\";\n  pid-file \"{dir}/named.pid\";\n  \
         listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {v6};\n  \
         recursion no;\n  allow-transfer {{ none; }};\n  notify no;\n}};\n\
         zone \"open.test\" {{ type primary; file \"{dir}/open.zone\"; allow-transfer {{ any; }}; }};\n\
         zone \"closed.test\" {{ type primary; file \"{dir}/closed.zone\"; }};\n",
        dir = d.display(),
        v6 = if ipv6_loopback() {
            format!("port {port} {{ ::1; }}")
        } else {
            "{ none; }".to_string()
        }
    );
    std::fs::write(d.join("v6.zone"), V6_ZONE).unwrap();
    conf.push_str(&format!(
        "zone \"v6.test\" {{ type primary; file \"{}/v6.zone\"; allow-transfer {{ any; }}; }};\n",
        d.display()
    ));
    for zone in ["open", "closed"] {
        std::fs::copy(
            data(&format!("auditdom/{zone}.test.zone")),
            d.join(format!("{zone}.zone")),
        )
        .unwrap();
    }
    for (last, _) in &FAKES[1..] {
        let domain = format!("bad{last}.test");
        std::fs::write(d.join(format!("{domain}.zone")), bad_zone(&domain, *last)).unwrap();
        conf.push_str(&format!(
            "zone \"{domain}\" {{ type primary; file \"{}/{domain}.zone\"; }};\n",
            d.display()
        ));
    }
    std::fs::write(d.join("named.conf"), conf).unwrap();
    let log = std::fs::File::create(d.join("named.log")).unwrap();
    let mut cmd = Command::new(named);
    cmd.arg("-g").arg("-c").arg(d.join("named.conf"));
    let named = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start named");
    let stop = Arc::new(AtomicBool::new(false));
    for ((_, behaviour), (udp, tcp)) in FAKES.iter().zip(sockets) {
        let (b, s1, s2) = (*behaviour, stop.clone(), stop.clone());
        std::thread::spawn(move || serve_udp(udp, b, s1));
        std::thread::spawn(move || serve_tcp(tcp, b, s2));
    }
    let log = d.join("named.log");
    let servers = Servers {
        port,
        named,
        stop,
        _dir: dir,
    };
    wait_running(&log);
    Some(servers)
}

fn wait_running(log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().any(|l| l.ends_with(" running")) {
            return;
        }
        assert!(Instant::now() < deadline, "named did not start:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn auditdom(s: &Servers, extra: &[&str], domains: &[&str]) -> std::process::Output {
    let ns = format!("127.0.0.1:{}", s.port);
    let port = s.port.to_string();
    let mut args = vec!["--nameserver", &ns, "--ns-port", &port, "--timeout", "2"];
    args.extend_from_slice(extra);
    args.extend_from_slice(domains);
    run_tool("ivre-auditdom", &args, None, |_| {})
}

/// `v` with its object keys in order (a canonical text).
fn canon(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canon(&o[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
        v => v.clone(),
    }
}

/// `(addr, script)` for every script of the records.
fn scripts(records: &[Value]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for r in records {
        for p in r["ports"].as_array().into_iter().flatten() {
            for s in p["scripts"].as_array().into_iter().flatten() {
                let mut s = canon(s);
                s["_port"] = format!("{}/{}", p["protocol"].as_str().unwrap(), p["port"]).into();
                out.push((r["addr"].as_str().unwrap().to_string(), s));
            }
        }
    }
    out.sort_by_key(|(a, s)| (a.clone(), s.to_string()));
    out
}

fn find<'a>(all: &'a [(String, Value)], addr: &str, id: &str, domain: &str) -> Vec<&'a Value> {
    all.iter()
        .filter(|(a, s)| a == addr && s["id"] == id && s[id][0]["domain"].as_str() == Some(domain))
        .map(|(_, s)| s)
        .collect()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn audits_bind_zones_and_imports_both_formats() {
    let Some(servers) = start() else {
        return;
    };
    let port = servers.port;
    let out = auditdom(&servers, &["-j", "-v"], &["open.test", "closed.test"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "closed.test: zone transfer from ns1.closed.test (127.0.0.1:{port}): refused"
        )),
        "{err}"
    );
    let records = json_lines(&stdout(&out));
    let all = scripts(&records);

    // the zone transfer bind allows, and only that one
    let axfr = find(&all, "127.0.0.1", "dns-zone-transfer", "open.test");
    assert_eq!(axfr.len(), 1, "{all:?}");
    assert_eq!(axfr[0]["_port"], format!("tcp/{port}"));
    let recs = axfr[0]["dns-zone-transfer"][0]["records"]
        .as_array()
        .unwrap();
    assert_eq!(recs.len(), 15, "{recs:?}");
    assert_eq!(recs[0]["type"], "SOA");
    assert_eq!(recs[14]["type"], "SOA");
    assert!(recs.iter().any(|r| r["name"] == "www.open.test."
        && r["type"] == "AAAA"
        && r["data"] == "2001:db8::80"
        && r["ttl"] == "3600"
        && r["class"] == "IN"));
    assert!(recs
        .iter()
        .any(|r| r["type"] == "SRV" && r["data"] == "10 5 5060 sip.open.test."));
    assert!(axfr[0]["output"]
        .as_str()
        .unwrap()
        .starts_with("\nDomain: open.test\n| open.test."));
    assert_eq!(
        all.iter()
            .filter(|(_, s)| s["id"] == "dns-zone-transfer")
            .count(),
        1
    );
    // the zone's addresses became records
    for (addr, name, kind) in [
        ("192.0.2.80", "www.open.test", "A"),
        ("2001:db8::80", "www.open.test", "AAAA"),
        ("192.0.2.25", "mail.open.test", "A"),
    ] {
        assert!(
            records.iter().any(|r| r["addr"] == addr
                && r["hostnames"][0]["name"] == name
                && r["hostnames"][0]["type"] == kind),
            "{addr}"
        );
    }
    // nothing leaked from the refused zone
    assert!(!records.iter().any(|r| r["hostnames"][0]["type"] == "A"
        && r["hostnames"][0]["name"]
            .as_str()
            .unwrap()
            .ends_with("closed.test")));

    // 127.0.0.2 disagrees with bind on NS, MX and TLS-RPT
    let incons = find(&all, "127.0.0.2", "dns-check-consistency", "open.test");
    let by_type = |t: &str| {
        incons
            .iter()
            .find(|s| s["dns-check-consistency"][0]["rtype"] == t)
            .unwrap_or_else(|| panic!("{t}: {incons:?}"))["dns-check-consistency"][0]
            .clone()
    };
    let ns = by_type("NS");
    assert_eq!(ns["value"], serde_json::json!(["ns9.open.test."]));
    assert_eq!(
        ns["reference_value"],
        serde_json::json!(["ns1.open.test.", "ns2.open.test."])
    );
    assert_eq!(
        by_type("MX")["value"],
        serde_json::json!(["5 other.open.test."])
    );
    assert_eq!(by_type("TXT")["name"], "_smtp._tls.open.test");
    assert!(find(&all, "127.0.0.1", "dns-check-consistency", "open.test").is_empty());
    // authoritative servers
    for (addr, domain) in [
        ("127.0.0.1", "open.test"),
        ("127.0.0.2", "open.test"),
        ("127.0.0.1", "closed.test"),
    ] {
        let d = find(&all, addr, "dns-domains", domain);
        assert_eq!(d.len(), 1, "{addr} {domain}");
        assert_eq!(d[0]["_port"], format!("udp/{port}"));
        assert_eq!(
            d[0]["output"],
            format!("Server is authoritative for {domain}")
        );
    }
    // mail exchangers: bind's, and the one 127.0.0.2 made up has no address
    let mx = find(&all, "192.0.2.25", "dns-domains-mx", "open.test");
    assert_eq!(mx.len(), 1);
    assert_eq!(mx[0]["_port"], "tcp/25");
    assert_eq!(mx[0]["dns-domains-mx"][0]["priority"], "10");
    assert_eq!(
        mx[0]["dns-domains-mx"][0]["parents"],
        serde_json::json!(["open.test", "test"])
    );
    assert_eq!(
        find(&all, "192.0.2.26", "dns-domains-mx", "closed.test").len(),
        1
    );
    // TLS-RPT as each server gives it
    let rpt = |addr: &str, domain: &str| {
        let v = find(&all, addr, "dns-tls-rpt", domain);
        assert_eq!(v.len(), 1, "{addr} {domain}");
        v[0].clone()
    };
    assert_eq!(
        rpt("127.0.0.1", "open.test")["output"],
        "Domain open.test has a valid TLS-RPT configuration"
    );
    assert_eq!(
        rpt("127.0.0.2", "open.test")["dns-tls-rpt"][0]["warnings"],
        serde_json::json!(["Domain has more than one TLS-RPT configuration"])
    );
    assert_eq!(
        rpt("127.0.0.1", "closed.test")["dns-tls-rpt"][0]["warnings"],
        serde_json::json!(["TLS-RPT contains an invalid HTTPS URL: 'https://bad'"])
    );

    // IVRE 0.9.20 audited the same zones: same zone transfer and dns-domains
    let ivre = json_lines(&std::fs::read_to_string(data("auditdom/ivre-0.9.20.json")).unwrap());
    let ivre = scripts(&ivre);
    for (id, domain) in [
        ("dns-zone-transfer", "open.test"),
        ("dns-domains", "open.test"),
        ("dns-domains", "closed.test"),
    ] {
        let theirs = find(&ivre, "127.0.0.1", id, domain);
        let ours = find(&all, "127.0.0.1", id, domain);
        assert_eq!(theirs.len(), 1, "{id} {domain}");
        let strip = |v: &Value| {
            let mut v = v.clone();
            v.as_object_mut().unwrap().remove("_port");
            v
        };
        assert_eq!(strip(ours[0]), strip(theirs[0]), "{id} {domain}");
    }

    // the same audit as XML, then both imported and read back
    let xml_out = auditdom(&servers, &[], &["open.test", "closed.test"]);
    assert!(xml_out.status.success(), "{}", stderr(&xml_out));
    let xml = stdout(&xml_out);
    assert!(xml.contains("<nmaprun scanner=\"ivre auditdom\""), "{xml}");
    let dir = tempfile::tempdir().unwrap();
    let (xml_file, json_file) = (dir.path().join("a.xml"), dir.path().join("a.json"));
    std::fs::write(&xml_file, &xml).unwrap();
    std::fs::write(&json_file, &out.stdout).unwrap();
    let db = TestDb::new();
    for (source, file) in [("X", &xml_file), ("J", &json_file)] {
        let o = tool(
            "ivre-scan2db",
            &db,
            &["-s", source, file.to_str().unwrap()],
            None,
        );
        assert!(o.status.success(), "{source}: {}", stderr(&o));
    }
    let back = tool("ivre-scancli", &db, &["--json"], None);
    assert!(back.status.success(), "{}", stderr(&back));
    let back = json_lines(&stdout(&back));
    assert_eq!(back.len(), 2 * records.len());
    let of = |source: &str| -> Vec<(String, Value)> {
        let recs: Vec<Value> = back
            .iter()
            .filter(|r| r["source"] == source)
            .cloned()
            .collect();
        scripts(&recs)
    };
    // the JSON import stores every script as the tool wrote it, and the
    // XML import stores the same
    assert_eq!(of("J"), all);
    assert_eq!(of("X"), all);
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_host WHERE source = 'X'"),
        records.len() as i64
    );
}

/// IVRE's own output (tests/data/auditdom) imports, XML and JSON alike, with
/// every script as IVRE wrote it. No DNS server needed.
#[test]
fn ivre_outputs_import_with_their_scripts() {
    let db = TestDb::new();
    for (source, file) in [
        ("X", "auditdom/ivre-0.9.20.xml"),
        ("J", "auditdom/ivre-0.9.20.json"),
    ] {
        let o = tool(
            "ivre-scan2db",
            &db,
            &["-s", source, data(file).to_str().unwrap()],
            None,
        );
        assert!(o.status.success(), "{file}: {}", stderr(&o));
    }
    let back = tool("ivre-scancli", &db, &["--json"], None);
    assert!(back.status.success(), "{}", stderr(&back));
    let back = json_lines(&stdout(&back));
    let of = |source: &str| -> Vec<(String, Value)> {
        let recs: Vec<Value> = back
            .iter()
            .filter(|r| r["source"] == source)
            .cloned()
            .collect();
        scripts(&recs)
    };
    let json = json_lines(&std::fs::read_to_string(data("auditdom/ivre-0.9.20.json")).unwrap());
    let expected = scripts(&json);
    assert_eq!(expected.len(), 9, "{expected:?}");
    assert_eq!(of("J"), expected);
    // the XML holds the same scripts but for the consistency tie IVRE broke
    // the other way in that run
    let same = |v: &[(String, Value)]| -> Vec<(String, Value)> {
        v.iter()
            .filter(|(_, s)| s["id"] != "dns-check-consistency")
            .cloned()
            .collect()
    };
    assert_eq!(same(&of("X")), same(&expected));
    assert_eq!(of("X").len(), expected.len());
}

/// -4 and -6 choose which addresses of the name servers are asked.
#[test]
fn ipv4_and_ipv6_choose_the_server_addresses() {
    if !ipv6_loopback() {
        eprintln!("skipped: no IPv6 loopback (::1)");
        return;
    }
    let Some(servers) = start() else {
        return;
    };
    let transfers = |flags: &[&str]| -> Vec<String> {
        let mut args = vec!["-j"];
        args.extend_from_slice(flags);
        let out = auditdom(&servers, &args, &["v6.test"]);
        assert!(out.status.success(), "{flags:?}: {}", stderr(&out));
        let mut addrs: Vec<String> = scripts(&json_lines(&stdout(&out)))
            .into_iter()
            .filter(|(_, s)| s["id"] == "dns-zone-transfer")
            .map(|(a, _)| a)
            .collect();
        addrs.sort();
        addrs
    };
    assert_eq!(transfers(&[]), ["127.0.0.1", "::1"]);
    assert_eq!(transfers(&["-4"]), ["127.0.0.1"]);
    assert_eq!(transfers(&["--ipv6"]), ["::1"]);
}

#[test]
fn hostile_servers_give_errors_naming_domain_and_server() {
    let Some(servers) = start() else {
        return;
    };
    let port = servers.port;
    let out = auditdom(
        &servers,
        &["-j", "--max-records", "1000"],
        &["bad3.test", "bad4.test", "bad5.test", "nothing.test"],
    );
    let err = stderr(&out);
    // nothing.test has no name server: the audit goes on, and says so
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: nothing.test: NS from the resolver"),
        "{err}"
    );
    for (domain, last, what) in [
        ("bad3.test", 3, "malformed answer"),
        ("bad4.test", 4, "answer cut short"),
        ("bad5.test", 5, "zone transfer of more than 1000 records"),
    ] {
        let line =
            format!("{domain}: zone transfer from ns.{domain} (127.0.0.{last}:{port}): {what}");
        assert!(err.contains(&line), "{line}\n{err}");
    }
    // the queries to the malformed and cut-short servers fail the same way
    assert!(
        err.contains(&format!(
            "bad3.test: bad3.test NS from ns.bad3.test (127.0.0.3:{port}): malformed answer"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "bad4.test: bad4.test NS from ns.bad4.test (127.0.0.4:{port}): answer cut short"
        )),
        "{err}"
    );
    // what could be checked is still written, and imports
    let records = json_lines(&stdout(&out));
    let all = scripts(&records);
    assert!(!all.iter().any(|(_, s)| s["id"] == "dns-zone-transfer"));
    for (last, domain) in [(3, "bad3.test"), (4, "bad4.test"), (5, "bad5.test")] {
        let addr = format!("127.0.0.{last}");
        assert_eq!(
            find(&all, &addr, "dns-domains", domain).len(),
            1,
            "{domain}"
        );
        let rpt = find(&all, &addr, "dns-tls-rpt", domain);
        assert_eq!(
            rpt[0]["dns-tls-rpt"][0]["warnings"],
            serde_json::json!(["Domain has no TLS-RPT configuration"])
        );
    }
    let db = TestDb::new();
    let o = tool("ivre-scan2db", &db, &["-s", "H", "-"], Some(&out.stdout));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        db.scalar("SELECT count(*) FROM scan_host"),
        records.len() as i64
    );

    // bad options are usage errors
    let o = auditdom(&servers, &[], &["a..b"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("a..b"), "{}", stderr(&o));
    let o = run_tool(
        "ivre-auditdom",
        &["--nameserver", "nope", "x.test"],
        None,
        |_| {},
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
