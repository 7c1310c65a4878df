//! Rows in PostgreSQL's COPY text format, buffered per table and sent with
//! `COPY ... FROM STDIN`: the fastest way to load many rows.
//!
//! A table's columns are described once ([`ColumnSet`]): each column is
//! named next to how its value is written from a typed row, and both the
//! column list of the COPY statement and every row come from that one list,
//! so that they cannot drift apart.

use crate::{Error, Result};
use chrono::{DateTime, Datelike, Timelike, Utc};
use postgres::Transaction;
use std::io::Write;
use std::marker::PhantomData;

/// Columns written from one kind of row, in COPY order.
pub trait ColumnSet: 'static {
    /// What a row is written from (typically borrowed model records).
    type Row<'r>;
    const COLUMNS: &'static [Column<Self>];

    /// The column names, in COPY order.
    fn names() -> impl Iterator<Item = &'static str> {
        Self::COLUMNS.iter().map(|column| column.name)
    }

    /// Writes the fields of `row` (not ending the row: a set may be only
    /// part of one).
    fn write(buf: &mut CopyBuffer, row: &Self::Row<'_>) {
        for column in Self::COLUMNS {
            (column.write)(buf, row);
        }
    }
}

/// A table whose rows are one [`ColumnSet`].
pub trait CopyTable: ColumnSet {
    const NAME: &'static str;
}

/// How a column's value is written from a row.
pub type WriteColumn<S> =
    for<'b, 'r> fn(&'b mut CopyBuffer, &<S as ColumnSet>::Row<'r>) -> &'b mut CopyBuffer;

/// One column: its name and how its value is written from a row.
pub struct Column<S: ColumnSet + ?Sized> {
    name: &'static str,
    write: WriteColumn<S>,
}

impl<S: ColumnSet + ?Sized> Column<S> {
    pub const fn new(name: &'static str, write: WriteColumn<S>) -> Self {
        Column { name, write }
    }
}

/// A column list, one column a line: `"name" => |buffer, row| value`,
/// the closure writing the column's value (a [`WriteColumn`]).
macro_rules! columns {
    ($($name:literal => $write:expr),* $(,)?) => {
        &[$($crate::copy::Column::new($name, $write)),*]
    };
}
pub(crate) use columns;

