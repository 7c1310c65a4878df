//! Format detection and the single entry point of the scan readers (spec
//! scans.md §2.2): the first non-whitespace byte decides.
//!
//! * `<`: XML (Nmap or Masscan, decided by `<nmaprun scanner>`);
//! * `[`: a JSON array: Masscan `-oJ`;
//! * `{`: the keys of the first line: `addr` → IVRE JSON; `ip` with `ports`
//!   → Masscan `-oJ` NDJSON; other known keys → an "unsupported format X"
//!   error naming the format;
//! * empty input: zero records.
//!
//! Decompression (gzip, bzip2) is the caller's job.

use super::error::{ParseError, ParseErrorKind};
use super::ivre_json::IvreJsonReader;
use super::masscan::MasscanJsonReader;
use super::nmap_xml::{NmapXmlReader, ScanInfo};
use super::record::{Host, Source, Tag};
use serde_json::Value;
use std::io::{BufRead, Read};

/// The input formats the readers know about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFormat {
    /// Nmap or Masscan XML (the `<nmaprun scanner>` attribute tells which).
    Xml,
    /// IVRE JSON lines.
    IvreJson,
    /// Masscan `-oJ`: a JSON array, or NDJSON.
    MasscanJson,
    Empty,
}

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
        Some(b'<') => Ok(ScanFormat::Xml),
        Some(b'[') => Ok(ScanFormat::MasscanJson),
        Some(b'{') => {
            let newline = rest.iter().position(|&b| b == b'\n');
            detect_json_line(&rest[..newline.unwrap_or(rest.len())], newline.is_some())
        }
        Some(&c) => Err(ParseError::new(
            ParseErrorKind::Format,
            1,
            1,
            format!(
                "unknown file type: expected XML or JSON, found {}",
                if c.is_ascii_graphic() {
                    format!("{:?}", c as char)
                } else {
                    format!("byte 0x{c:02x}")
                }
            ),
        )),
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
    Ok((detect_format(&[first])?, prefix))
}

/// Tests the keys of the first line of a JSON input.
fn detect_json_line(line: &[u8], complete: bool) -> Result<ScanFormat, ParseError> {
    let mut cut_short = false;
    let keys: Vec<String> = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => o.keys().cloned().collect(),
        // a prefix of a long line, or cut short: look for the key names as text
        other => {
            cut_short = !complete && matches!(&other, Err(e) if e.is_eof());
            let text = String::from_utf8_lossy(line);
            [
                "addr",
                "ip",
                "ports",
                "_shodan",
                "matched",
                "matched-at",
                "template",
                "templateID",
                "template-id",
                "tls_connection",
                "input",
                "domain",
                "name",
                "altered_name",
                "resolver",
                "host",
                "rdx_en_stamp",
                "rec_type",
            ]
            .iter()
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
    let has = |k: &str| keys.iter().any(|x| x == k);
    if has("_shodan") {
        return Err(unsupported("Shodan export"));
    }
    if has("addr") {
        return Ok(ScanFormat::IvreJson);
    }
    if (has("matched") || has("matched-at"))
        && (has("template") || has("templateID") || has("template-id"))
    {
        return Err(unsupported("Nuclei"));
    }
    if has("tls_connection") {
        return Err(unsupported("tlsx"));
    }
    if has("input") {
        return Err(unsupported("httpx"));
    }
    if has("ip") && (has("ports") || has("rec_type")) {
        return Ok(ScanFormat::MasscanJson);
    }
    if has("ip") || has("domain") {
        return Err(unsupported("Zgrab2"));
    }
    if has("name") || has("altered_name") {
        return Err(unsupported("ZDNS"));
    }
    if has("resolver") {
        return Err(unsupported("dnsx"));
    }
    if has("host") {
        return Err(unsupported("Dismap"));
    }
    if has("rdx_en_stamp") {
        return Err(unsupported("citrix-netscaler-triage"));
    }
    Err(ParseError::new(
        ParseErrorKind::Format,
        1,
        1,
        "unknown file type: a JSON object with no known keys",
    ))
}

fn unsupported(what: &str) -> ParseError {
    ParseError::new(
        ParseErrorKind::Unsupported,
        1,
        1,
        format!("unsupported format {what}"),
    )
}

/// A reader of any supported scan format, with [`ReadOptions`] applied.
/// Iterate it for the records; [`ScanReader::scan_info`] gives the XML
/// scan-level information (complete once the iteration is over).
pub struct ScanReader<R: BufRead> {
    inner: Inner<Prefixed<R>>,
    opts: ReadOptions,
}

enum Inner<R: BufRead> {
    Empty,
    Xml(Box<NmapXmlReader<R>>),
    IvreJson(IvreJsonReader<R>),
    MasscanJson(MasscanJsonReader<R>),
}

impl<R: BufRead> ScanReader<R> {
    /// Detects the format of `input` and opens the matching reader.
    pub fn open(mut input: R, opts: &ReadOptions) -> Result<Self, ParseError> {
        let (format, prefix) = sniff(&mut input)?;
        let input = std::io::Cursor::new(prefix).chain(input);
        let inner = match format {
            ScanFormat::Empty => Inner::Empty,
            ScanFormat::Xml => Inner::Xml(Box::new(NmapXmlReader::new(input))),
            ScanFormat::IvreJson => Inner::IvreJson(IvreJsonReader::new(input)),
            ScanFormat::MasscanJson => Inner::MasscanJson(MasscanJsonReader::new(input)),
        };
        Ok(ScanReader {
            inner,
            opts: opts.clone(),
        })
    }

    pub fn format(&self) -> ScanFormat {
        match self.inner {
            Inner::Empty => ScanFormat::Empty,
            Inner::Xml(_) => ScanFormat::Xml,
            Inner::IvreJson(_) => ScanFormat::IvreJson,
            Inner::MasscanJson(_) => ScanFormat::MasscanJson,
        }
    }

    /// The `<nmaprun>`/`<runstats>` information of an XML input.
    pub fn scan_info(&self) -> Option<&ScanInfo> {
        match &self.inner {
            Inner::Xml(x) => Some(x.scan_info()),
            _ => None,
        }
    }
}

impl<R: BufRead> Iterator for ScanReader<R> {
    type Item = Result<Host, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let r = match &mut self.inner {
                Inner::Empty => None,
                Inner::Xml(x) => x.next(),
                Inner::IvreJson(x) => x.next(),
                Inner::MasscanJson(x) => x.next(),
            }?;
            match r {
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
        assert_eq!(fmt("\n<?xml version=\"1.0\"?>").unwrap(), ScanFormat::Xml);
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
        let e = fmt("{\"ip\": \"1.2.3.4\", \"data\": {}}\n").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Unsupported);
        assert!(e.message.contains("Zgrab2"));
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
