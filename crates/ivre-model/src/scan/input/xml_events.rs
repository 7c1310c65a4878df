//! A thin layer over quick-xml for the scan readers: line/column tracking while
//! streaming, owned events, entity refusal, truncation detection, and the
//! limits that keep hostile input cheap (nesting depth; duplicate attributes
//! found in linear time).

use crate::reader::Position;
use crate::scan::error::{ParseError, ParseErrorKind};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};
use std::collections::{HashSet, VecDeque};
use std::io::{self, BufRead, Read};

/// A `BufRead` that counts the newlines it hands out, so that a byte offset
/// (within the current event) can be turned into a line and a column.
/// Only the newlines since the last [`LineCounter::mark`] are remembered, so
/// memory is bounded by the size of one XML event.
pub(crate) struct LineCounter<R> {
    inner: R,
    consumed: u64,
    /// Newlines before the ones in `recent`.
    base_lines: u64,
    /// Offset just after the last newline before the ones in `recent`.
    base_line_start: u64,
    /// Offsets of the newlines consumed since the mark.
    recent: VecDeque<u64>,
    eof: bool,
}

impl<R: BufRead> LineCounter<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineCounter {
            inner,
            consumed: 0,
            base_lines: 0,
            base_line_start: 0,
            recent: VecDeque::new(),
            eof: false,
        }
    }

    /// Forgets the newlines before `offset` (keeping their count).
    pub(crate) fn mark(&mut self, offset: u64) {
        while let Some(&nl) = self.recent.front() {
            if nl >= offset {
                break;
            }
            self.recent.pop_front();
            self.base_lines += 1;
            self.base_line_start = nl + 1;
        }
    }

    /// 1-based (line, column) of a byte offset at or after the mark.
    pub(crate) fn position(&self, offset: u64) -> (u64, u64) {
        let mut line = self.base_lines;
        let mut start = self.base_line_start;
        for &nl in &self.recent {
            if nl >= offset {
                break;
            }
            line += 1;
            start = nl + 1;
        }
        (line + 1, offset.saturating_sub(start) + 1)
    }

    pub(crate) fn at_eof(&self) -> bool {
        self.eof
    }
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let buf = self.inner.fill_buf()?;
        if buf.is_empty() {
            self.eof = true;
        }
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let n = amt.min(buf.len());
            for (i, &b) in buf[..n].iter().enumerate() {
                if b == b'\n' {
                    self.recent.push_back(self.consumed + i as u64);
                }
            }
        }
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

/// The deepest element nesting accepted (the root element is at depth 1).
///
/// Nmap's output nests `nmaprun > host > ports > port > script` and then the
/// NSE tables of a script, a handful of levels deep in every script Nmap
/// ships: real scan results stay under 20 levels. Deeper input is refused
/// with an error rather than building values that every consumer (JSON
/// serialization, `Drop`, the XML output of `scancli`) walks recursively.
/// 100 also keeps every stored record importable again from its IVRE JSON
/// export: a host script's table at element depth d is at JSON depth d + 2,
/// and serde_json refuses 128 levels (any bound up to 126 would do).
const MAX_DEPTH: usize = 100;

/// Up to this many attributes, duplicates are looked for by comparing every
/// pair (cheaper than hashing for the few attributes of real elements).
const PAIRWISE_DUPLICATE_CHECK_MAX: usize = 16;

/// An owned XML event with its attributes decoded and unescaped.
#[derive(Debug)]
pub(crate) enum Ev {
    Start(String, Vec<(String, String)>),
    End(String),
    Text(String),
    Eof,
}

/// The event source of the scan readers.
pub(crate) struct XmlEvents<R: BufRead> {
    reader: Reader<LineCounter<R>>,
    buf: Vec<u8>,
    /// The end of the empty element (`<a/>`) just returned as a start.
    pending_end: Option<String>,
    /// Offset of the start of the last event returned.
    event_start: u64,
    /// How many elements are open (bounded by [`MAX_DEPTH`]).
    depth: usize,
}

impl<R: BufRead> XmlEvents<R> {
    pub(crate) fn new(input: R) -> Self {
        let mut reader = Reader::from_reader(LineCounter::new(input));
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        XmlEvents {
            reader,
            buf: Vec::with_capacity(4096),
            pending_end: None,
            event_start: 0,
            depth: 0,
        }
    }

    /// The start of the last event.
    pub(crate) fn position(&self) -> Position {
        let (line, column) = self.reader.get_ref().position(self.event_start);
        Position { line, column }
    }

    /// An error located at the start of the last event.
    pub(crate) fn error_here(
        &self,
        kind: ParseErrorKind,
        message: impl Into<String>,
    ) -> ParseError {
        self.error_at(self.event_start, kind, message)
    }

    fn error_at(
        &self,
        offset: u64,
        kind: ParseErrorKind,
        message: impl Into<String>,
    ) -> ParseError {
        let (line, column) = self.reader.get_ref().position(offset);
        ParseError::new(kind, line, column, message)
    }

