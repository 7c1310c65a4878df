//! Provenance of passive imports (table `passive_file`): the neutral
//! mechanism of [`crate::provenance`], a file being known by its content
//! and the sensor it is imported with (the sensor is part of every
//! observation's identity). Each batch is merged together with the lines
//! it completes ([`crate::passive::PassiveLoader::store_through`]).

use crate::provenance::{self as neutral, FileId, PASSIVE_FILES};
use crate::Result;
use postgres::Client;

pub use crate::provenance::{FileImport, FileStart};

/// How a passive file is known: its content and the sensor it is imported
/// with.
#[derive(Debug, Clone)]
pub struct PassiveFileId<'a> {
    /// SHA-256 (hex) of the decompressed content.
    pub sha256: &'a str,
    /// Name as given, for the record.
    pub name: &'a str,
    pub sensor: Option<&'a str>,
}

impl<'a> PassiveFileId<'a> {
    fn neutral(&self) -> FileId<'a> {
        FileId {
            sha256: self.sha256,
            name: self.name,
            qualifier: self.sensor,
        }
    }
}

/// Takes the lock on the file's content hash ([`neutral::lock`]).
pub fn lock(client: &mut Client, file: &PassiveFileId<'_>) -> Result<()> {
    neutral::lock(client, &PASSIVE_FILES, &file.neutral())
}

/// Releases the lock taken by [`lock`].
pub fn unlock(client: &mut Client, file: &PassiveFileId<'_>) -> Result<()> {
    neutral::unlock(client, &PASSIVE_FILES, &file.neutral())
}

/// Where the file's import starts ([`neutral::start`]).
pub fn start(client: &mut Client, file: &PassiveFileId<'_>, force: bool) -> Result<FileStart> {
    neutral::start(client, &PASSIVE_FILES, &file.neutral(), force)
}
