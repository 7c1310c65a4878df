//! The error of the scan readers: a kind, a place (line and column, 1-based;
//! 0 when unknown) and a message.

use std::fmt;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The input ends before the document is complete (no `</nmaprun>`, EOF
    /// inside a host or a tag). The complete hosts have been yielded before
    /// this error: callers usually warn rather than fail.
    Truncated,
    /// Malformed XML or JSON.
    Syntax,
    /// An entity declaration or a custom entity reference (refused: no expansion).
    Entity,
    /// Well-formed input that is not what the format expects.
    Format,
    /// A format this crate recognises but does not read (yet).
    Unsupported,
    /// The underlying reader failed.
    Io,
}

/// A reader error with its place in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column (in bytes), 0 when unknown.
    pub column: u64,
    pub message: String,
}

impl ParseError {
    pub fn new(kind: ParseErrorKind, line: u64, column: u64, message: impl Into<String>) -> Self {
        ParseError {
            kind,
            line,
            column,
            message: message.into(),
        }
    }

    /// An error with no known place.
    pub fn nowhere(kind: ParseErrorKind, message: impl Into<String>) -> Self {
        Self::new(kind, 0, 0, message)
    }

    pub fn is_truncated(&self) -> bool {
        self.kind == ParseErrorKind::Truncated
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for ParseError {}
