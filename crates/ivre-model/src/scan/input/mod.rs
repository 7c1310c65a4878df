//! The scan input formats and the single entry point of their readers (spec
//! scans.md §2.2). The first non-whitespace byte decides:
//!
//! * `<`: XML (Nmap or Masscan, decided by `<nmaprun scanner>`);
//! * `[`: a JSON array: Masscan `-oJ`;
//! * `{`: the keys of the first line: `addr` → IVRE JSON; `ip` with `ports`
//!   → Masscan `-oJ` NDJSON; Nuclei, tlsx, httpx, Zgrab2 and dnsx keys →
//!   their readers ([`tools`]); other known keys (Shodan, ZDNS, Dismap...)
//!   → an "unsupported format X" error naming the format;
//! * empty input: zero records.
//!
//! Decompression (gzip, bzip2) is the caller's job.
//!
//! A new input format is a reader module (implementing [`RecordReader`] and
//! [`HostReader`]) and, in this file, its `mod` line, its variant of [`ScanFormat`] (name, reader)
//! and its rule in `RULES`.

mod ivre_json;
mod json_lines;
mod masscan_json;
mod nmap_host;
mod nmap_xml;
mod tools;
mod xml_events;

pub use ivre_json::{host_from_json, migrate, IvreJsonReader, IvreRecordError};
pub use masscan_json::{masscan_json_host, MasscanJsonError, MasscanJsonReader};
pub use nmap_xml::NmapXmlReader;
pub use tools::{Tool, ToolOptions, ToolReader};

use crate::reader::{Position, RecordReader, Records};
use crate::scan::error::{ParseError, ParseErrorKind};
use crate::scan::record::{Host, Source, Tag};
use chrono::NaiveDateTime;
use serde_json::{Map, Value};
use std::io::{BufRead, Read};

/// A reader of scan hosts: a [`RecordReader`] that may also say what the
/// input told about the scan itself.
pub trait HostReader: RecordReader<Record = Host, Error = ParseError> {
    /// What the input said about the scan itself, for formats that say it.
    fn scan_info(&self) -> Option<&ScanInfo> {
        None
    }

    /// An error located at [`RecordReader::position`].
    fn error_here(&self, kind: ParseErrorKind, message: impl Into<String>) -> ParseError
    where
        Self: Sized,
    {
        let Position { line, column } = self.position();
        ParseError::new(kind, line, column, message)
    }
}

impl<T: HostReader + ?Sized> HostReader for Box<T> {
    fn scan_info(&self) -> Option<&ScanInfo> {
        (**self).scan_info()
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

/// The input formats the readers know about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFormat {
    /// Nmap XML; also any XML input until its `<nmaprun scanner>` says Masscan.
    NmapXml,
    /// Masscan XML.
    MasscanXml,
    /// IVRE JSON lines.
    IvreJson,
    /// Masscan `-oJ`: a JSON array, or NDJSON.
    MasscanJson,
    /// The NDJSON output of another tool (Zgrab2, Nuclei, httpx, tlsx, dnsx).
    Tool(Tool),
    /// Nothing but whitespace: zero records.
    Empty,
}

impl ScanFormat {
    /// The name stored with the imported file.
    pub fn name(self) -> &'static str {
        match self {
            ScanFormat::NmapXml => "nmap-xml",
            ScanFormat::MasscanXml => "masscan-xml",
            ScanFormat::IvreJson => "ivre-json",
            ScanFormat::MasscanJson => "masscan-json",
            ScanFormat::Tool(t) => t.name(),
            ScanFormat::Empty => "empty",
        }
    }

    /// Whether the records come from Masscan (their banners are worth
    /// fingerprinting).
    pub fn is_masscan(self) -> bool {
        matches!(self, ScanFormat::MasscanXml | ScanFormat::MasscanJson)
    }

