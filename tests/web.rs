//! `ivre-httpd` through real HTTP: each test starts the server on an
//! ephemeral port over a database holding IVRE's 945 golden scan records
//! and the Zeek passive fixture, and checks IVRE's route shapes and counts
//! (the counts IVRE's own tests give, or plain SQL on the rows), the 400 of
//! a bad `q=`, and that no input gives a 500.

use crate::common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::OnceLock;

/// The golden scan records and the Zeek passive fixture, loaded once.
pub fn db() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::new();
        load_records(&db, &golden_records());
        let log = data("passive/zeek/passive_recon.log");
        let out = tool(
            "ivre-passiverecon2db",
            &db,
            &["-s", "TEST", log.to_str().unwrap()],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        db
    })
}

/// A running `ivre-httpd`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT/cgi`.
    pub base: String,
}

impl Server {
    pub fn start(db: &TestDb, extra: &[&str]) -> Server {
        let mut child = tool_command("ivre-httpd", Some(db))
            .args(["--port", "0", "--statement-timeout", "20"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ivre-httpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("ivre-httpd: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, base }
    }

    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Resp {
        self.request("GET", path, query, &[])
    }

    /// POST of a body.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut req = ureq::post(&format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        Resp::from(match req.send_bytes(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("POST {path}: {e}"),
        })
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = ureq::request(method, &format!("{}{path}", self.base));
        for (k, v) in query {
            req = req.query(k, v);
        }
        for (k, v) in headers {
            req = req.set(k, v);
        }
        Resp::from(match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl From<ureq::Response> for Resp {
    fn from(r: ureq::Response) -> Resp {
        let headers = r
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = r.header(&n).unwrap_or_default().to_string();
                (n, v)
            })
            .collect();
        let status = r.status();
        let content_type = r.header("content-type").unwrap_or_default().to_string();
        let mut body = String::new();
        r.into_reader().read_to_string(&mut body).unwrap();
        Resp {
            status,
            content_type,
            headers,
            body,
        }
    }
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn ok(self) -> Resp {
        assert_eq!(self.status, 200, "{}", self.body);
        self
    }
}

fn server() -> Server {
    Server::start(db(), &[])
}

fn count(s: &Server, purpose: &str, q: &str) -> i64 {
    let r = s.get(&format!("/{purpose}/count"), &[("q", q)]).ok();
    assert!(r.body.ends_with('\n'));
    r.body.trim().parse().unwrap()
}

#[test]
fn scan_counts_are_ivres() {
    let s = server();
    let r = s.get("/scans/count", &[]).ok();
    assert_eq!(r.body, "945\n");
    assert_eq!(r.content_type, "application/json");
    assert_eq!(count(&s, "scans", "service:http"), 445);
    assert_eq!(count(&s, "scans", "80"), 299);
    assert_eq!(count(&s, "scans", "tcp/80"), 299);
    assert_eq!(count(&s, "scans", "!80"), 945 - 299);
    assert_eq!(count(&s, "scans", "-80"), 945 - 299);
    assert_eq!(count(&s, "scans", "service:ssh"), 200);
    assert_eq!(count(&s, "scans", "countports:20-20"), 1);
    assert_eq!(count(&s, "scans", "countports:10-100"), 118);
    assert_eq!(count(&s, "scans", "anonftp"), 20);
    assert_eq!(count(&s, "scans", "xp445"), 7);
    assert_eq!(count(&s, "scans", "domain:com"), 64);
    assert_eq!(count(&s, "scans", "!domain:com"), 881);
    assert_eq!(count(&s, "scans", "\"script:http-robots.txt\""), 52);
    assert_eq!(count(&s, "scans", "netdev"), 119);
    assert_eq!(count(&s, "scans", "category:TEST source:SOURCE"), 945);
    // Clauses are ANDed; meta tokens do not change a count.
    let both = db().scalar(
        "SELECT count(*) FROM scan_host h WHERE EXISTS (SELECT 1 FROM scan_port p \
         WHERE p.host_id = h.id AND p.port = 80 AND p.protocol = 'tcp' AND p.state = 'open') \
         AND EXISTS (SELECT 1 FROM scan_port p WHERE p.host_id = h.id \
         AND p.service_name = 'http')",
    );
    assert_eq!(count(&s, "scans", "80 service:http limit:1 skip:3"), both);
}

#[test]
fn unknown_keyword_is_a_400_naming_it() {
    let s = server();
    // IVRE ignores port:80 and counts everything.
    let r = s.get("/scans/count", &[("q", "service:http port:80")]);
    assert_eq!(r.status, 400);
    let e = r.json();
    assert_eq!(e["token"], "port:80");
    assert!(e["error"].as_str().unwrap().contains("unknown keyword"));
    let r = s.get("/scans", &[("q", "!limit:3")]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["token"], "!limit:3");
    // A passive keyword on scans, a scan keyword on passive.
    assert_eq!(s.get("/scans/count", &[("q", "sensor:X")]).status, 400);
    assert_eq!(s.get("/passive/count", &[("q", "anonftp")]).status, 400);
}

#[test]
fn no_input_gives_a_500() {
    let s = server();
    let hostile = [
        "\"unbalanced",
        "hostname:/(/",
        "hostname:/a{99999}/",
        "hostname:/x/zz",
        "script:\u{0}",
        "hostname:a\u{0}b",
        "limit:99999999999999999999999",
        "skip:-5",
        "skip:x",
        "sortby:'; DROP TABLE scan_host; --",
        "sortby:ports.999.x",
        "countports:9-x",
        "range:1.2.3.4-x",
        "net:10.0.0.0/99",
        "host:999.1.1.1",
        "timerange:x-y",
        "timeago:99999999999999999999y",
        "id:1-2-99999999999999999999",
        "product:a",
        "hop:x:y",
        "cert.sha256:zz",
        "cert.subject",
        "ntlm.:x",
        "smb.os",
        "!",
        "-",
        ":",
        "::",
        "a:b:c:d",
        "\u{202e}80",
        "80,",
        "99999",
        "sctp/80",
        "udp/-1",
    ];
    for q in hostile {
        for path in [
            "/scans/count",
            "/scans",
            "/passive/count",
            "/scans/onlyips",
            "/view/count",
            "/view/coordinates",
            "/dns",
        ] {
            let r = s.get(path, &[("q", q)]);
            assert!(r.status < 500, "{path}?q={q:?}: {} {}", r.status, r.body);
            if r.status != 200 {
                assert!(r.json()["error"].is_string(), "{q:?}: {}", r.body);
            }
        }
    }
    for path in [
        "/scans/top/nosuchfield",
        "/scans/top/",
        "/scans/top/:5",
        "/scans/top/port:open:99999999999999999999",
        "/scans/distinct/",
        "/scans/distinct/a..b",
        "/passive/top/infos.",
        "/passive/distinct/nosuchfield",
        "/passivedns/",
        "/passivedns/10.0.0.0%2F99",
        "/passivedns/%2F(%2F",
        "/ipdata/x",
        "/scans/timeline?modulo=0",
        "/nosuchroute",
        "/passivedns/a?cursor=x",
        "/passivedns/a?limit=0",
        "/view/top/nosuchfield",
        "/view/timeline?modulo=-1",
        "/view/count?q=country:%2F(%2F",
        "/view/count?q=asnum:99999999999999999999999",
        "/view/count?q=city:",
        "/flows?action=details&q=%7B%7D",
        "/flows?action=details&q=%7B%22type%22:%22edge%22,%22id%22:%5B%5D%7D",
        "/flows?action=details&q=%7B%22type%22:%22node%22,%22id%22:%22::%22%7D",
        "/flows?action=daily&precision=99999999999",
        "/flows?action=daily&q=%7B%22after%22:%22x%22%7D",
        "/audit/",
        "/audit/%00",
        "/audit/count?since=99999999999999999999y",
        "/dns?format=x",
    ] {
        let r = s.get(path, &[]);
        assert!(r.status < 500, "{path}: {} {}", r.status, r.body);
    }
}

#[test]
fn listing_shapes_and_paging() {
    let s = server();
    let r = s.get("/scans", &[]).ok();
    assert_eq!(r.content_type, "application/json");
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"IVRE-results.json\"")
    );
    let v = r.json();
    let recs = v.as_array().unwrap();
    assert_eq!(recs.len(), 10, "WEB_LIMIT is 10");
    assert!(recs[0]["starttime"].is_i64(), "{}", recs[0]);
    assert!(recs[0]["addr"].is_string());
    // All of them as NDJSON, sorted, projected.
    let r = s
        .get(
            "/scans",
            &[
                ("q", "limit:0 sortby:addr fields:addr,starttime"),
                ("format", "ndjson"),
            ],
        )
        .ok();
    assert_eq!(r.content_type, "application/x-ndjson");
    let lines: Vec<Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 945);
    for l in &lines {
        let keys: Vec<&String> = l.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["addr", "starttime"]);
    }
    // skip and limit, descending order.
    let r = s
        .get(
            "/scans",
            &[
                ("q", "80 skip:290 limit:0 -sortby:addr"),
                ("format", "ndjson"),
            ],
        )
        .ok();
    assert_eq!(r.body.lines().count(), 9);
    let r = s
        .get(
            "/scans",
            &[
                ("q", "limit:5"),
                ("ipsasnumbers", "1"),
                ("datesasstrings", "1"),
            ],
        )
        .ok();
    let v = r.json();
    assert!(v[0]["addr"].is_u64());
    assert!(v[0]["starttime"].is_string());
    // txt: the array's lines without brackets.
    let r = s
        .get("/scans", &[("q", "limit:2"), ("format", "bogus")])
        .ok();
    assert!(r.content_type.starts_with("text/plain"));
    assert_eq!(r.body.lines().count(), 2);
    assert!(r.body.starts_with('{'));
    let r = s.get("/scans", &[("q", "host:192.0.2.254")]).ok();
    assert_eq!(r.json(), serde_json::json!([]));
}

