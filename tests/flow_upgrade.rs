//! Flows stored by a build of migration 0006 (one merged row per flow and
//! month) keep their totals and sets when a newer tool applies 0009
//! (totals in flow_key, append-only rows): no data is lost by upgrading.

use crate::common::TestDb;
use crate::flow::flowcli;

/// Two flows over two months, as the 0006 loader stored them.
const STORED_BY_0006: &str = "
CREATE TABLE flow_y2024m01 PARTITION OF flow FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE flow_y2024m02 PARTITION OF flow FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
INSERT INTO flow_key (id, src, dst, proto, dport, type) VALUES
    (1, '10.0.0.1', '10.0.0.2', 'tcp', 80, NULL),
    (2, '10.0.0.3', '10.0.0.2', 'icmp', NULL, 8);
INSERT INTO flow (key_id, period, count, cspkts, scpkts, csbytes, scbytes,
                  firstseen, lastseen, sports, codes, times, meta) VALUES
    (1, '2024-01-01', 3, 10, 20, 100, 200, '2024-01-05 10:00Z', '2024-01-05 11:30Z',
     '{1000,1001}', NULL,
     ARRAY[tstzrange('2024-01-05 10:00Z', '2024-01-05 11:00Z'),
           tstzrange('2024-01-05 11:00Z', '2024-01-05 12:00Z')],
     '{\"http\": {\"count\": 1, \"host\": [\"a.example\"]}}'),
    (1, '2024-02-01', 2, 1, 2, 10, 20, '2024-02-01 00:10Z', '2024-02-01 00:20Z',
     '{1001,1002}', NULL,
     ARRAY[tstzrange('2024-02-01 00:00Z', '2024-02-01 01:00Z')],
     '{\"http\": {\"count\": 2, \"host\": [\"b.example\"]}}'),
    (2, '2024-01-01', 1, 1, 1, 84, 84, '2024-01-07 08:00Z', '2024-01-07 08:00Z',
     NULL, '{0}', ARRAY[tstzrange('2024-01-07 08:00Z', '2024-01-07 09:00Z')], NULL);
";

