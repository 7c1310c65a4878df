//! Migration 0010 (compact scan and view tables, summary arrays): records
//! read back whole although their scripts are stored once, the summary
//! arrays agree with the port rows, and a database stored with the 0009
//! layout (the whole document in `doc`, no arrays) keeps its data and
//! answers the same when a tool upgrades it.

use crate::common::{golden_records, import_samples, load_records, stdout, tool, TestDb};
use std::io::{Read, Write};

const HOST_TABLES: &[&str] = &[
    "scan_port",
    "scan_script",
    "scan_hostname",
    "scan_hop",
    "scan_osmatch",
    "scan_osclass",
    "scan_cpe",
    "scan_tag",
];

/// The queries both databases must answer the same.
const QUERIES: &[&[&str]] = &[
    &["--json"],
    &["--count", "--port", "80"],
    &["--count", "--port", "tcp/443"],
    &["--count", "--service", "http"],
    &["--count", "--service", "/^ht/"],
    &["--count", "--product", "Microsoft IIS httpd"],
    &["--count", "--product", "http:Microsoft IIS httpd"],
    &["--count", "--not-port", "80"],
    &["--count", "--script", "http-title:/Microsoft/i"],
    &["--count", "--httphdr", "server"],
    &["--count", "--net", "10.0.0.0/8"],
    &["--top", "service"],
    &["--top", "port"],
    &["--top", "product"],
    &["--top", "ports.scripts.id"],
    &["--distinct", "ports.scripts.id"],
];

fn scancli(db: &TestDb, args: &[&str]) -> String {
    let out = tool("ivre-scancli", db, args, None);
    assert!(out.status.success(), "{args:?}: {out:?}");
    stdout(&out)
}

fn answers(db: &TestDb) -> Vec<String> {
    QUERIES.iter().map(|q| scancli(db, q)).collect()
}

/// Copies the rows of `table` (or of a query given as `(SELECT ...)`)
/// from one database to another, into `target` (a table and its columns).
fn copy(from: &mut postgres::Client, to: &mut postgres::Client, source: &str, target: &str) {
    let mut data = Vec::new();
    from.copy_out(&format!("COPY {source} TO STDOUT"))
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    let mut w = to.copy_in(&format!("COPY {target} FROM STDIN")).unwrap();
    w.write_all(&data).unwrap();
    w.finish().unwrap();
}

#[test]
fn scripts_are_stored_once_and_records_read_back_whole() {
    let db = TestDb::new();
    let records = golden_records();
    load_records(&db, &records);
    // The stored documents hold no script the script rows give back.
    let with_scripts = db.scalar(
        "SELECT count(*) FROM scan_host h, jsonb_array_elements(h.doc -> 'ports') p
         WHERE p ? 'scripts' AND jsonb_array_length(p -> 'scripts') > 0",
    );
    assert!(db.scalar("SELECT count(*) FROM scan_script") > 1000);
    assert_eq!(with_scripts, 0);
    // What --json prints is what was loaded (each line one record, as jsonb prints it).
    let mut c = db.client();
    let expected: Vec<String> = records
        .iter()
        .map(|r| {
            c.query_one("SELECT $1::text::jsonb::text", &[&r.to_string()])
                .unwrap()
                .get(0)
        })
        .collect();
    let json = scancli(&db, &["--json"]);
    let got: Vec<&str> = json.lines().collect();
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e);
    }
    // The view for psql gives the same documents.
    let view: Vec<String> = c
        .query("SELECT doc::text FROM scan_record ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(view, expected);
}

