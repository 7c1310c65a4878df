//! Errors of the passive input readers: a bad line is reported with its
//! number and reading goes on; a read error ends the file. Every reader
//! yields [`LineError`]s.

use super::airodump::AirodumpError;
use super::arp::ArpError;
use super::p0f::P0fError;
use super::weblog::WeblogError;
use super::zeek::ZeekError;

/// A line that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct LineError {
    /// 1-based line number in the input stream.
    pub line: u64,
    /// What is wrong.
    pub kind: LineErrorKind,
}

/// What is wrong with a line, by input format.
#[derive(Debug, thiserror::Error)]
pub enum LineErrorKind {
    /// The input could not be read (the reader stops there).
    #[error("read error: {0}")]
    Read(std::io::Error),
    #[error(transparent)]
    Zeek(#[from] ZeekError),
    #[error(transparent)]
    P0f(#[from] P0fError),
    #[error(transparent)]
    Airodump(#[from] AirodumpError),
    #[error(transparent)]
    Weblog(#[from] WeblogError),
    #[error(transparent)]
    Arp(#[from] ArpError),
}

impl LineError {
    /// Whether the input itself failed (I/O, decompression): the file
    /// cannot be read further.
    pub fn is_read(&self) -> bool {
        matches!(self.kind, LineErrorKind::Read(_))
    }

    pub(super) fn new(line: u64, kind: impl Into<LineErrorKind>) -> Self {
        LineError {
            line,
            kind: kind.into(),
        }
    }
}
