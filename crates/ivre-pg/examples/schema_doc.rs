//! Regenerates the tables part of `docs/schema.md` from the `COMMENT ON` of
//! the migrations (see `ivre_pg::schema_doc`); the hand-written head of the
//! file is kept.
//!
//! `cargo run -p ivre-pg --example schema_doc [-- --db URL]`
//!
//! Any database will do, as for the tools (`--db`, `IVRE_DB`, the libpq
//! environment, else the private cluster): its schema is neither read nor
//! changed, the tables are described from a scratch copy that is rolled back.

use ivre_pg::schema_doc::{splice, tables_markdown, GENERATED_MARKER};
use std::process::ExitCode;

const SCHEMA_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.md");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = match args.as_slice() {
        [] => None,
        [flag, url] if flag == "--db" => Some(url.as_str()),
        _ => {
            eprintln!("usage: schema_doc [--db URL]");
            return ExitCode::from(2);
        }
    };
    match regenerate(db) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("schema_doc: error: {message}");
            ExitCode::from(1)
        }
    }
}

fn regenerate(db: Option<&str>) -> Result<(), String> {
    let doc = std::fs::read_to_string(SCHEMA_DOC).map_err(|e| format!("{SCHEMA_DOC}: {e}"))?;
    let target = ivre_pg::DbTarget::resolve(db).map_err(|e| e.to_string())?;
    let mut client = ivre_pg::connect_without_migrating(&target).map_err(|e| e.to_string())?;
    let tables = tables_markdown(&mut client).map_err(|e| e.to_string())?;
    let new_doc = splice(&doc, &tables)
        .ok_or_else(|| format!("{SCHEMA_DOC} has no line {GENERATED_MARKER}"))?;
    std::fs::write(SCHEMA_DOC, new_doc).map_err(|e| format!("{SCHEMA_DOC}: {e}"))?;
    eprintln!("schema_doc: wrote {SCHEMA_DOC}");
    Ok(())
}