    fn reader<'a>(self, input: impl BufRead + 'a, opts: &ReadOptions) -> Box<dyn HostReader + 'a> {
        match self {
            ScanFormat::Tool(t) => Box::new(ToolReader::new(input, t, opts.tools)),
            ScanFormat::NmapXml | ScanFormat::MasscanXml => Box::new(NmapXmlReader::new(input)),
            ScanFormat::IvreJson => Box::new(IvreJsonReader::new(input)),
            ScanFormat::MasscanJson => Box::new(MasscanJsonReader::new(input)),
            ScanFormat::Empty => Box::new(NoRecords),
        }
    }

    /// The format as the scan-level information of the input tells it.
    fn refined(self, info: Option<&ScanInfo>) -> ScanFormat {
        match info.and_then(|i| i.scanner.as_deref()) {
            Some("masscan") if self == ScanFormat::NmapXml => ScanFormat::MasscanXml,
            _ => self,
        }
    }
}

/// How an input is recognised.
enum Sniff {
    /// By the first byte after whitespace (and a UTF-8 BOM).
    FirstByte(u8),
    /// By the keys of the JSON object on the first line: one key of each
    /// group must be there.
    JsonKeys(&'static [&'static [&'static str]]),
}

/// What a recognised input is.
enum Verdict {
    Read(ScanFormat),
    /// A format known by name but not read: an error naming it.
    Unsupported(&'static str),
}

/// The recognition rules, tried in order.
const RULES: &[(Sniff, Verdict)] = {
    use ScanFormat::*;
    use Sniff::*;
    use Verdict::*;
    &[
        (FirstByte(b'<'), Read(NmapXml)),
        (FirstByte(b'['), Read(MasscanJson)),
        (JsonKeys(&[&["_shodan"]]), Unsupported("Shodan export")),
        (JsonKeys(&[&["addr"]]), Read(IvreJson)),
        (
            JsonKeys(&[
                &["matched", "matched-at"],
                &["template", "templateID", "template-id"],
            ]),
            Read(Tool(tools::Tool::Nuclei)),
        ),
        (
            JsonKeys(&[&["tls_connection"]]),
            Read(Tool(tools::Tool::Tlsx)),
        ),
        (JsonKeys(&[&["input"]]), Read(Tool(tools::Tool::Httpx))),
        (
            JsonKeys(&[&["ip"], &["ports", "rec_type"]]),
            Read(MasscanJson),
        ),
        (
            JsonKeys(&[&["ip", "domain"]]),
            Read(Tool(tools::Tool::Zgrab2)),
        ),
        (JsonKeys(&[&["name", "altered_name"]]), Unsupported("ZDNS")),
        (JsonKeys(&[&["resolver"]]), Read(Tool(tools::Tool::Dnsx))),
        (JsonKeys(&[&["host"]]), Unsupported("Dismap")),
        (
            JsonKeys(&[&["rdx_en_stamp"]]),
            Unsupported("citrix-netscaler-triage"),
        ),
    ]
};

impl Verdict {
    fn format(&self) -> Result<ScanFormat, ParseError> {
        match self {
            Verdict::Read(format) => Ok(*format),
            Verdict::Unsupported(what) => Err(ParseError::new(
                ParseErrorKind::Unsupported,
                1,
                1,
                format!("unsupported format {what}"),
            )),
        }
    }
}

/// The input of no format: zero records.
struct NoRecords;

impl RecordReader for NoRecords {
    type Record = Host;
    type Error = ParseError;

    fn next_record(&mut self) -> Result<Option<Host>, ParseError> {
        Ok(None)
    }

    fn is_fatal(&self, _: &ParseError) -> bool {
        true
    }

    fn position(&self) -> Position {
        Position::default()
    }
}

impl HostReader for NoRecords {}

/// What `scan2db` applies to every record (spec §2.1, §2.5).
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Replace the record categories (sorted, unique) when not empty.
    pub categories: Vec<String>,
    /// Replace the record source when set.
    pub source: Option<String>,
    /// Merged into the record tags.
    pub tags: Vec<Tag>,
    /// `--port`: keep only hosts that have a `ports` element.
    pub port_only: bool,
    /// `--open-ports`: keep only hosts with at least one open port.
    pub open_ports_only: bool,
    /// What the tool readers take (`--zgrab-port`).
    pub tools: ToolOptions,
}

impl ReadOptions {
    /// Whether a host passes `--port` / `--open-ports`.
    pub fn keep(&self, h: &Host) -> bool {
        (!self.port_only || h.ports.is_some()) && (!self.open_ports_only || h.has_open_ports())
    }

    /// Applies categories, source and tags.
    pub fn apply(&self, h: &mut Host) {
        if !self.categories.is_empty() {
            h.set_categories(&self.categories);
        }
        if let Some(s) = &self.source {
            h.source = Some(Source::One(s.clone()));
        }
        if !self.tags.is_empty() {
            h.add_tags(self.tags.iter().cloned());
        }
    }
}

/// The input given back its first bytes, read for detection.
type Prefixed<R> = std::io::Chain<std::io::Cursor<Vec<u8>>, R>;

/// The records of a scan file.
pub type HostIter<'a> = Box<dyn Iterator<Item = Result<Host, ParseError>> + 'a>;

/// Tells the format of an input from its first bytes (ideally at least its
/// first line; a JSON first line cut short is tested by looking for the key
/// names in its text).
pub fn detect_format(prefix: &[u8]) -> Result<ScanFormat, ParseError> {
    let mut rest = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
    rest = &rest[skip..];
    match rest.first() {
        None => Ok(ScanFormat::Empty),
        Some(b'{') => {
            let newline = rest.iter().position(|&b| b == b'\n');
            detect_json_line(&rest[..newline.unwrap_or(rest.len())], newline.is_some())
        }
        Some(&c) => match RULES
            .iter()
            .find(|(sniff, _)| matches!(sniff, Sniff::FirstByte(b) if *b == c))
        {
            Some((_, verdict)) => verdict.format(),
            None => Err(ParseError::new(
                ParseErrorKind::Format,
                1,
                1,
                format!(
                    "unknown file type: expected XML or JSON, found {}{}",
                    if c.is_ascii_graphic() {
                        format!("{:?}", c as char)
                    } else {
                        format!("byte 0x{c:02x}")
                    },
                    hint_for_first_line(rest)
                ),
            )),
        },
    }
}

/// What a user who fed a known but unsupported output should do instead,
/// judged from the first line (`; ...`), or nothing.
fn hint_for_first_line(rest: &[u8]) -> &'static str {
    let line = &rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())];
    let nmap_text = [
        &b"# Nmap "[..],
        b"Starting Nmap ",
        b"Nmap scan report for ",
        b"Host: ",
    ];
    if nmap_text.iter().any(|start| line.starts_with(start)) {
        "; this is Nmap's normal or grepable output, which cannot be imported: \
         run nmap with -oX - (XML on stdout) or -oX FILE and import that"
    } else if line.starts_with(b"#masscan") {
        "; this is Masscan's list output: run masscan with -oX FILE and import that"
    } else {
        ""
    }
}