/// Declares a [`CopyTable`], its rows and its [`columns!`]:
/// `Type = "table" for Row<'r> { "name" => |buffer, row| value, ... }`.
macro_rules! copy_table {
    ($(#[$attr:meta])* $table:ident = $name:literal for $row:ty { $($columns:tt)* }) => {
        $(#[$attr])*
        pub struct $table;

        impl $crate::copy::CopyTable for $table {
            const NAME: &'static str = $name;
        }

        impl $crate::copy::ColumnSet for $table {
            type Row<'r> = $row;
            const COLUMNS: &'static [$crate::copy::Column<Self>] =
                $crate::copy::columns![$($columns)*];
        }
    };
}
pub(crate) use copy_table;

/// The rows of one [`CopyTable`] waiting to be copied.
pub struct TableBuffer<T> {
    buffer: CopyBuffer,
    table: PhantomData<T>,
}

impl<T: CopyTable> TableBuffer<T> {
    pub fn new() -> Self {
        Self::named(T::NAME)
    }
}

impl<T: ColumnSet> TableBuffer<T> {
    /// A buffer for the table `name` (a fixed identifier of ours, never
    /// user input) with `T`'s columns: for twin tables of one shape.
    pub fn named(name: &str) -> Self {
        TableBuffer {
            buffer: CopyBuffer::new(name, T::names()),
            table: PhantomData,
        }
    }

    /// Queues one row.
    pub fn push(&mut self, row: &T::Row<'_>) {
        T::write(&mut self.buffer, row);
        self.buffer.end_row();
    }

    pub fn bytes(&self) -> usize {
        self.buffer.bytes()
    }

    /// Sends the queued rows within `tx`.
    pub fn flush(&mut self, tx: &mut Transaction) -> Result<()> {
        self.buffer.flush(tx)
    }
}

impl<T: CopyTable> Default for TableBuffer<T> {
    fn default() -> Self {
        Self::new()
    }
}

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
    pub fn new<'c>(table: &str, columns: impl IntoIterator<Item = &'c str>) -> Self {
        let columns: Vec<&str> = columns.into_iter().collect();
        CopyBuffer {
            statement: format!("COPY {table} ({}) FROM STDIN", columns.join(", ")),
            buf: Vec::with_capacity(64 * 1024),
            rows: 0,
            row_open: false,
        }
    }

    /// A buffer that is never sent, to encode fields ahead of time (see
    /// [`CopyBuffer::raw`]).
    pub fn detached(capacity: usize) -> Self {
        CopyBuffer {
            statement: String::new(),
            buf: Vec::with_capacity(capacity),
            rows: 0,
            row_open: false,
        }
    }

    /// The encoded bytes (of a [`CopyBuffer::detached`] buffer).
    pub fn into_bytes(self) -> Box<[u8]> {
        self.buf.into_boxed_slice()
    }

    /// Fields already encoded by another buffer (one or several,
    /// tab-separated), written as they are.
    pub fn raw(&mut self, encoded: &[u8]) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(encoded);
        self
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

    /// `value` written by `write`, or NULL.
    pub fn opt<T>(
        &mut self,
        value: Option<T>,
        write: impl FnOnce(&mut Self, T) -> &mut Self,
    ) -> &mut Self {
        match value {
            Some(value) => write(self, value),
            None => self.null(),
        }
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        escape_into(&mut self.buf, s);
        self
    }

    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        self.opt(s, Self::text)
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        self.opt(v, Self::int)
    }

    /// A `double precision` value; NULL for NaN and infinities.
    pub fn opt_float(&mut self, v: Option<f64>) -> &mut Self {
        self.opt(v.filter(|f| f.is_finite()), |b, v| {
            b.sep();
            let _ = write!(b.buf, "{v}");
            b
        })
    }

    /// A `text[]` value.
    pub fn text_array(&mut self, items: impl IntoIterator<Item = impl AsRef<str>>) -> &mut Self {
        self.sep();
        let mut literal = String::from("{");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                literal.push(',');
            }
            literal.push('"');
            for c in item.as_ref().chars() {
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

    /// A `jsonb` value from a serialisable value, serialised straight into
    /// the buffer (no intermediate `serde_json::Value`). Serialising fails
    /// only for a map with non-string keys or a failing writer; our records
    /// have neither.
    pub fn json(&mut self, v: &impl serde::Serialize) -> &mut Self {
        self.sep();
        serde_json::to_writer(Escaping(&mut self.buf), v)
            .expect("records serialise to JSON (string keys, infallible buffer)");
        self
    }

    /// A `bytea` value (hex form).
    pub fn bytea(&mut self, data: &[u8]) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.sep();
        // `\\x`: an escaped backslash (COPY text), then `x`.
        self.buf.extend_from_slice(b"\\\\x");
        for &b in data {
            self.buf.push(HEX[usize::from(b >> 4)]);
            self.buf.push(HEX[usize::from(b & 15)]);
        }
        self
    }

    /// An `inet` value (canonical text, IPv4 written without the
    /// formatting machinery).
    pub fn opt_ip(&mut self, ip: Option<&std::net::IpAddr>) -> &mut Self {
        self.opt(ip, |b, ip| {
            b.sep();
            write_ip(&mut b.buf, ip);
            b
        })
    }

    /// A `timestamptz` value, `YYYY-MM-DD HH:MM:SS.ffffff+00`.
    pub fn timestamptz(&mut self, t: &DateTime<Utc>) -> &mut Self {
        self.sep();
        let year = t.year();
        if !(0..=9999).contains(&year) {
            let _ = write!(self.buf, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00"));
            return self;
        }
        let digits = |v: u32, width: usize, buf: &mut Vec<u8>| {
            let mut d = [b'0'; 6];
            let mut v = v;
            for i in (0..width).rev() {
                d[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
            buf.extend_from_slice(&d[..width]);
        };
        let b = &mut self.buf;
        digits(year as u32, 4, b);
        b.push(b'-');
        digits(t.month(), 2, b);
        b.push(b'-');
        digits(t.day(), 2, b);
        b.push(b' ');
        digits(t.hour(), 2, b);
        b.push(b':');
        digits(t.minute(), 2, b);
        b.push(b':');
        digits(t.second(), 2, b);
        b.push(b'.');
        // Leap seconds (nanos >= 1e9) are written as chrono writes them.
        digits(t.timestamp_subsec_micros() % 1_000_000, 6, b);
        b.extend_from_slice(b"+00");
        self
    }

    /// Sends the buffered rows within `tx` and empties the buffer.
    pub fn flush(&mut self, tx: &mut Transaction) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut writer = tx.copy_in(self.statement.as_str())?;
        // One write into an empty writer only buffers; the rows are sent,
        // and a server error reported, by `finish`.
        writer
            .write_all(&self.buf)
            .map_err(|e| Error::io(self.statement.as_str(), e))?;
        writer.finish()?;
        self.buf.clear();
        self.rows = 0;
        Ok(())
    }
}

/// Appends the canonical text of an address (what `Display` writes).
pub fn write_ip(buf: &mut Vec<u8>, ip: &std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf.push(b'.');
                }
                if o >= 100 {
                    buf.push(b'0' + o / 100);
                }
                if o >= 10 {
                    buf.push(b'0' + o / 10 % 10);
                }
                buf.push(b'0' + o % 10);
            }
        }
        std::net::IpAddr::V6(_) => {
            let _ = write!(buf, "{ip}");
        }
    }
}

