//! Provenance of passive imports (table `passive_file`): what makes a
//! passive import exactly-once. A file is imported in batches, each merged
//! in its own transaction together with the count of input lines it
//! completes ([`crate::passive::PassiveLoader::store_through`]); a re-run
//! resumes after the lines committed, and a finished file is skipped.

use crate::Result;
use postgres::Client;

/// First key of the advisory lock an import holds on its content hash
/// ("PASV"), so that the lock shares no key with other users of advisory
/// locks (scan imports use "SCAN").
const PASSIVE_FILE_LOCK_CLASS: i32 = 0x5041_5356;

/// How a passive file is known: its content and the sensor it is imported
/// with (the sensor is part of every observation's identity).
#[derive(Debug, Clone)]
pub struct PassiveFileId<'a> {
    /// SHA-256 (hex) of the decompressed content.
    pub sha256: &'a str,
    /// Name as given, for the record.
    pub name: &'a str,
    pub sensor: Option<&'a str>,
}

/// What to do with a file, decided under its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStart {
    /// Import it, skipping the first `lines` lines (0: from the start).
    Import(FileImport),
    /// A previous import finished it (and no `--force`).
    AlreadyImported,
}

/// One import of a file being made: its `passive_file` row and the lines
/// committed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileImport {
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
        tx.execute(
            "UPDATE passive_file SET lines = $2, updated_at = now() WHERE id = $1",
            &[&self.id, &to_i64(lines)],
        )?;
        self.lines = lines;
        Ok(())
    }

    /// Records that the whole file (`lines` lines) is committed.
    pub fn finish(self, client: &mut Client, lines: u64) -> Result<()> {
        client.execute(
            "UPDATE passive_file SET lines = greatest(lines, $2), finished = true,
                 updated_at = now(), finished_at = now()
             WHERE id = $1",
            &[&self.id, &to_i64(lines)],
        )?;
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
pub fn lock(client: &mut Client, file: &PassiveFileId<'_>) -> Result<()> {
    let taken: bool = client
        .query_one(
            "SELECT pg_try_advisory_lock($1, hashtext($2))",
            &[&PASSIVE_FILE_LOCK_CLASS, &file.sha256],
        )?
        .get(0);
    if !taken {
        log::warn!(
            "{}: another import of the same content is running; waiting for it to end",
            file.name
        );
        client.execute(
            "SELECT pg_advisory_lock($1, hashtext($2))",
            &[&PASSIVE_FILE_LOCK_CLASS, &file.sha256],
        )?;
    }
    Ok(())
}

/// Releases the lock taken by [`lock`].
pub fn unlock(client: &mut Client, file: &PassiveFileId<'_>) -> Result<()> {
    client.execute(
        "SELECT pg_advisory_unlock($1, hashtext($2))",
        &[&PASSIVE_FILE_LOCK_CLASS, &file.sha256],
    )?;
    Ok(())
}

/// Decides, under the file's [`lock`], where its import starts: an
/// unfinished import of it (killed, or failed) is resumed, with or without
/// `force`, so that re-running the very command that was stopped completes
/// it; else a finished one means the file is skipped, unless `force`, which
/// starts a new import (as scan2db's `--force` stores the same content
/// again).
pub fn start(client: &mut Client, file: &PassiveFileId<'_>, force: bool) -> Result<FileStart> {
    let latest = client.query_opt(
        "SELECT id, lines, finished FROM passive_file
         WHERE sha256 = $1 AND sensor IS NOT DISTINCT FROM $2
         ORDER BY finished, id DESC LIMIT 1",
        &[&file.sha256, &file.sensor],
    )?;
    if let Some(row) = latest {
        let id: i64 = row.get(0);
        let lines: i64 = row.get(1);
        let finished: bool = row.get(2);
        if !finished {
            client.execute(
                "UPDATE passive_file SET name = $2 WHERE id = $1",
                &[&id, &file.name],
            )?;
            return Ok(FileStart::Import(FileImport {
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
            "INSERT INTO passive_file (sha256, name, sensor) VALUES ($1, $2, $3) RETURNING id",
            &[&file.sha256, &file.name, &file.sensor],
        )?
        .get(0);
    Ok(FileStart::Import(FileImport { id, lines: 0 }))
}