/// Reads the start of `input`: leading whitespace, then the first line when
/// it is a JSON object. Returns the format and the bytes read (to be given
/// back to the reader, so that line numbers stay right).
fn sniff<R: BufRead>(input: &mut R) -> Result<(ScanFormat, Vec<u8>), ParseError> {
    let io = |e: std::io::Error| ParseError::nowhere(ParseErrorKind::Io, e.to_string());
    let mut prefix = Vec::new();
    let mut first_chunk = true;
    let first = loop {
        let buf = input.fill_buf().map_err(io)?;
        if buf.is_empty() {
            return Ok((ScanFormat::Empty, prefix));
        }
        let bom = if first_chunk && buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        first_chunk = false;
        let ws = buf[bom..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        // keep the newlines (capped) for the line numbers of later errors
        if prefix.len() < 1 << 20 {
            prefix.extend(buf[bom..bom + ws].iter().filter(|&&b| b == b'\n'));
        }
        let first = buf.get(bom + ws).copied();
        input.consume(bom + ws);
        if let Some(c) = first {
            break c;
        }
    };
    if first == b'{' {
        let mut line = Vec::new();
        input.read_until(b'\n', &mut line).map_err(io)?;
        let complete = line.ends_with(b"\n");
        let format = detect_json_line(&line, complete)?;
        prefix.extend_from_slice(&line);
        return Ok((format, prefix));
    }
    // `first` was left in the buffer: give the buffered start of the first
    // line, for the hint of an unknown format.
    let format = detect_format(input.fill_buf().map_err(io)?)?;
    Ok((format, prefix))
}

/// Tests the keys of the first line of a JSON input against [`RULES`].
fn detect_json_line(line: &[u8], complete: bool) -> Result<ScanFormat, ParseError> {
    let key_groups = || {
        RULES.iter().flat_map(|(sniff, _)| match sniff {
            Sniff::JsonKeys(groups) => *groups,
            Sniff::FirstByte(_) => &[],
        })
    };
    let mut cut_short = false;
    let keys: Vec<String> = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => o.keys().cloned().collect(),
        // a prefix of a long line, or cut short: look for the key names as text
        other => {
            cut_short = !complete && matches!(&other, Err(e) if e.is_eof());
            let text = String::from_utf8_lossy(line);
            key_groups()
                .flat_map(|group| group.iter())
                .filter(|k| text.contains(&format!("\"{k}\"")))
                .map(|k| k.to_string())
                .collect()
        }
    };
    if keys.is_empty() && cut_short {
        return Err(ParseError::new(
            ParseErrorKind::Truncated,
            1,
            line.len() as u64 + 1,
            "input cut short in the first JSON record",
        ));
    }
    let has = |k: &&str| keys.iter().any(|x| x == k);
    let rule = RULES.iter().find(|(sniff, _)| match sniff {
        Sniff::JsonKeys(groups) => groups.iter().all(|group| group.iter().any(has)),
        Sniff::FirstByte(_) => false,
    });
    match rule {
        Some((_, verdict)) => verdict.format(),
        None => Err(ParseError::new(
            ParseErrorKind::Format,
            1,
            1,
            "unknown file type: a JSON object with no known keys",
        )),
    }
}