#[test]
fn top_and_distinct() {
    let s = server();
    let v = s.get("/scans/top/service", &[]).ok().json();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 15);
    // IVRE's test: tcpwrapped is the most common service.
    assert_eq!(items[0]["label"], "tcpwrapped");
    let mut client = db().client();
    let expected = ivre_pg::scan::query::topvalues(
        &mut client,
        &ivre_model::filter::Filter::<ivre_model::filter::scan::ScanLeaf>::True,
        "service",
        15,
        false,
    )
    .unwrap();
    for (item, t) in items.iter().zip(&expected) {
        assert_eq!(item["label"], t.value);
        assert_eq!(item["value"], t.count);
    }
    let v = s
        .get("/scans/top/port:open:5", &[("q", "service:http")])
        .ok()
        .json();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items[0]["label"].is_array(), "{v}");
    let least = s.get("/scans/top/-service:3", &[]).ok().json();
    assert_eq!(least.as_array().unwrap().len(), 3);
    assert!(least[0]["value"].as_i64() <= least[2]["value"].as_i64());
    // `~` and `!` mean the same, as on the command line.
    for prefix in ["~", "!"] {
        let same = s
            .get(&format!("/scans/top/{prefix}service:3"), &[])
            .ok()
            .json();
        assert_eq!(same, least, "{prefix}");
    }
    // Distinct: default limit 10, limit:0 for all.
    let v = s.get("/scans/distinct/categories", &[]).ok().json();
    assert_eq!(v, serde_json::json!(["TEST"]));
    let all = s
        .get("/scans/distinct/ports.service_name", &[("q", "limit:0")])
        .ok()
        .json();
    let n = all.as_array().unwrap().len();
    assert!(n > 10, "{n}");
    let page = s
        .get(
            "/scans/distinct/ports.service_name",
            &[("q", "skip:2 limit:3")],
        )
        .ok()
        .json();
    assert_eq!(page.as_array().unwrap()[..], all.as_array().unwrap()[2..5]);
}

