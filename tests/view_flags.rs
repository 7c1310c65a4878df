//! `ivre-view`'s fingerprint filters over the view's scripts (JA3 and JA4
//! as `ivre-ipinfo` has them, and the shared HASSH ones) and `--search`,
//! checked against the passive records the view was built from.

use crate::common::*;

fn run(db: &TestDb, name: &str, args: &[&str]) -> String {
    let out = tool(name, db, args, None);
    assert!(out.status.success(), "{name} {args:?}: {}", stderr(&out));
    stdout(&out)
}

fn count(db: &TestDb, args: &[&str]) -> i64 {
    let mut a = vec!["--count"];
    a.extend_from_slice(args);
    run(db, "ivre-view", &a).trim().parse().expect("a number")
}

/// Distinct addresses of the passive records meeting `cond`.
fn passive(db: &TestDb, cond: &str) -> i64 {
    db.scalar(&format!(
        "SELECT count(DISTINCT addr) FROM passive WHERE {cond}"
    ))
}

#[test]
fn fingerprint_filters_match_the_passive_records() {
    let db = TestDb::new();
    let log = data("passive/zeek/passive_recon.log");
    run(
        &db,
        "ivre-passiverecon2db",
        &["-s", "TEST", log.to_str().unwrap()],
    );
    run(&db, "ivre-db2view", &["passive"]);

    let ja3 = "recontype = 'SSL_CLIENT' AND source = 'ja3'";
    assert!(passive(&db, ja3) >= 1);
    assert_eq!(count(&db, &["--ssl-ja3-client"]), passive(&db, ja3));
    let md5 = "1be3ecebe5aa9d3654e6e703d81f6928";
    assert_eq!(
        count(&db, &["--ssl-ja3-client", md5]),
        passive(&db, &format!("{ja3} AND value = '{md5}'"))
    );
    assert_eq!(count(&db, &["--ssl-ja3-client", &md5.to_uppercase()]), 1);
    assert_eq!(count(&db, &["--ssl-ja3-client", "/^nothing-like-it/"]), 0);

    let ja3s = "recontype = 'SSL_SERVER' AND source LIKE 'ja3-%'";
    assert_eq!(count(&db, &["--ssl-ja3-server"]), passive(&db, ja3s));
    let server = "a95ca7eab4d47d051a5cd4fb7b6005dc";
    assert_eq!(
        count(&db, &["--ssl-ja3-server", server]),
        passive(&db, &format!("{ja3s} AND value = '{server}'"))
    );
    assert_eq!(
        count(&db, &["--ssl-ja3-server", &format!("{server}:{md5}")]),
        passive(
            &db,
            &format!("{ja3s} AND value = '{server}' AND source = 'ja3-{md5}'")
        )
    );
    assert_eq!(
        count(&db, &["--ssl-ja3-server", &format!(":{md5}")]),
        passive(&db, &format!("source = 'ja3-{md5}'"))
    );

    let ja4 = "recontype = 'SSL_CLIENT' AND source = 'ja4'";
    assert_eq!(count(&db, &["--ssl-ja4-client"]), passive(&db, ja4));

    let client = "5ef6678a6b060094834599ca16581b05";
    let server = "6e3242d64766f4154c11858bbd654415";
    assert_eq!(
        count(&db, &["--hassh-client", client]),
        passive(
            &db,
            &format!("recontype = 'SSH_CLIENT_HASSH' AND value = '{client}'")
        )
    );
    assert_eq!(count(&db, &["--hassh-server", client]), 0);
    assert_eq!(
        count(&db, &["--hassh-server", server]),
        passive(
            &db,
            &format!("recontype = 'SSH_SERVER_HASSH' AND value = '{server}'")
        )
    );
    assert_eq!(
        count(&db, &["--hassh"]),
        passive(&db, "recontype LIKE 'SSH\\_%\\_HASSH'")
    );
    let out = tool(
        "ivre-view",
        &db,
        &["--ssl-ja4-client-raw", "nonsense"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn search_looks_at_names_outputs_services_and_tags() {
    let db = TestDb::new();
    assert!(import_samples(&db).status.success());
    run(&db, "ivre-db2view", &[]);
    let mut client = db.client();
    let name: String = client
        .query_one(
            "SELECT name FROM view_hostname GROUP BY name ORDER BY count(*), name LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    let with_name = db.scalar(&format!(
        "SELECT count(DISTINCT host_id) FROM view_hostname WHERE name = '{name}'"
    ));
    assert!(count(&db, &["--search", &name.to_uppercase()]) >= with_name);
    // A phrase that is there, minus the same word: nothing.
    assert_eq!(count(&db, &["--search", &format!("\"{name}\" -{name}")]), 0);
    // A product, found in the service fields.
    let products = db.scalar(
        "SELECT count(DISTINCT host_id) FROM view_port WHERE service_product ILIKE '%openssh%'",
    );
    assert!(products > 0);
    let found = count(&db, &["--search", "OpenSSH"]);
    assert!(found >= products, "{found} < {products}");
    // Any of the words.
    assert!(count(&db, &["--search", "OpenSSH no-such-word-anywhere"]) == found);
    assert_eq!(count(&db, &["--search", "no-such-word-anywhere"]), 0);
}