/// A writer that applies COPY text escaping to what goes through it.
struct Escaping<'a>(&'a mut Vec<u8>);

impl Write for Escaping<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        escape_bytes_into(self.0, data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// COPY text escaping. NUL cannot be stored in PostgreSQL text; it is dropped.
fn escape_into(buf: &mut Vec<u8>, s: &str) {
    escape_bytes_into(buf, s.as_bytes())
}

fn escape_bytes_into(buf: &mut Vec<u8>, bytes: &[u8]) {
    if !bytes
        .iter()
        .any(|&b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r' | 0))
    {
        buf.extend_from_slice(bytes);
        return;
    }
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
        let mut c = CopyBuffer::new("t", ["a", "b", "c", "d"]);
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

    #[test]
    fn addresses() {
        for text in [
            "0.0.0.0",
            "10.0.99.100",
            "255.255.255.255",
            "1.20.3.40",
            "2001:db8::1",
            "::ffff:1.2.3.4",
        ] {
            let ip: std::net::IpAddr = text.parse().unwrap();
            let mut buf = Vec::new();
            write_ip(&mut buf, &ip);
            assert_eq!(String::from_utf8(buf).unwrap(), ip.to_string());
        }
    }

    #[test]
    fn typed_values() {
        let mut c = CopyBuffer::new("t", ["a"]);
        let t = DateTime::from_timestamp(1_600_000_000, 1_000).unwrap();
        c.bytea(&[0, 0xab])
            .timestamptz(&t)
            .timestamptz(&DateTime::from_timestamp(-62_167_219_200 - 86_400, 0).unwrap())
            .opt_ip(Some(&"10.0.0.1".parse().unwrap()))
            .json(&serde_json::json!({"a": "x\ty\\"}));
        c.end_row();
        assert_eq!(
            String::from_utf8(c.buf.clone()).unwrap(),
            "\\\\x00ab\t2020-09-13 12:26:40.000001+00\t-0001-12-31 00:00:00.000000+00\t10.0.0.1\t{\"a\":\"x\\\\ty\\\\\\\\\"}\n"
        );
        let mut old = Vec::new();
        write!(old, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00")).unwrap();
        assert!(c.buf.windows(old.len()).any(|w| w == old.as_slice()));
    }
}