#[test]
fn scan_actions() {
    let s = server();
    let ips = s.get("/scans/onlyips", &[]).ok().json();
    assert_eq!(
        ips.as_array().unwrap().len(),
        945,
        "actions ignore WEB_LIMIT"
    );
    let ips = s
        .get("/scans/onlyips", &[("q", "80"), ("ipsasnumbers", "1")])
        .ok()
        .json();
    assert_eq!(ips.as_array().unwrap().len(), 299);
    assert!(ips[0].is_u64());
    let v = s.get("/scans/ipsports", &[("q", "80")]).ok().json();
    for host in v.as_array().unwrap() {
        assert!(host[0].is_string());
        let ports = host[1].as_array().unwrap();
        assert!(ports.iter().any(|p| p[0] == 80 && p[1] == "open"), "{host}");
    }
    let v = s
        .get("/scans/countopenports", &[("q", "countports:20-20")])
        .ok()
        .json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0][1], 20);
    let v = s
        .get("/scans/timeline", &[("q", "80"), ("modulo", "86400")])
        .ok()
        .json();
    assert_eq!(v.as_array().unwrap().len(), 299);
    for t in v.as_array().unwrap() {
        assert!((0..86400).contains(&t[0].as_i64().unwrap()));
        assert!(t[1].is_string() && t[2].is_i64());
    }
    let r = s
        .get("/scans/onlyips", &[("format", "ndjson"), ("q", "80")])
        .ok();
    assert_eq!(r.body.lines().count(), 299);
    let v = s.get("/scans/coordinates", &[]).ok().json();
    assert_eq!(v["type"], "GeometryCollection");
    let geoms = v["geometries"].as_array().unwrap();
    let located = db().scalar("SELECT count(*) FROM scan_host WHERE doc->'infos' ? 'loc'");
    let total: i64 = geoms
        .iter()
        .map(|g| {
            assert_eq!(g["type"], "Point");
            assert_eq!(g["coordinates"].as_array().unwrap().len(), 2);
            g["properties"]["count"].as_i64().unwrap()
        })
        .sum();
    assert_eq!(total, located);
}