/// A reader of any supported scan format, with [`ReadOptions`] applied.
/// Iterate it for the records; [`ScanReader::scan_info`] gives the XML
/// scan-level information (complete once the iteration is over).
pub struct ScanReader<'a> {
    format: ScanFormat,
    records: Records<Box<dyn HostReader + 'a>>,
    opts: ReadOptions,
}

impl<'a> ScanReader<'a> {
    /// Detects the format of `input` and opens the matching reader.
    pub fn open<R: BufRead + 'a>(mut input: R, opts: &ReadOptions) -> Result<Self, ParseError> {
        let (format, prefix) = sniff(&mut input)?;
        let input: Prefixed<R> = std::io::Cursor::new(prefix).chain(input);
        Ok(ScanReader {
            format,
            records: Records::new(format.reader(input, opts)),
            opts: opts.clone(),
        })
    }

    /// The format of the input, as far as read: an XML input is
    /// [`ScanFormat::NmapXml`] until its root element says Masscan.
    pub fn format(&self) -> ScanFormat {
        self.format.refined(self.scan_info())
    }

    /// Where the reader is: for the host just read, its line (JSON) or the
    /// end of its element (XML), to name in a warning about it.
    pub fn position(&self) -> Position {
        self.records.reader().position()
    }

    /// The `<nmaprun>`/`<runstats>` information of an XML input.
    pub fn scan_info(&self) -> Option<&ScanInfo> {
        self.records.reader().scan_info()
    }
}

