//! The web UI in a real browser: headless Chromium (Debian's `chromium`,
//! driven over WebDriver by `chromedriver`) against `ivre-httpd` on the
//! sample corpus (IVRE's sample scans, hosts the MaxMind test databases
//! locate, the Zeek passive fixture, NetFlow flows). Each page is checked
//! against the API it shows (the view's count and first hosts are
//! `/cgi/view/count`'s and `/cgi/view?limit=10`'s), and photographed into
//! docs/screenshots/ (with `IVRE_SCREENSHOTS=1`; else a temporary
//! directory). Without chromium and chromedriver the tests say so
//! and pass (CI installs both).

mod webdriver;

use crate::common::*;
use crate::web::Server;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};
use webdriver::Browser;

/// The corpus: samples + located hosts in the view, passive, flows.
fn db() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::new();
        let out = import_samples(&db);
        assert!(out.status.success(), "{}", stderr(&out));
        let geo = tempfile::tempdir().unwrap();
        for kind in ["ASN", "Country", "City"] {
            std::fs::copy(
                data(&format!("geoip/GeoLite2-{kind}-Test.mmdb")),
                geo.path().join(format!("GeoLite2-{kind}.mmdb")),
            )
            .unwrap();
        }
        let hosts = [
            ("81.2.69.142", 80),
            ("2.125.160.217", 22),
            ("89.160.20.115", 443),
            ("216.160.83.58", 25),
            ("175.16.199.5", 8080),
        ];
        let lines: Vec<String> = hosts
            .iter()
            .map(|(addr, port)| {
                json!({"addr": addr, "state": "up", "schema_version": 22,
                       "starttime": "2024-01-02 03:04:05", "endtime": "2024-01-02 03:05:05",
                       "ports": [{"protocol": "tcp", "port": port, "state_state": "open"}]})
                .to_string()
            })
            .collect();
        let scan = geo.path().join("geo.json");
        std::fs::write(&scan, lines.join("\n") + "\n").unwrap();
        let out = tool(
            "ivre-scan2db",
            &db,
            &["-s", "GEO", scan.to_str().unwrap()],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let log = data("passive/zeek/passive_recon.log");
        let out = tool(
            "ivre-passiverecon2db",
            &db,
            &["-s", "TEST", log.to_str().unwrap()],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let out = tool(
            "ivre-db2view",
            &db,
            &["--geoip-dir", geo.path().to_str().unwrap()],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let nmap = crate::flow::nmapdir();
        let csv = std::fs::read(crate::flow::flow_data("nfcapd.csv")).unwrap();
        let out = crate::flow::flow_tool("ivre-flow2db", &db, nmap.path(), &[], Some(&csv));
        assert!(out.status.success(), "{}", stderr(&out));
        db
    })
}

/// One browser at a time: the machine is small and Chromium is not.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a page's screenshot goes: docs/screenshots/ when
/// `IVRE_SCREENSHOTS` is set (to refresh the README's pictures), else a
/// temporary directory, so that a test run leaves the tree as it was.
fn shot(name: &str) -> PathBuf {
    let dir = if std::env::var_os("IVRE_SCREENSHOTS").is_some() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        std::env::temp_dir().join("ivre-screenshots")
    };
    dir.join(format!("{name}.png"))
}

/// The page's root URL (`http://127.0.0.1:PORT/`) from the API base.
fn root(s: &Server) -> String {
    s.base.trim_end_matches("/cgi").to_string() + "/"
}

fn api_count(s: &Server, purpose: &str, q: &str) -> i64 {
    s.get(&format!("/{purpose}/count"), &[("q", q)])
        .ok()
        .body
        .trim()
        .parse()
        .unwrap()
}

/// The addresses of the host cards, in order.
fn card_addrs(b: &Browser) -> Vec<String> {
    let v = b.js(
        "return [...document.querySelectorAll('#hosts .card')].map(c => c.dataset.addr);",
        json!([]),
    );
    serde_json::from_value(v).unwrap()
}