    /// The next meaningful event (comments, declarations, processing
    /// instructions and the DOCTYPE are skipped; a DOCTYPE declaring entities
    /// is refused).
    pub(crate) fn next(&mut self) -> Result<Ev, ParseError> {
        loop {
            let pos = self.reader.buffer_position();
            self.reader.get_mut().mark(pos);
            self.event_start = pos;
            if let Some(name) = self.pending_end.take() {
                return Ok(Ev::End(name));
            }
            self.buf.clear();
            let ev = match self.reader.read_event_into(&mut self.buf) {
                Ok(ev) => ev,
                Err(e) => return Err(self.convert_error(e)),
            };
            let empty = matches!(ev, Event::Empty(_));
            let out = match ev {
                Event::Start(e) | Event::Empty(e) => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    if self.depth >= MAX_DEPTH {
                        return Err(self.error_at(
                            pos,
                            ParseErrorKind::Syntax,
                            format!(
                                "<{name}> nested more than {MAX_DEPTH} elements deep \
                                 (no scan result nests so deep)"
                            ),
                        ));
                    }
                    let mut attrs = Vec::new();
                    // quick-xml's own duplicate check compares each attribute
                    // with all the previous ones: quadratic time on an element
                    // with many attributes. `first_duplicate` is linear.
                    for a in e.attributes().with_checks(false) {
                        let a = match a {
                            Ok(a) => a,
                            Err(err) => {
                                return Err(self.error_at(
                                    pos,
                                    ParseErrorKind::Syntax,
                                    format!("bad attribute in <{name}>: {err}"),
                                ))
                            }
                        };
                        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                        let value = match a.unescape_value() {
                            Ok(v) => v.into_owned(),
                            Err(err) => return Err(self.convert_error_at(pos, err)),
                        };
                        attrs.push((key, value));
                    }
                    if let Some(key) = first_duplicate(&attrs) {
                        return Err(self.error_at(
                            pos,
                            ParseErrorKind::Syntax,
                            format!("bad attribute in <{name}>: duplicated attribute {key:?}"),
                        ));
                    }
                    if empty {
                        self.pending_end = Some(name.clone());
                    } else {
                        self.depth += 1;
                    }
                    Ev::Start(name, attrs)
                }
                Event::End(e) => {
                    self.depth = self.depth.saturating_sub(1);
                    Ev::End(String::from_utf8_lossy(e.name().as_ref()).into_owned())
                }
                Event::Text(t) => match t.unescape() {
                    Ok(s) => Ev::Text(s.into_owned()),
                    Err(err) => return Err(self.convert_error_at(pos, err)),
                },
                Event::CData(c) => match std::str::from_utf8(&c) {
                    Ok(s) => Ev::Text(s.to_string()),
                    Err(_) => {
                        return Err(self.error_at(
                            pos,
                            ParseErrorKind::Syntax,
                            "invalid UTF-8 in CDATA",
                        ))
                    }
                },
                Event::DocType(d) => {
                    let raw = String::from_utf8_lossy(&d);
                    if raw.contains("ENTITY") {
                        return Err(self.error_at(
                            pos,
                            ParseErrorKind::Entity,
                            "entity declarations are refused (DOCTYPE with <!ENTITY>)",
                        ));
                    }
                    continue;
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => continue,
                Event::Eof => Ev::Eof,
            };
            return Ok(out);
        }
    }

    fn convert_error_at(&self, pos: u64, err: quick_xml::Error) -> ParseError {
        use quick_xml::escape::EscapeError;
        match &err {
            quick_xml::Error::Io(e) => self.error_at(pos, ParseErrorKind::Io, e.to_string()),
            quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name)) => self.error_at(
                pos,
                ParseErrorKind::Entity,
                format!("entity reference &{name}; refused (only XML's predefined entities are allowed)"),
            ),
            // The event in error runs to the end of the input: it was cut short.
            _ if self.reader.get_ref().at_eof() => self.error_at(
                pos,
                ParseErrorKind::Truncated,
                format!("input cut short: {err}"),
            ),
            _ => self.error_at(pos, ParseErrorKind::Syntax, err.to_string()),
        }
    }

    fn convert_error(&self, err: quick_xml::Error) -> ParseError {
        self.convert_error_at(self.reader.error_position(), err)
    }

    /// Skips the content of the element whose start tag was just read.
    pub(crate) fn skip_element(&mut self) -> Result<(), ParseError> {
        let mut depth = 1usize;
        loop {
            match self.next()? {
                Ev::Start(..) => depth += 1,
                Ev::End(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Ev::Text(_) => {}
                Ev::Eof => {
                    return Err(self.error_here(
                        ParseErrorKind::Truncated,
                        "input cut short inside an element",
                    ))
                }
            }
        }
    }
}

/// The first attribute name that appears twice, in time linear in the number
/// of attributes.
fn first_duplicate(attrs: &[(String, String)]) -> Option<&str> {
    if attrs.len() <= PAIRWISE_DUPLICATE_CHECK_MAX {
        return attrs
            .iter()
            .enumerate()
            .find(|(i, (key, _))| attrs[..*i].iter().any(|(k, _)| k == key))
            .map(|(_, (key, _))| key.as_str());
    }
    let mut seen = HashSet::with_capacity(attrs.len());
    attrs
        .iter()
        .map(|(key, _)| key.as_str())
        .find(|key| !seen.insert(*key))
}

/// Looks up an attribute.
pub(crate) fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The attributes of an element as a JSON object of strings.
pub(crate) fn attrs_map(attrs: &[(String, String)]) -> Map<String, Value> {
    attrs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}
