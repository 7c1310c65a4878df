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
use std::io::BufRead;

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

/// The records of a scan file.
pub type HostIter<'a> = Box<dyn Iterator<Item = Result<Host, ParseError>> + 'a>;

/// Looks at the start of `input` (without consuming it) to tell its format.
pub fn detect_format<R: BufRead>(input: &mut R) -> Result<ScanFormat, ParseError> {
    // skip leading whitespace (and a UTF-8 BOM)
    let first = loop {
        let buf = input
            .fill_buf()
            .map_err(|e| ParseError::nowhere(ParseErrorKind::Io, e.to_string()))?;
        if buf.is_empty() {
            return Ok(ScanFormat::Empty);
        }
        let skip = if buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            buf.iter().take_while(|b| b.is_ascii_whitespace()).count()
        };
        if skip == 0 {
            break buf[0];
        }
        input.consume(skip);
    };
    match first {
        b'<' => Ok(ScanFormat::Xml),
        b'[' => Ok(ScanFormat::MasscanJson),
        b'{' => detect_json_line(input),
        c => Err(ParseError::new(
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

/// Peeks at the first line (up to 1 MiB; `fill_buf` of a `BufReader` may
/// show less, in which case it falls back to the prefix) and tests its keys.
fn detect_json_line<R: BufRead>(input: &mut R) -> Result<ScanFormat, ParseError> {
    let buf = input
        .fill_buf()
        .map_err(|e| ParseError::nowhere(ParseErrorKind::Io, e.to_string()))?;
    let newline = buf.iter().position(|&b| b == b'\n');
    let line = &buf[..newline.unwrap_or(buf.len())];
    let mut cut_short = false;
    let keys: Vec<String> = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => o.keys().cloned().collect(),
        // a line longer than the buffer, or cut short: look for the key names as text
        other => {
            cut_short = newline.is_none() && matches!(&other, Err(e) if e.is_eof());
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
    inner: Inner<R>,
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
        let inner = match detect_format(&mut input)? {
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

/// A compression format recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

/// Tells the compression of a file from its first bytes (IVRE checks gzip
/// `1f 8b` and bzip2 `BZh`; xz and zstd are recognised too).
pub fn sniff_compression(prefix: &[u8]) -> Compression {
    if prefix.starts_with(b"\x1f\x8b") {
        Compression::Gzip
    } else if prefix.starts_with(b"BZh") {
        Compression::Bzip2
    } else if prefix.starts_with(b"\xfd7zXZ\x00") {
        Compression::Xz
    } else if prefix.starts_with(b"\x28\xb5\x2f\xfd") {
        Compression::Zstd
    } else {
        Compression::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> Result<ScanFormat, ParseError> {
        detect_format(&mut s.as_bytes())
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