#[test]
fn summary_arrays_agree_with_the_port_rows() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    for (col, expr, cond) in [
        (
            "open_ports",
            "coalesce(p.protocol, '') || '/' || p.port",
            "p.state = 'open'",
        ),
        ("services", "p.service_name", "p.service_name IS NOT NULL"),
        (
            "products",
            "p.service_product",
            "p.service_product IS NOT NULL",
        ),
    ] {
        let wrong = db.scalar(&format!(
            "SELECT count(*) FROM scan_host h WHERE h.{col} IS DISTINCT FROM coalesce(
                (SELECT array_agg(DISTINCT ({expr}) COLLATE \"C\" ORDER BY ({expr}) COLLATE \"C\") FROM scan_port p
                 WHERE p.host_id = h.id AND p.port <> -1 AND {cond}), '{{}}')"
        ));
        assert_eq!(wrong, 0, "{col}");
        assert!(
            db.scalar(&format!(
                "SELECT count(*) FROM scan_host WHERE {col} <> '{{}}'"
            )) > 0,
            "{col}"
        );
    }
    // --port 80 is answered by the array alone, and agrees with the rows.
    let rows = db.scalar(
        "SELECT count(*) FROM scan_host h WHERE EXISTS (SELECT 1 FROM scan_port p
         WHERE p.host_id = h.id AND p.protocol = 'tcp' AND p.port = 80 AND p.state = 'open')",
    );
    assert!(rows > 0);
    assert_eq!(
        scancli(&db, &["--count", "--port", "80"]).trim(),
        rows.to_string()
    );
}

#[test]
fn records_stored_before_0010_keep_their_data_and_answers() {
    // The reference: the samples imported with the current schema.
    let new = TestDb::new();
    assert!(import_samples(&new).status.success());
    let reference = answers(&new);

    // The same rows in the 0009 layout: the whole document in doc, no arrays.
    let old = TestDb::new();
    let mut o = old.client();
    ivre_pg::migrate::migrate_up_to(&mut o, 9).unwrap();
    let mut n = new.client();
    copy(&mut n, &mut o, "scan_file", "scan_file");
    copy(
        &mut n,
        &mut o,
        "(SELECT h.id, h.file_id, h.addr, h.source, h.categories, h.state, h.state_reason,
                 h.state_reason_ttl, h.start_time, h.end_time, h.open_port_count,
                 h.schema_version, r.doc FROM scan_host h JOIN scan_record r USING (id))",
        "scan_host (id, file_id, addr, source, categories, state, state_reason,
                    state_reason_ttl, start_time, end_time, open_port_count, schema_version, doc)",
    );
    for t in HOST_TABLES {
        copy(&mut n, &mut o, t, t);
    }
    o.batch_execute(
        "SELECT setval('scan_host_id_block', (SELECT max(id) FROM scan_host));
         SELECT setval(pg_get_serial_sequence('scan_file', 'id'), (SELECT max(id) FROM scan_file));",
    )
    .unwrap();
    let hosts = old.scalar("SELECT count(*) FROM scan_host");
    drop(o);

    // The tool upgrades on connecting; the data survive and answer the same.
    assert_eq!(answers(&old), reference);
    assert_eq!(
        old.scalar("SELECT max(version)::int8 FROM ivre_schema_migrations"),
        i64::from(ivre_pg::migrate::latest_version())
    );
    assert_eq!(old.scalar("SELECT count(*) FROM scan_host"), hosts);
    // Backfilled arrays equal the loader's.
    let mut o = old.client();
    let arrays = |c: &mut postgres::Client| -> Vec<String> {
        c.query(
            "SELECT row(addr, open_ports, services, products)::text FROM scan_host ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    assert_eq!(arrays(&mut o), arrays(&mut n));
    // A new import into the upgraded database is stored compact and reads whole.
    let json_before = scancli(&old, &["--json"]);
    let out = tool(
        "ivre-scan2db",
        &old,
        &[
            "--force",
            "-c",
            "TEST",
            "-s",
            "SOURCE",
            &crate::common::sample("test-T443.xml.bz2"),
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let json_after = scancli(&old, &["--json"]);
    assert!(json_after.starts_with(&json_before));
    assert!(json_after.len() > json_before.len());
    // The view builds from the upgraded tables as from new ones.
    for db in [&old, &new] {
        let out = tool("ivre-db2view", db, &["--full"], None);
        assert!(out.status.success(), "{out:?}");
    }
    let view = |db: &TestDb| {
        let out = tool("ivre-view", db, &["--count", "--service", "http"], None);
        assert!(out.status.success(), "{out:?}");
        stdout(&out)
    };
    assert_eq!(view(&old), view(&new));
}
