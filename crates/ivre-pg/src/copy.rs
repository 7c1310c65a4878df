//! Rows in PostgreSQL's COPY text format, buffered per table and sent with
//! `COPY ... FROM STDIN`: the fastest way to load many rows.

use anyhow::{Context, Result};
use postgres::Transaction;
use std::io::Write;

/// The rows of one table waiting to be copied.
pub struct CopyBuffer {
    statement: String,
    buf: Vec<u8>,
    rows: usize,
    /// Whether the current row has a field yet (for the tab separators).
    row_open: bool,
}

impl CopyBuffer {
    /// `table` and `columns` are fixed identifiers of ours, never user input.
    pub fn new(table: &str, columns: &[&str]) -> Self {
        CopyBuffer {
            statement: format!("COPY {table} ({}) FROM STDIN", columns.join(", ")),
            buf: Vec::with_capacity(64 * 1024),
            rows: 0,
            row_open: false,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    fn sep(&mut self) {
        if self.row_open {
            self.buf.push(b'\t');
        }
        self.row_open = true;
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.rows += 1;
        self.row_open = false;
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        escape_into(&mut self.buf, s);
        self
    }

    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    pub fn opt_float(&mut self, v: Option<f64>) -> &mut Self {
        match v.filter(|f| f.is_finite()) {
            Some(v) => {
                self.sep();
                let _ = write!(self.buf, "{v}");
                self
            }
            None => self.null(),
        }
    }

    /// A `text[]` value.
    pub fn text_array<'a>(&mut self, items: impl IntoIterator<Item = &'a str>) -> &mut Self {
        self.sep();
        let mut literal = String::from("{");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                literal.push(',');
            }
            literal.push('"');
            for c in item.chars() {
                if c == '"' || c == '\\' {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
        literal.push('}');
        escape_into(&mut self.buf, &literal);
        self
    }

    /// A `jsonb` value from a serialisable value.
    pub fn json(&mut self, v: &impl serde::Serialize) -> &mut Self {
        self.sep();
        let text = serde_json::to_string(v).expect("JSON values serialise");
        escape_into(&mut self.buf, &text);
        self
    }

    /// Sends the buffered rows within `tx` and empties the buffer.
    pub fn flush(&mut self, tx: &mut Transaction) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut writer = tx
            .copy_in(self.statement.as_str())
            .with_context(|| format!("cannot start {}", self.statement))?;
        writer.write_all(&self.buf)?;
        writer
            .finish()
            .with_context(|| format!("{} failed", self.statement))?;
        self.buf.clear();
        self.rows = 0;
        Ok(())
    }
}

/// COPY text escaping. NUL cannot be stored in PostgreSQL text; it is dropped.
fn escape_into(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            0 => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        buf.extend_from_slice(rep);
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_arrays() {
        let mut c = CopyBuffer::new("t", &["a", "b", "c", "d"]);
        c.text("x\ty\\z\n")
            .null()
            .text_array(["a\"b", "c,d"])
            .int(-1);
        c.end_row();
        assert_eq!(
            String::from_utf8(c.buf.clone()).unwrap(),
            "x\\ty\\\\z\\n\t\\N\t{\"a\\\\\"b\",\"c,d\"}\t-1\n"
        );
        assert_eq!(c.rows(), 1);
    }
}
