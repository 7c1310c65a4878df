//! `docs/schema.md` from the `COMMENT ON` of the migrations: its head is
//! hand-written (introduction, query examples), everything after
//! [`GENERATED_MARKER`] is a section per table with its columns, types and
//! comments. `cargo run -p ivre-pg --example schema_doc` rewrites the file;
//! a test fails when it is stale.

use crate::{migrate, Result};
use postgres::Client;

macro_rules! regenerate_command {
    () => {
        "cargo run -p ivre-pg --example schema_doc"
    };
}

/// The command that regenerates `docs/schema.md`, for messages.
pub const REGENERATE: &str = regenerate_command!();

/// The line of `docs/schema.md` after which the file is generated.
pub const GENERATED_MARKER: &str = concat!(
    "<!-- Generated below by `",
    regenerate_command!(),
    "`: edit the COMMENT ON statements in sql/, not this file. -->"
);

/// Scratch schema in which the migrations are applied, then rolled back.
const SCRATCH_SCHEMA: &str = "ivre_schema_doc";

/// The generated part: one section per table (name order) of the schema
/// this build creates. The migrations run in a scratch schema of a
/// transaction that is rolled back, so any database will do (its own schema,
/// at whatever version, is neither read nor changed).
pub fn tables_markdown(client: &mut Client) -> Result<String> {
    let mut tx = client.transaction()?;
    // pg_trgm may already be installed in public: keep it visible.
    tx.batch_execute(&format!(
        "CREATE SCHEMA {SCRATCH_SCHEMA}; SET LOCAL search_path = {SCRATCH_SCHEMA}, public"
    ))?;
    migrate::create_all(&mut tx)?;
    let rows = tx.query(
        "SELECT c.relname::text, obj_description(c.oid, 'pg_class'),
                a.attname::text, format_type(a.atttypid, a.atttypmod),
                col_description(c.oid, a.attnum)
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')
         ORDER BY c.relname COLLATE \"C\", a.attnum",
        &[&SCRATCH_SCHEMA],
    )?;
    // Dropping `tx` rolls everything back.
    let mut out = String::new();
    let mut current_table: Option<String> = None;
    for row in rows {
        let table: String = row.get(0);
        if current_table.as_deref() != Some(table.as_str()) {
            if current_table.is_some() {
                out.push('\n');
            }
            out.push_str(&format!("## `{table}`\n\n"));
            if let Some(comment) = row.get::<_, Option<String>>(1) {
                out.push_str(&format!("{}\n\n", cell(&comment)));
            }
            out.push_str("| column | type | meaning |\n|---|---|---|\n");
            current_table = Some(table);
        }
        let column: String = row.get(2);
        let column_type: String = row.get(3);
        let comment: Option<String> = row.get(4);
        out.push_str(&format!(
            "| `{column}` | {column_type} | {} |\n",
            cell(comment.as_deref().unwrap_or(""))
        ));
    }
    Ok(out)
}

/// `doc` with everything after the marker line replaced by `tables`; `None`
/// when `doc` has no marker line.
pub fn splice(doc: &str, tables: &str) -> Option<String> {
    let at = doc.find(GENERATED_MARKER)?;
    let head = &doc[..at + GENERATED_MARKER.len()];
    Some(format!("{head}\n\n{tables}"))
}

/// Text for one markdown table cell or paragraph line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
