//! The line-by-line reading shared by the JSON readers (IVRE JSON lines,
//! Masscan `-oJ` / `-oD`): one JSON value per line, lines numbered for the
//! errors.

use crate::reader::Position;
use crate::scan::error::{ParseError, ParseErrorKind};
use serde_json::Value;
use std::io::{self, BufRead};

pub(super) struct JsonLines<R> {
    input: R,
    /// Lines read so far: the number of the line read last.
    line: u64,
    buf: String,
}

impl<R: BufRead> JsonLines<R> {
    pub(super) fn new(input: R) -> Self {
        JsonLines {
            input,
            line: 0,
            buf: String::new(),
        }
    }

    /// Reads the next line; `false` at the end of the input.
    pub(super) fn next_line(&mut self) -> io::Result<bool> {
        self.buf.clear();
        if self.input.read_line(&mut self.buf)? == 0 {
            return Ok(false);
        }
        self.line += 1;
        Ok(true)
    }

    /// The line read last, without its surrounding white space.
    pub(super) fn text(&self) -> &str {
        self.buf.trim()
    }

    /// The number of the line read last (0 before the first).
    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// The start of the line read last.
    pub(super) fn position(&self) -> Position {
        Position {
            line: self.line,
            column: 1,
        }
    }

    /// Parses `json`, a part of the line read last, as a JSON value of the
    /// named format. A syntax error on a line without its end of line is the
    /// input cut short ([`ParseErrorKind::Truncated`]).
    pub(super) fn parse(&self, json: &str, format: &str) -> Result<Value, ParseError> {
        serde_json::from_str(json).map_err(|e| {
            let kind = if self.buf.ends_with('\n') {
                ParseErrorKind::Syntax
            } else {
                ParseErrorKind::Truncated
            };
            ParseError::new(
                kind,
                self.line,
                e.column() as u64,
                format!("invalid {format}: {e}"),
            )
        })
    }
}
