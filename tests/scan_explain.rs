//! The filters use indexes: EXPLAIN on 20,000 generated hosts (enough for
//! the planner to prefer an index over a sequential scan).

use crate::common::*;
use ivre_model::filter::scan::{self as s, ScanFilter};
use ivre_model::filter::value::{str2regexp, Match, ValueCond};
use std::sync::OnceLock;

fn db() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::new();
        let mut c = db.client();
        ivre_pg::migrate::migrate(&mut c).unwrap();
        c.batch_execute(
            "INSERT INTO scan_host (id, addr, source, categories, state, open_port_count, schema_version, doc)
               SELECT g, '10.0.0.0'::inet + g, 'gen', '{GEN}', 'up', 2, 19, '{}'::jsonb
               FROM generate_series(1, 20000) g;
             INSERT INTO scan_port (host_id, idx, protocol, port, state, service_name, service_product)
               SELECT g, i, 'tcp', 1 + (g * 31 + i * 7) % 5000, 'open',
                      'svc' || ((g * 31 + i * 7) % 700), 'prod' || (g % 900)
               FROM generate_series(1, 20000) g, generate_series(0, 1) i;
             INSERT INTO scan_script (host_id, port_idx, idx, port, name, output, data)
               SELECT g, 0, 0, 1 + (g * 31) % 5000, 'script-' || (g % 300), md5(g::text),
                      jsonb_build_object('k', jsonb_build_array(jsonb_build_object('v', md5(g::text))))
               FROM generate_series(1, 20000) g;
             INSERT INTO scan_hostname (host_id, idx, name, type, domains)
               SELECT g, 0, 'h' || g || '.d' || (g % 1000) || '.com', 'PTR',
                      ARRAY['h' || g || '.d' || (g % 1000) || '.com', 'd' || (g % 1000) || '.com', 'com']
               FROM generate_series(1, 20000) g;",
        )
        .unwrap();
        // The summary arrays, as the loader writes them.
        c.batch_execute(
            "UPDATE scan_host h SET
               open_ports = (SELECT array_agg(DISTINCT p.protocol || '/' || p.port) FROM scan_port p
                             WHERE p.host_id = h.id AND p.state = 'open'),
               services = (SELECT array_agg(DISTINCT p.service_name) FROM scan_port p WHERE p.host_id = h.id),
               products = (SELECT array_agg(DISTINCT p.service_product) FROM scan_port p WHERE p.host_id = h.id)",
        )
        .unwrap();
        // VACUUM also empties the GIN pending lists, as autovacuum would.
        c.batch_execute("VACUUM ANALYZE").unwrap();
        db
    })
}

fn plan(f: &ScanFilter) -> String {
    let mut c = db().client();
    ivre_pg::scan::query::explain(&mut c, f).unwrap()
}

fn assert_uses(f: ScanFilter, index: &str) {
    let p = plan(&f);
    assert!(p.contains(index), "expected {index} in:\n{p}");
}

#[test]
fn host_uses_the_address_index() {
    assert_uses(s::host("10.0.0.5".parse().unwrap()), "scan_host_addr");
}

#[test]
fn net_uses_the_address_index() {
    assert_uses(s::net("10.0.1.0/24").unwrap(), "scan_host_addr");
}

#[test]
fn range_uses_the_address_index() {
    assert_uses(
        s::range("10.0.1.0".parse().unwrap(), "10.0.1.200".parse().unwrap()),
        "scan_host_addr",
    );
}

#[test]
fn port_uses_the_open_ports_index() {
    assert_uses(s::port("80").unwrap(), "scan_host_open_ports");
}

#[test]
fn closed_port_uses_the_port_index() {
    assert_uses(s::port_state("tcp", 80, Some("closed")), "scan_port_port");
}

#[test]
fn service_uses_the_services_index() {
    assert_uses(s::service(Match::exact("svc7"), None), "scan_host_services");
}

#[test]
fn product_uses_the_products_index() {
    assert_uses(
        s::product(Some(Match::exact("prod7")), None, None, None),
        "scan_host_products",
    );
}

#[test]
fn array_filters_count_what_the_port_rows_say() {
    let mut c = db().client();
    for (f, sql) in [
        (
            s::port("80").unwrap(),
            "p.protocol = 'tcp' AND p.port = 80 AND p.state = 'open'",
        ),
        (
            s::service(Match::exact("svc7"), None),
            "p.service_name = 'svc7'",
        ),
        (
            s::product(Some(Match::exact("prod7")), None, None, None),
            "p.service_product = 'prod7'",
        ),
    ] {
        let expected: i64 = c
            .query_one(
                &format!(
                    "SELECT count(*) FROM scan_host h WHERE EXISTS
                     (SELECT 1 FROM scan_port p WHERE p.host_id = h.id AND {sql})"
                ),
                &[],
            )
            .unwrap()
            .get(0);
        assert!(expected > 0, "{sql}");
        assert_eq!(ivre_pg::scan::query::count(&mut c, &f).unwrap(), expected);
    }
}

#[test]
fn script_id_uses_the_name_index() {
    assert_uses(
        s::script(Some(Match::exact("script-7")), None),
        "scan_script_name",
    );
}

#[test]
fn script_output_regex_uses_the_name_index() {
    assert_uses(
        s::script(
            Some(Match::exact("script-7")),
            Some(str2regexp("/c4ca4238a0/").unwrap()),
        ),
        "scan_script_name",
    );
}

#[test]
fn structured_value_uses_the_jsonb_index() {
    let f = s::script_values(
        None,
        "k",
        &["v"],
        ValueCond::Str(Match::exact("c4ca4238a0b923820dcc509a6f75849b")),
    );
    assert_uses(f, "scan_script_data");
}

#[test]
fn domain_uses_the_domains_index() {
    assert_uses(s::domain(Match::exact("d7.com")), "scan_hostname_domains");
}

#[test]
fn hostname_uses_the_name_index() {
    assert_uses(
        s::hostname(Some(Match::exact("h7.d7.com"))),
        "scan_hostname_name",
    );
}

#[test]
fn or_across_tables_keeps_the_indexes() {
    let f = s::port("80").unwrap().or(s::domain(Match::exact("d7.com")));
    let p = plan(&f);
    assert!(
        p.contains("open_ports") && p.contains("scan_hostname_domains"),
        "{p}"
    );
    let mut c = db().client();
    let n = |f: &ScanFilter, c: &mut postgres::Client| ivre_pg::scan::query::count(c, f).unwrap();
    let a = n(&s::port("80").unwrap(), &mut c);
    let b = n(&s::domain(Match::exact("d7.com")), &mut c);
    let both = n(
        &s::port("80")
            .unwrap()
            .and(s::domain(Match::exact("d7.com"))),
        &mut c,
    );
    assert_eq!(n(&f, &mut c), a + b - both);
    assert!(a > 0 && b > 0);
}
