//! What every scan input reader provides, and the one adapter that turns a
//! reader into an iterator: the rule "a fatal error ends the file, any other
//! error skips one record" is applied here, for every format alike.

use crate::scan::error::{ParseError, ParseErrorKind};
use crate::scan::record::Host;
use chrono::NaiveDateTime;
use serde_json::{Map, Value};

/// A place in the input (1-based; 0 when unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    /// In bytes.
    pub column: u64,
}

/// A streaming reader of one input format.
pub trait RecordReader {
    /// The next record; `Ok(None)` at the end of the input.
    fn next_record(&mut self) -> Result<Option<Host>, ParseError>;

    /// Whether `error` (returned by [`RecordReader::next_record`]) ends the
    /// file; otherwise only the record in error is skipped.
    fn is_fatal(&self, error: &ParseError) -> bool;

    /// Where the reader is: the start of the record (or element) being read.
    fn position(&self) -> Position;

    /// An error located at [`RecordReader::position`].
    fn error_here(&self, kind: ParseErrorKind, message: impl Into<String>) -> ParseError
    where
        Self: Sized,
    {
        let Position { line, column } = self.position();
        ParseError::new(kind, line, column, message)
    }

    /// What the input said about the scan itself, for formats that say it.
    fn scan_info(&self) -> Option<&ScanInfo> {
        None
    }
}

impl<T: RecordReader + ?Sized> RecordReader for Box<T> {
    fn next_record(&mut self) -> Result<Option<Host>, ParseError> {
        (**self).next_record()
    }

    fn is_fatal(&self, error: &ParseError) -> bool {
        (**self).is_fatal(error)
    }

    fn position(&self) -> Position {
        (**self).position()
    }

    fn scan_info(&self) -> Option<&ScanInfo> {
        (**self).scan_info()
    }
}

/// The records of a reader, as an iterator: after a fatal error (and at the
/// end of the input) it yields nothing more.
pub struct Records<T> {
    reader: T,
    done: bool,
}

impl<T: RecordReader> Records<T> {
    pub fn new(reader: T) -> Self {
        Records {
            reader,
            done: false,
        }
    }

    pub fn reader(&self) -> &T {
        &self.reader
    }
}

impl<T: RecordReader> Iterator for Records<T> {
    type Item = Result<Host, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.next_record() {
            Ok(Some(host)) => Some(Ok(host)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = self.reader.is_fatal(&e);
                Some(Err(e))
            }
        }
    }
}

/// What a reader learnt about the scan itself (Nmap and Masscan XML:
/// `<nmaprun>` and `<runstats>`). `end` and the `hosts_*` counts are known
/// only once the whole file is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanInfo {
    /// `nmap`, `masscan`, ...
    pub scanner: Option<String>,
    pub version: Option<String>,
    pub args: Option<String>,
    pub start: Option<NaiveDateTime>,
    /// From `<runstats><finished time>`.
    pub end: Option<NaiveDateTime>,
    pub xmloutputversion: Option<String>,
    /// `<scaninfo>` elements, attributes as strings.
    pub scaninfo: Vec<Map<String, Value>>,
    pub elapsed: Option<String>,
    pub exit: Option<String>,
    pub summary: Option<String>,
    pub hosts_up: Option<u64>,
    pub hosts_down: Option<u64>,
    pub hosts_total: Option<u64>,
    /// True once `</nmaprun>` was seen.
    pub complete: bool,
}
