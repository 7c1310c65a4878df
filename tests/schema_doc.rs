//! `docs/schema.md` is what its generator makes of the migrations.

use crate::common::TestDb;
use ivre_pg::schema_doc::{splice, tables_markdown, GENERATED_MARKER, REGENERATE};

const SCHEMA_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.md");

#[test]
fn schema_doc_is_up_to_date() {
    let doc = std::fs::read_to_string(SCHEMA_DOC).unwrap();
    let db = TestDb::new();
    let tables = tables_markdown(&mut db.client()).expect("describe the schema");
    let expected = splice(&doc, &tables)
        .unwrap_or_else(|| panic!("docs/schema.md has lost its line {GENERATED_MARKER}"));
    if let Some((line, (found, wanted))) = doc
        .lines()
        .chain(std::iter::repeat("<end of file>"))
        .zip(expected.lines().chain(std::iter::repeat("<end of file>")))
        .take(doc.lines().count().max(expected.lines().count()))
        .enumerate()
        .find(|(_, (found, wanted))| found != wanted)
    {
        panic!(
            "docs/schema.md is stale: run `{REGENERATE}` and commit the result \
             (line {}: {found:?}, generated: {wanted:?})",
            line + 1
        );
    }
    assert_eq!(doc, expected, "docs/schema.md is stale: run `{REGENERATE}`");
}

#[test]
fn schema_doc_leaves_the_database_as_it_was() {
    let db = TestDb::new();
    let fresh = tables_markdown(&mut db.client()).unwrap();
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        ),
        0,
        "nothing is left behind"
    );
    // On a database at the latest schema (pg_trgm installed in public).
    ivre_pg::migrate::migrate(&mut db.client()).unwrap();
    assert_eq!(tables_markdown(&mut db.client()).unwrap(), fresh);
}
