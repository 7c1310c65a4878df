//! Finds the migrations: every `sql/NNNN_name.sql` of the repository, in
//! order of NNNN, embedded with `include_str!` through a table written to
//! `$OUT_DIR/migrations.rs` (read by `src/migrate.rs`). A new migration is a
//! new file and nothing else; a `.sql` file without a number, or two files
//! with one number, fail the build.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let sql_dir = manifest_dir
        .join("../../sql")
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}/../../sql: {e}", manifest_dir.display()));
    // Relative to the package, not the canonical path: a target/ copied to
    // another checkout must watch that checkout's migrations.
    println!("cargo:rerun-if-changed=../../sql");
    let mut by_version: BTreeMap<u32, (String, PathBuf)> = BTreeMap::new();
    let entries = std::fs::read_dir(&sql_dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", sql_dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.extension() != Some(OsStr::new("sql")) {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_else(|| panic!("{}: file name is not UTF-8", path.display()))
            .to_owned();
        let version = migration_version(&name).unwrap_or_else(|| {
            panic!(
                "{}: a migration is named NNNN_name.sql (four digits, an underscore, a name)",
                path.display()
            )
        });
        if let Some((other, _)) = by_version.get(&version) {
            panic!("migrations {other}.sql and {name}.sql have the same number {version}");
        }
        by_version.insert(version, (name, path));
    }
    let mut table = String::from("&[\n");
    for (version, (name, path)) in &by_version {
        writeln!(
            table,
            "    Migration {{ version: {version}, name: {name:?}, sql: include_str!({path:?}) }},"
        )
        .expect("write to a String");
    }
    table.push_str("]\n");
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("migrations.rs");
    std::fs::write(&out, table).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// NNNN of `NNNN_name`.
fn migration_version(stem: &str) -> Option<u32> {
    let (digits, name) = stem.split_once('_')?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    digits.parse().ok()
}
