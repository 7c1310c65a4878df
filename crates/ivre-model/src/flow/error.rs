//! Errors of the flow input readers: a bad line is reported with its number
//! and reading goes on; a read error ends the file.

use crate::zeeklog::HeaderError;

/// A line that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct FlowReadError {
    /// 1-based line number in the input stream.
    pub line: u64,
    pub kind: FlowErrorKind,
}

/// What is wrong with a line.
#[derive(Debug, thiserror::Error)]
pub enum FlowErrorKind {
    /// The input could not be read (the reader stops there).
    #[error("read error: {0}")]
    Read(std::io::Error),
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("expected {expected} fields, got {got}")]
    FieldCount { expected: usize, got: usize },
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("invalid {field} {value:?}")]
    Invalid { field: &'static str, value: String },
    #[error("invalid JSON: {0}")]
    Json(serde_json::Error),
    #[error("JSON line is not an object")]
    NotAnObject,
    /// A CSV line before the header line said what the columns are.
    #[error("no header line before the data")]
    NoHeader,
}

impl FlowReadError {
    pub fn new(line: u64, kind: impl Into<FlowErrorKind>) -> Self {
        FlowReadError {
            line,
            kind: kind.into(),
        }
    }

    /// Whether the input itself failed (I/O, decompression): the file
    /// cannot be read further.
    pub fn is_read(&self) -> bool {
        matches!(self.kind, FlowErrorKind::Read(_))
    }
}

/// An invalid value of a field.
pub(crate) fn invalid(field: &'static str, value: impl Into<String>) -> FlowErrorKind {
    FlowErrorKind::Invalid {
        field,
        value: value.into(),
    }
}

/// Reads one line into `buf` (line ending removed); `Ok(false)` at the end
/// of the input. Counts the line in `line`.
pub(crate) fn read_line(
    input: &mut impl std::io::BufRead,
    buf: &mut Vec<u8>,
    line: &mut u64,
) -> Result<bool, FlowReadError> {
    buf.clear();
    match input.read_until(b'\n', buf) {
        Ok(0) => Ok(false),
        Ok(_) => {
            *line += 1;
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            Ok(true)
        }
        Err(e) => {
            *line += 1;
            Err(FlowReadError::new(*line, FlowErrorKind::Read(e)))
        }
    }
}