#[test]
fn flows_stored_before_0009_keep_their_totals_and_sets() {
    let db = TestDb::new();
    let mut c = db.client();
    ivre_pg::migrate::migrate_up_to(&mut c, 8).unwrap();
    c.batch_execute(STORED_BY_0006).unwrap();
    let before: Vec<String> = c
        .query("SELECT row(t.*)::text FROM flow_total t ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    drop(c);

    // The tool applies 0009 on connecting.
    assert_eq!(
        flowcli(&db, &["--count"]),
        "2 clients\n1 servers\n2 flows\n"
    );
    assert!(db.scalar("SELECT max(version)::int8 FROM ivre_schema_migrations") >= 9);
    let mut c = db.client();
    let after: Vec<String> = c
        .query("SELECT row(t.*)::text FROM flow_total t ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(after, before);
    // And what that is: counters summed over the months, sets united.
    let row = c
        .query_one(
            "SELECT count, csbytes, scbytes, sports::text, array_length(times, 1),
                    meta::text, firstseen = '2024-01-05 10:00Z', lastseen = '2024-02-01 00:20Z'
             FROM flow_total WHERE id = 1",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, Option<i64>>(0), Some(5));
    assert_eq!(row.get::<_, i64>(1), 110);
    assert_eq!(row.get::<_, i64>(2), 220);
    assert_eq!(row.get::<_, String>(3), "{1000,1001,1002}");
    assert_eq!(row.get::<_, Option<i32>>(4), Some(3));
    assert_eq!(
        row.get::<_, String>(5),
        r#"{"http": {"host": ["a.example", "b.example"], "count": 3}}"#
    );
    assert!(row.get::<_, bool>(6) && row.get::<_, bool>(7));
    // Forgetting January leaves February's part of flow 1 only.
    assert!(c
        .query_one("SELECT flow_forget_month('2024-01-01')", &[])
        .unwrap()
        .get::<_, bool>(0));
    assert_eq!(
        flowcli(&db, &["--count"]),
        "1 clients\n1 servers\n1 flows\n"
    );
    assert_eq!(db.scalar("SELECT count FROM flow_key WHERE id = 1"), 2);
}

/// Three rows of one flow in January and one in February, as the 0009
/// loader appended them (one per batch), and a flow of one row.
const STORED_BY_0009: &str = "
CREATE TABLE flow_y2024m01 PARTITION OF flow FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE flow_y2024m02 PARTITION OF flow FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
INSERT INTO flow_key (id, src, dst, proto, dport, type, count, cspkts, scpkts, csbytes, scbytes,
                      firstseen, lastseen) VALUES
    (1, '10.0.0.1', '10.0.0.2', 'tcp', 80, NULL, 7, 14, 26, 140, 260,
     '2024-01-05 10:00Z', '2024-02-01 00:20Z'),
    (2, '10.0.0.3', '10.0.0.2', 'icmp', NULL, 8, 1, 1, 1, 84, 84,
     '2024-01-07 08:00Z', '2024-01-07 08:00Z');
INSERT INTO flow (key_id, period, count, cspkts, scpkts, csbytes, scbytes,
                  firstseen, lastseen, sports, codes, times, meta) VALUES
    (1, '2024-01-01', 3, 10, 20, 100, 200, '2024-01-05 10:00Z', '2024-01-05 11:30Z',
     '{1000,1001}', NULL,
     ARRAY[tstzrange('2024-01-05 10:00Z', '2024-01-05 11:00Z'),
           tstzrange('2024-01-05 11:00Z', '2024-01-05 12:00Z')],
     '{\"http\": {\"count\": 1, \"host\": [\"a.example\"]}}'),
    (1, '2024-01-01', 1, 2, 3, 20, 30, '2024-01-04 09:00Z', '2024-01-06 09:10Z',
     '{999,1001}', NULL,
     ARRAY[tstzrange('2024-01-04 09:00Z', '2024-01-04 10:00Z'),
           tstzrange('2024-01-05 11:00Z', '2024-01-05 12:00Z')],
     '{\"http\": {\"count\": 2, \"host\": [\"c.example\", \"a.example\"]}}'),
    (1, '2024-01-01', NULL, 0, 0, 0, 0, '2024-01-08 00:00Z', '2024-01-08 00:01Z',
     NULL, NULL, NULL, '{\"dns\": {\"count\": 1}}'),
    (1, '2024-02-01', 3, 2, 3, 20, 30, '2024-02-01 00:10Z', '2024-02-01 00:20Z',
     '{1001,1002}', NULL,
     ARRAY[tstzrange('2024-02-01 00:00Z', '2024-02-01 01:00Z')], NULL),
    (2, '2024-01-01', 1, 1, 1, 84, 84, '2024-01-07 08:00Z', '2024-01-07 08:00Z',
     NULL, '{0}', ARRAY[tstzrange('2024-01-07 08:00Z', '2024-01-07 09:00Z')], NULL);
";

/// Every flow as `flow_total` shows it, and as the listing reads it.
fn shown(db: &TestDb) -> (Vec<String>, String) {
    let mut c = db.client();
    let rows = c
        .query("SELECT row(t.*)::text FROM flow_total t ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (rows, flowcli(db, &["--json", "--timeline"]))
}

#[test]
fn flows_stored_by_0009_keep_their_sets_through_0014_and_compaction() {
    let db = TestDb::new();
    let mut c = db.client();
    ivre_pg::migrate::migrate_up_to(&mut c, 9).unwrap();
    c.batch_execute(STORED_BY_0009).unwrap();
    drop(c);
    let before = shown(&db);
    assert_eq!(
        db.scalar("SELECT max(version)::int8 FROM ivre_schema_migrations"),
        i64::from(ivre_pg::migrate::latest_version())
    );
    // Applying 0014 (by the tool above) changes nothing stored.
    assert_eq!(db.scalar("SELECT count(*) FROM flow"), 5);
    let mut c = db.client();
    let removed: i64 = c
        .query_one("SELECT flow_compact('2024-01-15')", &[])
        .unwrap()
        .get(0);
    assert_eq!(removed, 2);
    drop(c);
    // One row per flow and month, showing the same flows.
    assert_eq!(db.scalar("SELECT count(*) FROM flow"), 3);
    assert_eq!(
        db.scalar("SELECT count(*) FROM flow WHERE key_id = 1 AND period = '2024-01-01'"),
        1
    );
    assert_eq!(shown(&db), before);
    let mut c = db.client();
    let row = c
        .query_one(
            "SELECT count, sports::text, array_length(times, 1), meta::text,
                    firstseen = '2024-01-04 09:00Z', lastseen = '2024-01-08 00:01Z'
             FROM flow WHERE key_id = 1 AND period = '2024-01-01'",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, Option<i64>>(0), Some(4));
    assert_eq!(row.get::<_, String>(1), "{999,1000,1001}");
    assert_eq!(row.get::<_, Option<i32>>(2), Some(3));
    assert_eq!(
        row.get::<_, String>(3),
        r#"{"dns": {"count": 1}, "http": {"host": ["a.example", "c.example"], "count": 3}}"#
    );
    assert!(row.get::<_, bool>(4) && row.get::<_, bool>(5));
    // Nothing left to merge: a second call removes nothing.
    assert_eq!(
        c.query_one(
            "SELECT flow_compact('2024-01-01', ARRAY[1, 2]::bigint[])",
            &[]
        )
        .unwrap()
        .get::<_, i64>(0),
        0
    );
}
