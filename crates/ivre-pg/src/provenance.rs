//! Provenance of imports committed in batches (tables `passive_file`,
//! `flow_file`): what makes such an import exactly-once. A file is
//! imported in batches, each merged in its own transaction together with
//! the count of input lines it completes ([`FileImport::advance`]); a
//! re-run resumes after the lines committed, and a finished file is
//! skipped. Two imports of one content at once are serialised by an
//! advisory lock on its hash.

use crate::Result;
use postgres::Client;

/// A provenance table: its name, the column that qualifies a content's
/// identity, and the first key of the advisory lock its imports take (so
/// that the purposes' locks never share a key).
#[derive(Debug, PartialEq, Eq)]
pub struct FileTable {
    /// Fixed identifier of ours, never user input.
    table: &'static str,
    /// Fixed identifier of ours, never user input.
    qualifier: &'static str,
    lock_class: i32,
}

/// Passive imports: a log is known by its content and the sensor ("PASV").
pub static PASSIVE_FILES: FileTable = FileTable {
    table: "passive_file",
    qualifier: "sensor",
    lock_class: 0x5041_5356,
};

/// Flow imports: a file is known by its content and how it is read
/// ("FLOW").
pub static FLOW_FILES: FileTable = FileTable {
    table: "flow_file",
    qualifier: "variant",
    lock_class: 0x464c_4f57,
};

/// How a file is known: its content and a qualifier (the passive sensor,
/// the flow input variant).
#[derive(Debug, Clone)]
pub struct FileId<'a> {
    /// SHA-256 (hex) of the decompressed content.
    pub sha256: &'a str,
    /// Name as given, for the record.
    pub name: &'a str,
    pub qualifier: Option<&'a str>,
}

/// What to do with a file, decided under its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStart {
    /// Import it, skipping the first `lines` lines (0: from the start).
    Import(FileImport),
    /// A previous import finished it (and no `--force`).
    AlreadyImported,
}

/// One import of a file being made: its provenance row and the lines
/// committed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileImport {
    table: &'static FileTable,
    id: i64,
    lines: u64,
}

impl FileImport {
    /// Input lines already committed: the import resumes after them.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Advances the committed lines to `lines` in `tx` (the transaction
    /// that merges the batch those lines gave).
    pub(crate) fn advance(&mut self, tx: &mut postgres::Transaction<'_>, lines: u64) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET lines = $2, updated_at = now() WHERE id = $1",
            self.table.table
        );
        tx.execute(sql.as_str(), &[&self.id, &to_i64(lines)])?;
        self.lines = lines;
        Ok(())
    }

    /// Records that the whole file (`lines` lines) is committed.
    pub fn finish(self, client: &mut Client, lines: u64) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET lines = greatest(lines, $2), finished = true,
                 updated_at = now(), finished_at = now()
             WHERE id = $1",
            self.table.table
        );
        client.execute(sql.as_str(), &[&self.id, &to_i64(lines)])?;
        Ok(())
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Takes the lock on the file's content hash, held by this session until
/// [`unlock`] (or until the connection ends, e.g. the process is killed):
/// a second import of the same content waits for the first one to end,
/// then resumes or skips as the first one left the file.
pub fn lock(client: &mut Client, table: &FileTable, file: &FileId<'_>) -> Result<()> {
    let taken: bool = client
        .query_one(
            "SELECT pg_try_advisory_lock($1, hashtext($2))",
            &[&table.lock_class, &file.sha256],
        )?
        .get(0);
    if !taken {
        log::warn!(
            "{}: another import of the same content is running; waiting for it to end",
            file.name
        );
        client.execute(
            "SELECT pg_advisory_lock($1, hashtext($2))",
            &[&table.lock_class, &file.sha256],
        )?;
    }
    Ok(())
}

/// Releases the lock taken by [`lock`].
pub fn unlock(client: &mut Client, table: &FileTable, file: &FileId<'_>) -> Result<()> {
    client.execute(
        "SELECT pg_advisory_unlock($1, hashtext($2))",
        &[&table.lock_class, &file.sha256],
    )?;
    Ok(())
}

/// Decides, under the file's [`lock`], where its import starts: an
/// unfinished import of it (killed, or failed) is resumed, with or without
/// `force`, so that re-running the very command that was stopped completes
/// it; else a finished one means the file is skipped, unless `force`, which
/// starts a new import (as scan2db's `--force` stores the same content
/// again).
pub fn start(
    client: &mut Client,
    table: &'static FileTable,
    file: &FileId<'_>,
    force: bool,
) -> Result<FileStart> {
    let (name, qualifier) = (table.table, table.qualifier);
    let latest = client.query_opt(
        format!(
            "SELECT id, lines, finished FROM {name}
             WHERE sha256 = $1 AND {qualifier} IS NOT DISTINCT FROM $2
             ORDER BY finished, id DESC LIMIT 1"
        )
        .as_str(),
        &[&file.sha256, &file.qualifier],
    )?;
    if let Some(row) = latest {
        let id: i64 = row.get(0);
        let lines: i64 = row.get(1);
        let finished: bool = row.get(2);
        if !finished {
            client.execute(
                format!("UPDATE {name} SET name = $2 WHERE id = $1").as_str(),
                &[&id, &file.name],
            )?;
            return Ok(FileStart::Import(FileImport {
                table,
                id,
                lines: u64::try_from(lines).unwrap_or(0),
            }));
        }
        if !force {
            return Ok(FileStart::AlreadyImported);
        }
    }
    let id: i64 = client
        .query_one(
            format!(
                "INSERT INTO {name} (sha256, name, {qualifier}) VALUES ($1, $2, $3) RETURNING id"
            )
            .as_str(),
            &[&file.sha256, &file.name, &file.qualifier],
        )?
        .get(0);
    Ok(FileStart::Import(FileImport {
        table,
        id,
        lines: 0,
    }))
}