fn shown_count(b: &Browser) -> i64 {
    b.wait(
        "the count",
        "document.querySelector('#total-count') && document.querySelector('#total-count').textContent",
    )
    .as_str()
    .unwrap()
    .parse()
    .unwrap()
}

/// The console's errors, except answers of routes not built yet (501).
fn console_errors(b: &Browser, also_allowed: &[&str]) -> Vec<String> {
    b.logs()
        .into_iter()
        .filter(|(level, msg)| {
            level == "SEVERE"
                && !msg.contains("status of 501")
                && !also_allowed.iter().any(|a| msg.contains(a))
        })
        .map(|(_, m)| m)
        .collect()
}

/// Waits until the page shows `n` host cards after a navigation.
fn wait_cards(b: &Browser) {
    b.wait(
        "host cards",
        "document.querySelectorAll('#hosts .card').length > 0 && !document.querySelector('#hosts .loading')",
    );
}

#[test]
fn view_page_lists_the_apis_hosts_and_count_and_a_facet_narrows_them() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let s = Server::start(db(), &[]);
    b.goto(&root(&s));
    wait_cards(&b);
    assert_eq!(shown_count(&b), api_count(&s, "view", ""));
    let first: Vec<String> = s
        .get("/view", &[("q", "limit:10"), ("format", "ndjson")])
        .ok()
        .body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["addr"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(first.len(), 10);
    assert_eq!(card_addrs(&b), first);
    // Facets are there before the photograph.
    b.wait(
        "the open-ports facet",
        "document.querySelector('[data-field=\"port:open\"] .facet-row[data-token]')",
    );
    b.screenshot(&shot("view"));
    // A click on the first open-ports facet row adds its filter.
    let token = b
        .js(
            "return document.querySelector('[data-field=\"port:open\"] .facet-row[data-token]').dataset.token;",
            json!([]),
        )
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        token.starts_with("tcp/") || token.starts_with("udp/"),
        "{token}"
    );
    b.click("[data-field=\"port:open\"] .facet-row[data-token]");
    let expected = api_count(&s, "view", &token);
    assert!(expected < api_count(&s, "view", ""));
    b.wait(
        "the narrowed count",
        &format!("document.querySelector('#total-count') && document.querySelector('#total-count').textContent === '{expected}'"),
    );
    wait_cards(&b);
    let narrowed: Vec<String> = s
        .get(
            "/view",
            &[("q", &format!("{token} limit:10")), ("format", "ndjson")],
        )
        .ok()
        .body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["addr"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(card_addrs(&b), narrowed);
    assert!(
        b.url()
            .contains(&format!("q={}", token.replace('/', "%2F"))),
        "{}",
        b.url()
    );
    // Paging: the next page starts at host 11.
    b.click("button[aria-label='next page']");
    b.wait(
        "page 2",
        "document.querySelector('.showing').textContent.includes('Showing 11 to')",
    );
    assert!(b.url().contains("skip=10"), "{}", b.url());
    let errors = console_errors(&b, &[]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_filter_bar_round_trips_through_the_url() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let s = Server::start(db(), &[]);
    b.goto(&format!("{}#/view?q=service%3Ahttp%20tcp%2F80", root(&s)));
    wait_cards(&b);
    let chips = || -> Vec<String> {
        serde_json::from_value(b.js(
            "return [...document.querySelectorAll('.chips .chip')].map(c => c.dataset.token);",
            json!([]),
        ))
        .unwrap()
    };
    assert_eq!(chips(), ["service:http", "tcp/80"]);
    assert_eq!(
        shown_count(&b),
        api_count(&s, "view", "service:http tcp/80")
    );
    // Keyword completion, then a token typed with the keyboard.
    b.type_in("#filter-input", "coun");
    let sugg = b.wait(
        "completions",
        "[...document.querySelectorAll('.suggest li')].map(l => l.textContent).join(' ')",
    );
    assert!(sugg.as_str().unwrap().contains("country:"), "{sugg}");
    b.js(
        "const i = document.querySelector('#filter-input'); i.value = ''; i.dispatchEvent(new Event('input', {bubbles: true}));",
        json!([]),
    );
    b.type_in("#filter-input", "tag:TOR\u{E007}");
    b.wait("the URL", "location.hash.includes('tag%3ATOR')");
    let expected = api_count(&s, "view", "service:http tcp/80 tag:TOR");
    b.wait(
        "the new count",
        &format!("(document.querySelector('#total-count') || {{}}).textContent === '{expected}' || (document.querySelector('.showing') || {{}}).textContent === 'No result'"),
    );
    // The URL alone rebuilds the same state.
    let url = b.url();
    b.goto("about:blank");
    b.goto(&url);
    b.wait(
        "chips from the URL",
        "document.querySelectorAll('.chips .chip').length === 3",
    );
    assert_eq!(chips(), ["service:http", "tcp/80", "tag:TOR"]);
    // Removing a chip removes it from the URL.
    b.click(".chip[data-token='tcp/80'] .x");
    b.wait(
        "the URL without tcp/80",
        "!location.hash.includes('tcp%2F80')",
    );
    assert_eq!(chips(), ["service:http", "tag:TOR"]);
    b.screenshot(&shot("filters"));
    let errors = console_errors(&b, &[]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_host_panel_shows_a_ports_script_output() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let s = Server::start(db(), &[]);
    // A host with a script output, from the API.
    let r = s
        .get("/view", &[("q", "tcp/443 limit:200"), ("format", "ndjson")])
        .ok();
    let (addr, output) = r
        .body
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find_map(|h| {
            let addr = h["addr"].as_str()?.to_string();
            h["ports"].as_array()?.iter().find_map(|p| {
                p["scripts"].as_array()?.iter().find_map(|sc| {
                    let o = sc["output"].as_str()?.trim();
                    let line = o.lines().find(|l| l.trim().len() > 4)?.trim().to_string();
                    Some((addr.clone(), line))
                })
            })
        })
        .expect("a host with a script output");
    b.goto(&format!("{}#/view?host={addr}", root(&s)));
    wait_cards(&b);
    b.wait(
        "the host panel",
        "document.querySelector('#hostpanel .script-output')",
    );
    let text = b
        .js(
            "return [...document.querySelectorAll('#hostpanel .script-output')].map(p => p.textContent).join('\\n');",
            json!([]),
        )
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains(&output), "{output:?} not in {text:?}");
    b.screenshot(&shot("host"));
    // Escape closes it and the URL forgets the host.
    b.js("document.body.focus();", json!([]));
    b.js(
        "window.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}));",
        json!([]),
    );
    b.wait("the panel closed", "!document.querySelector('#hostpanel')");
    assert!(!b.url().contains("host="), "{}", b.url());
    let errors = console_errors(&b, &[]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_map_and_the_chart_render_and_a_bar_adds_a_filter() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let s = Server::start(db(), &[]);
    b.goto(&root(&s));
    wait_cards(&b);
    let countries = b.wait(
        "the map's countries",
        "document.querySelectorAll('#worldmap path.country').length",
    );
    assert!(countries.as_u64().unwrap() > 100, "{countries}");
    // Points: one per location of /view/coordinates (once the route is there).
    let coords = s.get("/view/coordinates", &[]);
    if coords.status == 200 {
        let n = coords.json()["geometries"].as_array().unwrap().len();
        assert!(n > 0);
        b.wait(
            "the map's points",
            &format!("document.querySelectorAll('#worldmap circle.point').length === {n}"),
        );
    }
    let top = s.get("/view/top/port:open:15", &[]).ok().json();
    let bars = b.wait(
        "the chart's bars",
        "document.querySelectorAll('svg.topchart g.bar').length",
    );
    assert_eq!(
        bars.as_u64().unwrap() as usize,
        top.as_array().unwrap().len()
    );
    b.js(
        "document.querySelector('svg.topchart').scrollIntoView();",
        json!([]),
    );
    b.screenshot(&shot("charts"));
    let token = b
        .js(
            "const g = document.querySelector('svg.topchart g.clickable'); g.dispatchEvent(new MouseEvent('click', {bubbles: true})); return g.dataset.token;",
            json!([]),
        )
        .as_str()
        .unwrap()
        .to_string();
    b.wait(
        "the bar's filter",
        &format!("[...document.querySelectorAll('.chips .chip')].some(c => c.dataset.token === '{token}')"),
    );
    let errors = console_errors(&b, &[]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_active_passive_and_dns_pages() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let s = Server::start(db(), &[]);
    b.goto(&format!("{}#/active", root(&s)));
    wait_cards(&b);
    assert_eq!(shown_count(&b), api_count(&s, "scans", ""));
    b.wait(
        "the scan timeline",
        "document.querySelectorAll('.timeline circle.dot').length",
    );
    b.screenshot(&shot("active"));
    b.goto(&format!("{}#/passive", root(&s)));
    b.wait(
        "passive records",
        "document.querySelectorAll('#records .card').length === 10",
    );
    assert_eq!(shown_count(&b), api_count(&s, "passive", ""));
    b.click("[data-field=\"recontype\"] .facet-row[data-token]");
    b.wait(
        "the recontype filter",
        "location.hash.includes('recontype')",
    );
    b.wait(
        "passive records",
        "document.querySelectorAll('#records .card').length > 0",
    );
    b.screenshot(&shot("passive"));
    // Passive DNS by name: the names of the DNS answers.
    let rec = s
        .get(
            "/passive",
            &[("q", "recontype:DNS_ANSWER limit:1"), ("format", "ndjson")],
        )
        .ok()
        .json();
    let name = rec["value"].as_str().unwrap().to_string();
    let cof = s.get(&format!("/passivedns/{name}"), &[]).ok();
    let n = cof.body.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(n > 0);
    b.goto(&format!("{}#/dns", root(&s)));
    b.type_in("#dns-input", &format!("{name}\u{E007}"));
    b.wait(
        "DNS records",
        &format!("document.querySelectorAll('#dns-records .card').length === {n}"),
    );
    b.screenshot(&shot("dns"));
    let errors = console_errors(&b, &[]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_flow_page_draws_the_graph() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let s = Server::start(db(), &[]);
    let graph = s.get("/flows", &[("q", r#"{"limit": 1000}"#)]).ok().json();
    let nodes = graph["nodes"].as_array().unwrap().len();
    let edges = graph["edges"].as_array().unwrap().len();
    assert!(nodes > 2);
    b.goto(&format!("{}#/flow", root(&s)));
    b.wait(
        "the graph's nodes",
        &format!("document.querySelectorAll('#flowgraph circle.node').length === {nodes}"),
    );
    b.wait(
        "the graph's edges",
        &format!("document.querySelectorAll('#flowgraph line.edge').length === {edges}"),
    );
    b.wait(
        "the counts",
        "document.querySelector('#flow-counts').textContent.includes('65 flows')",
    );
    // A node's details.
    b.js(
        "document.querySelector('#flowgraph circle.node').dispatchEvent(new MouseEvent('click', {bubbles: true}));",
        json!([]),
    );
    b.wait(
        "the node's details",
        "document.querySelector('[aria-label=\"flow details\"]')",
    );
    b.screenshot(&shot("flow"));
    // An edge filter narrows the graph.
    b.type_in("#flow-edges", "proto = udp");
    b.click(".flowform button[type=submit]");
    b.wait(
        "the filter in the URL",
        "decodeURIComponent(location.hash).includes('proto = udp')",
    );
    let udp = s
        .get(
            "/flows",
            &[("q", r#"{"edges": ["proto = udp"], "limit": 1000}"#)],
        )
        .ok()
        .json();
    let n = udp["edges"].as_array().unwrap().len();
    assert!(n < edges);
    b.wait(
        "the udp edges",
        &format!("document.querySelectorAll('#flowgraph line.edge').length === {n}"),
    );
    let errors = console_errors(&b, &[]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn a_wrong_key_is_refused_and_a_good_one_signs_in() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let name = format!("browser-{}", std::process::id());
    let out = tool(
        "ivre-httpd",
        db(),
        &["keys", "add", &name, "--perm", "read"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out).trim().to_string();
    let s = Server::start(db(), &["--auth", "--key-cache", "0"]);
    b.goto(&root(&s));
    b.wait("the sign-in dialog", "document.querySelector('#signin')");
    b.type_in(
        "#apikey",
        "ivre_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u{E007}",
    );
    b.wait("the refusal", "document.querySelector('#signin-error')");
    assert!(card_addrs(&b).is_empty());
    b.screenshot(&shot("signin"));
    b.js("document.querySelector('#apikey').value = '';", json!([]));
    b.type_in("#apikey", &format!("{key}\u{E007}"));
    b.wait("the dialog closed", "!document.querySelector('#signin')");
    wait_cards(&b);
    assert_eq!(card_addrs(&b).len(), 10);
    let errors = console_errors(&b, &["status of 401"]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn dark_mode_toggles_and_is_remembered() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let s = Server::start(db(), &[]);
    b.goto(&root(&s));
    wait_cards(&b);
    b.click("#theme-toggle");
    let theme = b.wait("the theme", "document.documentElement.dataset.theme");
    let bg = |b: &Browser| {
        b.js(
            "return getComputedStyle(document.body).backgroundColor;",
            json!([]),
        )
    };
    let first = bg(&b);
    b.click("#theme-toggle");
    b.wait(
        "the other theme",
        &format!("document.documentElement.dataset.theme !== {theme}"),
    );
    assert_ne!(bg(&b), first);
    b.click("#theme-toggle");
    b.goto(&root(&s));
    wait_cards(&b);
    assert_eq!(
        b.wait("the theme", "document.documentElement.dataset.theme"),
        theme
    );
    if theme == "dark" {
        b.screenshot(&shot("view-dark"));
    }
    let errors = console_errors(&b, &[]);
    assert!(errors.is_empty(), "{errors:?}");
}

/// The embedded bundle fetches nothing from elsewhere (air-gapped), and is
/// served with its types and validators.
#[test]
fn the_bundle_is_self_contained_and_cached() {
    let s = Server::start(db(), &[]);
    let root = root(&s);
    for (path, ctype) in [
        ("", "text/html"),
        ("app.js", "text/javascript"),
        ("app.css", "text/css"),
    ] {
        let r = ureq::get(&format!("{root}{path}")).call().unwrap();
        assert!(
            r.content_type().starts_with(ctype),
            "{path}: {}",
            r.content_type()
        );
        let etag = r.header("etag").unwrap().to_string();
        assert_eq!(r.header("cache-control"), Some("no-cache"));
        let body = r.into_string().unwrap();
        // The only URLs are XML namespace names (never fetched).
        let mut rest = body.as_str();
        while let Some(i) = rest.find("://") {
            let after = &rest[i + 3..];
            assert!(
                after.starts_with("www.w3.org/"),
                "{path}: external URL near {:?}",
                &rest[i.saturating_sub(20)..(i + 60).min(rest.len())]
            );
            rest = after;
        }
        assert!(!body.contains("//cdn") && !body.contains("fonts.googleapis"));
        let again = match ureq::get(&format!("{root}{path}"))
            .set("If-None-Match", &etag)
            .call()
        {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(c, _)) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(again, 304, "{path}");
    }
}

#[test]
fn the_view_page_works_with_the_keyboard_alone() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let s = Server::start(db(), &[]);
    b.goto(&root(&s));
    wait_cards(&b);
    let active =
        "document.activeElement && (document.activeElement.id || document.activeElement.className)";
    // "/" focuses the filter bar; Enter adds the typed token.
    b.keys("/");
    assert_eq!(b.wait("the focus", active), "filter-input");
    b.keys("tcp/22\u{E007}");
    b.wait("the URL", "location.hash.includes('tcp%2F22')");
    let expected = api_count(&s, "view", "tcp/22");
    b.wait(
        "the count",
        &format!("(document.querySelector('#total-count') || {{}}).textContent === '{expected}'"),
    );
    wait_cards(&b);
    // Tab reaches the first host's address; Enter opens its panel.
    let first = card_addrs(&b)[0].clone();
    let mut reached = false;
    for _ in 0..80 {
        b.keys("\u{E004}");
        let on = b.js(
            "return document.activeElement.classList.contains('addr') ? document.activeElement.textContent : '';",
            json!([]),
        );
        if on == first.as_str() {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never reached {first}");
    b.keys("\u{E007}");
    b.wait("the host panel", "document.querySelector('#hostpanel h2')");
    assert!(b.url().contains(&format!("host={first}")), "{}", b.url());
    // Escape closes it.
    b.js("document.activeElement.blur();", json!([]));
    b.keys("\u{E00C}");
    b.wait("the panel closed", "!document.querySelector('#hostpanel')");
    let errors = console_errors(&b, &[]);
    assert!(errors.is_empty(), "{errors:?}");
}

/// A key made with `ivre-httpd keys add NAME --owner OWNER --perm PERM`.
fn cli_key(name: &str, owner: &str, perm: &str) -> String {
    let out = tool(
        "ivre-httpd",
        db(),
        &["keys", "add", name, "--owner", owner, "--perm", perm],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Status of `/cgi/scans/count` with this key.
fn status_with(s: &Server, key: &str) -> u16 {
    s.request(
        "GET",
        "/scans/count",
        &[],
        &[("Authorization", &format!("Bearer {key}"))],
    )
    .status
}

/// Signs in through the dialog.
fn sign_in(b: &Browser, s: &Server, key: &str) {
    b.goto(&root(s));
    b.wait("the sign-in dialog", "document.querySelector('#signin')");
    b.type_in("#apikey", &format!("{key}\u{E007}"));
    b.wait("the dialog closed", "!document.querySelector('#signin')");
}

#[test]
fn the_api_keys_page_creates_and_revokes_a_key_with_the_keyboard() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let pid = std::process::id();
    let owner = format!("erin-{pid}@example.com");
    let key = cli_key(&format!("erin-{pid}"), &owner, "read");
    let s = Server::start(db(), &["--auth", "--key-cache", "600"]);
    sign_in(&b, &s, &key);
    b.wait(
        "the API keys link",
        "document.querySelector('#nav-api-keys')",
    );
    assert_eq!(
        b.js("return !!document.querySelector('#nav-admin');", json!([])),
        false
    );
    b.click("#nav-api-keys");
    b.wait("the key list", "document.querySelector('#keys-table')");
    // Type a name, Enter: the new key, shown once, works.
    let new_name = format!("erin-laptop-{pid}");
    b.js("document.querySelector('#key-name').focus();", json!([]));
    b.keys(&format!("{new_name}\u{E007}"));
    let secret = b
        .wait(
            "the new key",
            "document.querySelector('#new-key input') && document.querySelector('#new-key input').value",
        )
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        secret.starts_with("ivre_") && secret.len() == 48,
        "{secret}"
    );
    assert_eq!(status_with(&s, &secret), 200);
    let row = format!("#keys-table tr[data-name=\"{new_name}\"]");
    b.wait("its row", &format!("document.querySelector('{row}')"));
    // The owner's keys only, and never a secret in the table.
    let shown: Vec<String> = serde_json::from_value(b.js(
        "return [...document.querySelectorAll('#keys-table tbody tr')].map(r => r.dataset.name);",
        json!([]),
    ))
    .unwrap();
    assert_eq!(shown, vec![format!("erin-{pid}"), new_name.clone()]);
    let table = b.js(
        "return document.querySelector('#keys-table').innerText;",
        json!([]),
    );
    assert!(!table.as_str().unwrap().contains(&secret[12..]));
    b.screenshot(&shot("api-keys"));
    // Revoke: focus its button, Enter, then Enter on the confirmation
    // (which takes the focus).
    b.js(
        &format!("document.querySelector('{row} button.revoke').focus();"),
        json!([]),
    );
    b.keys("\u{E007}");
    b.wait(
        "the confirmation focused",
        "document.activeElement && document.activeElement.classList.contains('confirm-revoke')",
    );
    b.keys("\u{E007}");
    b.wait(
        "the key shown revoked",
        &format!("document.querySelector('{row} .state-revoked')"),
    );
    assert_eq!(status_with(&s, &secret), 401);
    assert_eq!(status_with(&s, &key), 200);
    // The page's loads before the sign-in are refused.
    let errors = console_errors(&b, &["status of 401"]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_admin_page_lists_every_key_and_revokes_one() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let pid = std::process::id();
    let admin = cli_key(
        &format!("boss-{pid}"),
        &format!("boss-{pid}@example.com"),
        "admin",
    );
    let victim_name = format!("frank-{pid}");
    let victim = cli_key(&victim_name, &format!("frank-{pid}@example.com"), "read");
    let s = Server::start(db(), &["--auth", "--key-cache", "600"]);
    assert_eq!(status_with(&s, &victim), 200);
    sign_in(&b, &s, &admin);
    b.wait("the admin link", "document.querySelector('#nav-admin')");
    b.click("#nav-admin");
    let row = format!("#keys-table tr[data-name=\"{victim_name}\"]");
    b.wait("frank's key", &format!("document.querySelector('{row}')"));
    let listed = b.js(
        "return document.querySelectorAll('#keys-table tbody tr').length;",
        json!([]),
    );
    let all = s
        .request(
            "GET",
            "/auth/admin/api-keys",
            &[],
            &[("Authorization", &format!("Bearer {admin}"))],
        )
        .ok()
        .json();
    assert_eq!(listed, json!(all.as_array().unwrap().len()));
    // The search narrows the list.
    b.type_in("#admin-search", &victim_name);
    b.wait(
        "one row",
        "document.querySelectorAll('#keys-table tbody tr').length === 1",
    );
    b.screenshot(&shot("admin"));
    b.click(&format!("{row} button.revoke"));
    b.click(&format!("{row} button.confirm-revoke"));
    b.wait(
        "the key shown revoked",
        &format!("document.querySelector('{row} .state-revoked')"),
    );
    // Refused at once, although the server had it cached.
    assert_eq!(status_with(&s, &victim), 401);
    // The page's loads before the sign-in are refused.
    let errors = console_errors(&b, &["status of 401"]);
    assert!(errors.is_empty(), "{errors:?}");
}

/// 10,000 view hosts and 10,000 passive records (for the long lists).
fn big_db() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::new();
        let dir = tempfile::tempdir().unwrap();
        let addr = |i: u32| {
            let a = 0x0A00_0000 + i;
            format!("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
        };
        let lines: Vec<String> = (0..10_000u32)
            .map(|i| {
                json!({"addr": addr(i), "state": "up", "schema_version": 22,
                       "starttime": "2024-01-02 03:04:05", "endtime": "2024-01-02 03:05:05",
                       "ports": [{"protocol": "tcp", "port": 22 + (i % 3) * 29, "state_state": "open",
                                  "service_name": "ssh"}]})
                .to_string()
            })
            .collect();
        let scan = dir.path().join("big.json");
        std::fs::write(&scan, lines.join("\n") + "\n").unwrap();
        let out = tool("ivre-scan2db", &db, &["-s", "BIG", scan.to_str().unwrap()], None);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = tool("ivre-db2view", &db, &[], None);
        assert!(out.status.success(), "{}", stderr(&out));
        let fixture = std::fs::read_to_string(data("passive/zeek/passive_recon.log")).unwrap();
        let mut log: String = fixture
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        for i in 0..10_000u32 {
            log += &format!(
                "{}.5\tC{i}\t{}\t-\tPassiveRecon::DNS_ANSWER\tA-10.255.0.1-53\th{i}.example.com\t-\n",
                1_600_000_000 + i,
                addr(i)
            );
        }
        let p = dir.path().join("passive_recon.log");
        std::fs::write(&p, log).unwrap();
        let out = tool("ivre-passiverecon2db", &db, &["-s", "BIG", p.to_str().unwrap()], None);
        assert!(out.status.success(), "{}", stderr(&out));
        db
    })
}

/// Cards in the DOM under `list`.
fn rendered(b: &Browser, list: &str) -> i64 {
    b.js(
        &format!("return document.querySelectorAll('{list} .card').length;"),
        json!([]),
    )
    .as_i64()
    .unwrap()
}

#[test]
fn lists_of_ten_thousand_records_render_only_what_is_seen() {
    let Some(b) = Browser::start() else { return };
    let _g = one_at_a_time();
    let s = Server::start(big_db(), &[]);
    assert_eq!(api_count(&s, "view", ""), 10_000);
    b.goto(&format!("{}#/view?limit=10000", root(&s)));
    b.wait(
        "the 10,000 hosts",
        "document.querySelector('#hosts .vlist[data-total=\"10000\"] .card')",
    );
    assert_eq!(shown_count(&b), 10_000);
    let first = rendered(&b, "#hosts");
    assert!((1..300).contains(&first), "{first} cards in the DOM");
    // The last host (the API's 10,000th) appears once scrolled to.
    let last = s
        .get("/view", &[("q", "limit:1 skip:9999"), ("format", "ndjson")])
        .ok()
        .body;
    let last: Value = serde_json::from_str(last.trim()).unwrap();
    let last = last["addr"].as_str().unwrap();
    b.js("window.scrollTo(0, document.body.scrollHeight);", json!([]));
    b.wait(
        "the last host",
        &format!("document.querySelector('#hosts .card[data-addr=\"{last}\"]')"),
    );
    assert!(rendered(&b, "#hosts") < 300);
    // Halfway: the cards there, and still few.
    b.js(
        "window.scrollTo(0, document.body.scrollHeight / 2);",
        json!([]),
    );
    b.wait(
        "cards halfway",
        "[...document.querySelectorAll('#hosts [data-vi]')].some(e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }) && !document.querySelector('#hosts [data-vi=\"0\"]')",
    );
    assert!(rendered(&b, "#hosts") < 300);
    // The passive list too.
    b.goto(&format!("{}#/passive?limit=10000", root(&s)));
    b.wait(
        "the 10,000 records",
        "document.querySelector('#records .vlist[data-total=\"10000\"] .card')",
    );
    assert!(rendered(&b, "#records") < 300);
    // (The timeline follows the list: scroll to the list's end, again
    // while measured heights move it.)
    b.wait(
        "the last record",
        "(() => { const l = document.querySelector('#records .vlist'); \
         window.scrollTo(0, l.getBoundingClientRect().bottom + scrollY - innerHeight); \
         return document.querySelector('#records [data-vi=\"9999\"] .card'); })()",
    );
    assert!(rendered(&b, "#records") < 300);
    let errors = console_errors(&b, &[]);
    assert!(errors.is_empty(), "{errors:?}");
}