#[test]
fn passive_routes() {
    let s = server();
    let total = db().scalar("SELECT count(*) FROM passive");
    let dns = db().scalar("SELECT count(*) FROM passive WHERE recontype = 'DNS_ANSWER'");
    assert!(dns > 0);
    assert_eq!(count(&s, "passive", ""), total);
    assert_eq!(count(&s, "passive", "recontype:DNS_ANSWER"), dns);
    assert_eq!(count(&s, "passive", "!recontype:DNS_ANSWER"), total - dns);
    assert_eq!(count(&s, "passive", "sensor:TEST"), total);
    let v = s
        .get("/passive", &[("q", "recontype:DNS_ANSWER limit:3")])
        .ok()
        .json();
    let recs = v.as_array().unwrap();
    assert_eq!(recs.len(), 3);
    for r in recs {
        assert_eq!(r["recontype"], "DNS_ANSWER");
        assert!(r["firstseen"].is_i64() && r["lastseen"].is_i64(), "{r}");
        assert!(r["count"].is_u64());
    }
    let v = s.get("/passive/top/recontype", &[]).ok().json();
    let top = v.as_array().unwrap();
    let most: i64 = db()
        .client()
        .query_one(
            "SELECT count(*) FROM passive GROUP BY recontype ORDER BY 1 DESC LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(top[0]["value"], most);
    let v = s
        .get("/passive/distinct/recontype", &[("q", "limit:0")])
        .ok()
        .json();
    let n = db().scalar("SELECT count(DISTINCT recontype) FROM passive");
    assert_eq!(v.as_array().unwrap().len() as i64, n);
}

#[test]
fn passivedns_cof_lines_are_valid_and_paged() {
    let s = server();
    let (name, n): (String, i64) = {
        let row = db()
            .client()
            .query_one(
                "SELECT value, count(*) FROM passive WHERE recontype = 'DNS_ANSWER' \
                 GROUP BY value ORDER BY 2 DESC, 1 LIMIT 1",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    let r = s.get(&format!("/passivedns/{name}"), &[]).ok();
    assert_eq!(r.content_type, "application/x-ndjson");
    let lines: Vec<Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as i64, n);
    for l in &lines {
        assert_eq!(l["rrname"], name.as_str());
        for k in ["rrtype", "rdata"] {
            assert!(l[k].as_str().is_some_and(|s| !s.is_empty()), "{l}");
        }
        assert!(l["time_first"].is_i64() && l["time_last"].is_i64(), "{l}");
        assert!(l["time_first"].as_i64() <= l["time_last"].as_i64());
        assert!(l["count"].as_i64().unwrap() >= 1);
    }
    assert!(r.header("x-ivre-next-cursor").is_none());
    // Every answer of the fixture, one line per page.
    let all = db().scalar("SELECT count(*) FROM passive WHERE recontype = 'DNS_ANSWER'");
    if all > 1 {
        let r = s.get("/passivedns/%2F.%2F", &[("limit", "1")]).ok();
        assert_eq!(r.body.lines().count(), 1);
        let next = r.header("x-ivre-next-cursor").expect("a next page");
        assert_eq!(next, "1");
        let r2 = s
            .get("/passivedns/%2F.%2F", &[("limit", "1"), ("cursor", next)])
            .ok();
        assert_ne!(r.body, r2.body);
    }
}

#[test]
fn config_ipdata_and_purposes_to_come() {
    // A directory like geoipupdate's, holding the GeoLite2 test databases.
    let geoip = tempfile::tempdir().unwrap();
    for kind in ["ASN", "Country", "City"] {
        std::fs::copy(
            data(&format!("geoip/GeoLite2-{kind}-Test.mmdb")),
            geoip.path().join(format!("GeoLite2-{kind}.mmdb")),
        )
        .unwrap();
    }
    let s = Server::start(db(), &["--geoip-dir", geoip.path().to_str().unwrap()]);
    let r = s.get("/config", &[]).ok();
    assert_eq!(r.content_type, "application/javascript");
    assert!(r.body.contains("config.dflt_limit = 10;"));
    assert!(r
        .body
        .lines()
        .all(|l| l.starts_with("config.") && l.ends_with(';')));
    let r = s.get("/ipdata/81.2.69.142", &[]).ok();
    let v = r.json();
    assert_eq!(v["country_code"], "GB", "{v}");
    assert!(v.get("addr").is_none());
    assert_eq!(s.get("/ipdata/not-an-ip", &[]).status, 400);
    for path in ["/rir", "/rir/count", "/rir/top/country"] {
        let r = s.get(path, &[]);
        assert_eq!(r.status, 501, "{path}");
        assert!(r.json()["error"]
            .as_str()
            .unwrap()
            .contains("not available"));
    }
    assert_eq!(s.get("/nosuch", &[]).status, 404);
    let r = s.get("/scans/count", &[]);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn a_client_that_goes_away_cancels_its_query() {
    use std::io::Write;
    let db = TestDb::new();
    load_records(&db, &golden_records()[..20]);
    let s = Server::start(&db, &[]);
    // Hold a lock that the listing's query waits for.
    let mut locker = db.client();
    let mut tx = locker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE scan_host IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let waiting = || {
        db.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND state = 'active' AND query LIKE 'SELECT ivre_host_doc(h.doc%'",
        )
    };
    let addr = s
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/cgi")
        .to_string();
    let mut sock = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        sock,
        "GET /cgi/scans?q=limit:0 HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while waiting() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the query never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(sock);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while waiting() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the query still runs after its client went away"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    tx.rollback().unwrap();
    // The server goes on answering.
    assert_eq!(s.get("/scans/count", &[]).ok().body, "20\n");
}

#[test]
fn structured_filter_f() {
    let s = server();
    let f = |f: &str, q: &str| s.get("/scans/count", &[("f", f), ("q", q)]);
    let either =
        r#"{"f":"or","a":[{"f":"port","a":[80]},{"f":"port","a":[443],"k":{"protocol":"tcp"}}]}"#;
    assert_eq!(f(either, "").ok().body, "383\n");
    // ANDed with q=.
    assert_eq!(f(r#"{"f":"port","a":[443]}"#, "80").ok().body, "108\n");
    assert_eq!(f("{}", "").ok().body, "945\n");
    let neg = r#"{"f":"service","a":["http"],"k":{"neg":true}}"#;
    assert_eq!(f(neg, "").ok().body, format!("{}\n", 945 - 445));
    let re = r#"{"f":"hostname","a":[{"f":"regexp","a":["/\\.com$/"]}]}"#;
    assert_eq!(
        f(re, "").ok().body,
        s.get("/scans/count", &[("q", "hostname:/\\.com$/")])
            .ok()
            .body
    );
    for bad in [
        r#"{"f":"searchtext","a":["x"]}"#,
        r#"{"f":"host","a":["1.2.3.4"],"k":{"limit":1}}"#,
        r#"{"f":"port","a":[{"f":"bytes","a":["AA=="]}]}"#,
        "[]",
        "{",
        r#"{"f":"port","a":[99999]}"#,
    ] {
        let r = f(bad, "");
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let mut s = Server::start(db(), &[]);
    // A pooled connection exists when the signal comes.
    s.get("/scans/count", &[]).ok();
    let pid = s.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let exit = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn view_routes_answer_what_ivre_view_answers() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    let out = tool("ivre-db2view", &db, &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let addresses = db.scalar("SELECT count(DISTINCT addr) FROM scan_host");
    assert_eq!(
        db.scalar("SELECT count(*) FROM view_host"),
        addresses,
        "{}",
        stderr(&out)
    );
    let s = Server::start(&db, &[]);
    assert_eq!(count(&s, "view", ""), addresses);
    for (q, flags) in [
        ("80", &["--port", "80"][..]),
        ("service:http", &["--service", "http"][..]),
        ("domain:com", &["--domain", "com"][..]),
    ] {
        let mut args = vec!["--count"];
        args.extend_from_slice(flags);
        let cli = tool("ivre-view", &db, &args, None);
        assert!(cli.status.success(), "{}", stderr(&cli));
        let expected: i64 = String::from_utf8_lossy(&cli.stdout).trim().parse().unwrap();
        assert_eq!(count(&s, "view", q), expected, "q={q}");
    }
    let r = s.get("/view/top/service:5", &[]).ok();
    assert_eq!(r.json().as_array().unwrap().len(), 5);
    let r = s
        .get("/view", &[("q", "80 limit:3"), ("format", "ndjson")])
        .ok();
    let lines: Vec<Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", r.body);
    assert!(lines.iter().all(|h| h["addr"].is_string()), "{}", r.body);
    // The enrichment keywords apply, as ivre-view's flags.
    let cli = tool("ivre-view", &db, &["--count", "--country", "FR"], None);
    let expected: i64 = String::from_utf8_lossy(&cli.stdout).trim().parse().unwrap();
    assert_eq!(count(&s, "view", "country:FR"), expected);
}

#[test]
fn flows_answer_ivres_netflow_oracle() {
    use crate::flow::{flow_data, flow_tool, nmapdir};
    let db = TestDb::new();
    let nmap = nmapdir();
    let csv = std::fs::read(flow_data("nfcapd.csv")).unwrap();
    let out = flow_tool("ivre-flow2db", &db, nmap.path(), &[], Some(&csv));
    assert!(out.status.success(), "{}", stderr(&out));
    let s = Server::start(&db, &[]);
    let r = s.get("/flows", &[("q", r#"{"count": true}"#)]).ok();
    assert_eq!(
        r.json(),
        serde_json::json!({"clients": 22, "servers": 55, "flows": 65})
    );
    let r = s
        .get(
            "/flows",
            &[("q", r#"{"edges": ["proto = udp"], "limit": 5}"#)],
        )
        .ok();
    let graph = r.json();
    let edges = graph["edges"].as_array().unwrap();
    assert!(!edges.is_empty() && edges.len() <= 5, "{graph}");
    assert!(edges.iter().all(|e| e["data"]["proto"] == "udp"), "{graph}");
    assert!(graph["nodes"].as_array().unwrap().len() >= 2, "{graph}");
    for bad in ["not json", r#"{"edges": ["nosuchfield = 1"]}"#] {
        assert_eq!(s.get("/flows", &[("q", bad)]).status, 400, "{bad}");
    }
    // action=details: an edge of the graph, then its source host.
    let details = |q: &Value| s.get("/flows", &[("action", "details"), ("q", &q.to_string())]);
    let edge = &edges[0];
    let r = details(&serde_json::json!({"type": "edge", "id": edge["id"]})).ok();
    let d = r.json();
    assert_eq!(d["elt"]["proto"], "udp", "{d}");
    assert_eq!(d["elt"]["addr_src"], edge["data"]["addr_src"], "{d}");
    let src = edge["source"].as_str().unwrap();
    let d = details(&serde_json::json!({"type": "node", "id": src}))
        .ok()
        .json();
    assert_eq!(d["elt"]["addr"], src, "{d}");
    let servers = d["servers"].as_array().unwrap();
    assert!(servers.contains(&edge["target"]), "{d}");
    assert!(!d["out_flows"].as_array().unwrap().is_empty(), "{d}");
    for (q, status) in [
        (serde_json::json!({"type": "edge", "id": 999999999}), 404),
        (
            serde_json::json!({"type": "node", "id": "192.0.2.250"}),
            404,
        ),
        (serde_json::json!({"type": "node", "id": "x"}), 400),
        (serde_json::json!({"type": "thing", "id": 1}), 400),
        (serde_json::json!({"id": 1}), 400),
    ] {
        assert_eq!(details(&q).status, status, "{q}");
    }
    assert_eq!(s.get("/flows", &[("action", "nosuch")]).status, 400);
    // action=daily: per time of day, the slots of each flow name.
    let daily = s
        .get(
            "/flows",
            &[("action", "daily"), ("q", r#"{"edges": ["proto = udp"]}"#)],
        )
        .ok()
        .json();
    let days = daily.as_array().unwrap();
    assert!(!days.is_empty(), "{daily}");
    for d in days {
        assert_eq!(d["time_in_day"].as_str().unwrap().len(), 8, "{d}");
        for f in d["flows"].as_array().unwrap() {
            assert!(f[0].as_str().unwrap().starts_with("udp"), "{d}");
            assert!(f[1].as_i64().unwrap() > 0, "{d}");
        }
    }
    assert_eq!(
        s.get("/flows", &[("action", "daily"), ("precision", "0")])
            .status,
        400
    );
}

#[test]
fn dns_merges_scan_names_and_passive_answers() {
    let s = server();
    let all = s.get("/dns", &[("q", "limit:0")]).ok();
    assert_eq!(
        all.header("content-disposition"),
        Some("attachment; filename=\"IVRE-dns.json\"")
    );
    let all = all.json();
    let all = all.as_array().unwrap();
    let pairs = db().scalar(
        "SELECT count(*) FROM (SELECT n.name, host(h.addr) FROM scan_hostname n \
         JOIN scan_host h ON h.id = n.host_id \
         UNION SELECT value, host(addr) FROM passive \
         WHERE recontype = 'DNS_ANSWER' AND addr IS NOT NULL) AS p",
    );
    assert!(pairs > 0);
    assert_eq!(all.len() as i64, pairs);
    // Newest first, then most seen.
    for w in all.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(
            a["lastseen"].as_i64() > b["lastseen"].as_i64()
                || (a["lastseen"] == b["lastseen"] && a["count"].as_u64() >= b["count"].as_u64()),
            "{a} {b}"
        );
    }
    for p in all {
        assert!(p["name"].is_string() && p["addr"].is_string(), "{p}");
        assert!(p["count"].as_u64().unwrap() >= 1, "{p}");
        assert!(p["firstseen"].as_i64() <= p["lastseen"].as_i64(), "{p}");
        assert!(p["types"].is_array() && p["sources"].is_array(), "{p}");
    }
    // Both purposes are there: passive answers (types A/AAAA..., sensor
    // TEST) and scan names (PTR/user, source SOURCE).
    assert!(all.iter().any(|p| p["sources"]
        .as_array()
        .unwrap()
        .contains(&Value::from("TEST"))));
    assert!(all.iter().any(|p| p["sources"]
        .as_array()
        .unwrap()
        .contains(&Value::from("SOURCE"))));
    // Default page: WEB_LIMIT; skip/limit after the merge.
    let page = s.get("/dns", &[]).ok().json();
    assert_eq!(page.as_array().unwrap()[..], all[..10]);
    let page = s.get("/dns", &[("q", "skip:3 limit:2")]).ok().json();
    assert_eq!(page.as_array().unwrap()[..], all[3..5]);
    // A passive-only keyword leaves the scan names out.
    let r = s
        .get(
            "/dns",
            &[("q", "sensor:TEST limit:0"), ("format", "ndjson")],
        )
        .ok();
    assert!(r.body.lines().count() > 0);
    for line in r.body.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["sources"], serde_json::json!(["TEST"]), "{v}");
    }
    let v = s
        .get("/dns", &[("q", "limit:1"), ("datesasstrings", "1")])
        .ok()
        .json();
    assert_eq!(v[0]["lastseen"].as_str().unwrap().len(), 19, "{v}");
    assert_eq!(s.get("/dns", &[("q", "nosuch:1")]).status, 400);
}