impl Iterator for ScanReader<'_> {
    type Item = Result<Host, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.records.next()? {
                Ok(mut h) => {
                    if !self.opts.keep(&h) {
                        continue;
                    }
                    self.opts.apply(&mut h);
                    return Some(Ok(h));
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The single entry point of `ivre-scan2db`: detects the format and returns
/// the records, with `opts` applied exactly as IVRE (filters on the parsed
/// record, then categories replaced, source replaced, tags merged). Use
/// [`ScanReader::open`] to also get the scan-level information.
pub fn read_scan<'a, R: BufRead + 'a>(
    input: R,
    opts: &ReadOptions,
) -> Result<HostIter<'a>, ParseError> {
    Ok(Box::new(ScanReader::open(input, opts)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> Result<ScanFormat, ParseError> {
        let f = detect_format(s.as_bytes());
        // the reader's sniffing agrees
        let r = ScanReader::open(s.as_bytes(), &ReadOptions::default()).map(|r| r.format());
        assert_eq!(f, r, "{s:?}");
        f
    }

    #[test]
    fn detection() {
        assert_eq!(fmt("").unwrap(), ScanFormat::Empty);
        assert_eq!(fmt("  \n ").unwrap(), ScanFormat::Empty);
        assert_eq!(
            fmt("\n<?xml version=\"1.0\"?>").unwrap(),
            ScanFormat::NmapXml
        );
        assert_eq!(
            fmt("[\n{\"ip\": \"1.2.3.4\"}").unwrap(),
            ScanFormat::MasscanJson
        );
        assert_eq!(
            fmt("{\"addr\": \"1.2.3.4\"}\n").unwrap(),
            ScanFormat::IvreJson
        );
        assert_eq!(
            fmt("{\"ip\": \"1.2.3.4\", \"ports\": []}\n").unwrap(),
            ScanFormat::MasscanJson
        );
        assert_eq!(
            fmt("{\"ip\": \"1.2.3.4\", \"data\": {}}\n").unwrap(),
            ScanFormat::Tool(Tool::Zgrab2)
        );
        let e = fmt("{\"_shodan\": {}}\n").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Unsupported);
        assert!(e.message.contains("Shodan"));
        assert!(fmt("\x00\x01junk").unwrap_err().message.contains("0x00"));
        assert_eq!(
            read_scan("".as_bytes(), &ReadOptions::default())
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn line_numbers_count_leading_blank_lines() {
        let doc = "\n\n<nmaprun scanner=\"nmap\">\n<host></hostx></nmaprun>";
        let e = read_scan(doc.as_bytes(), &ReadOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!((e.kind, e.line), (ParseErrorKind::Syntax, 4), "{e}");
        let doc = "\n{\"addr\": \"192.0.2.1\"}\n{\"addr\": 1.2.3}\n";
        let errs: Vec<_> = read_scan(doc.as_bytes(), &ReadOptions::default())
            .unwrap()
            .filter_map(Result::err)
            .collect();
        assert_eq!(errs[0].line, 3, "{}", errs[0]);
    }

    #[test]
    fn long_first_line() {
        // a first record longer than the reader's buffer
        let line = format!(
            "{{\"state\": \"up\", \"x\": \"{}\", \"addr\": \"192.0.2.1\"}}\n",
            "a".repeat(100_000)
        );
        let input = std::io::BufReader::with_capacity(64, line.as_bytes());
        let r = ScanReader::open(input, &ReadOptions::default()).unwrap();
        assert_eq!(r.format(), ScanFormat::IvreJson);
        assert_eq!(r.count(), 1);
    }

    #[test]
    fn options_applied() {
        let line = "{\"addr\": \"192.0.2.1\", \"categories\": [\"OLD\"], \"source\": \"old\", \"ports\": [{\"protocol\": \"tcp\", \"port\": 80, \"state_state\": \"closed\"}]}\n";
        let opts = ReadOptions {
            categories: vec!["b".into(), "a".into(), "b".into()],
            source: Some("S".into()),
            tags: vec![Tag::parse("CDN:info:x")],
            ..Default::default()
        };
        let hosts: Vec<Host> = read_scan(line.as_bytes(), &opts)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(hosts[0].categories.as_deref().unwrap(), ["a", "b"]);
        assert_eq!(hosts[0].source, Some(Source::One("S".into())));
        assert_eq!(hosts[0].tags.as_ref().unwrap().len(), 1);
        let opts = ReadOptions {
            open_ports_only: true,
            ..Default::default()
        };
        assert_eq!(read_scan(line.as_bytes(), &opts).unwrap().count(), 0);
    }
}
