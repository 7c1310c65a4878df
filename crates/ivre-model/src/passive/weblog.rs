//! Reader for web server access logs in the NCSA "combined" format, the
//! default of Apache (`LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\"
//! \"%{User-agent}i\"" combined`) and Nginx (`log_format combined`), as
//! `ivre weblog2db` imports them into the passive purpose: the client's
//! user agent becomes an `HTTP_CLIENT_HEADER` / `USER-AGENT` observation of
//! the client's address, seen at the request's time.
//!
//! Format quirks handled: the time carries its own UTC offset
//! (`[17/May/2015:10:05:03 +0000]`); quoted fields escape `"` and `\` with a
//! backslash (Apache) or write bytes as `\xHH` (Nginx; kept as is, IVRE's
//! escaped-text convention); a user agent of `-` or empty means none (no
//! record, not an error); the "common" format (no referer, no user agent)
//! gives no record. A line whose client is not an IP address (Apache with
//! `HostnameLookups On`) or whose time cannot be read is an error for that
//! line only; a read error ends the file.

use std::io::BufRead;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::error::{LineError, LineErrorKind};
use super::record::PassiveRecord;
use crate::escape::lossless_utf8;
use crate::reader::{Position, RecordReader};

/// What is wrong with an access log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeblogError {
    #[error("client {0:?} is not an IP address")]
    Client(String),
    #[error("invalid time {0:?} (expected [dd/Mon/yyyy:HH:MM:SS +zzzz])")]
    Time(String),
    #[error("not an access log line (combined format): {0}")]
    Syntax(&'static str),
}

/// One access log line, the fields the importer uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine {
    pub client: IpAddr,
    pub time: DateTime<Utc>,
    pub request: String,
    pub referer: Option<String>,
    pub user_agent: Option<String>,
}

/// Splits off one blank-separated token.
fn token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(' ').unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// Splits off one quoted field (`"..."`, backslash escapes), unescaping
/// `\"` and `\\` only.
fn quoted(s: &str) -> Result<(String, &str), WeblogError> {
    let s = s.trim_start();
    let body = s
        .strip_prefix('"')
        .ok_or(WeblogError::Syntax("a quoted field is missing its quote"))?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    Err(WeblogError::Syntax("a quoted field is not closed"))
}

/// A field of `-` or nothing is absent.
fn present(s: String) -> Option<String> {
    if s.is_empty() || s == "-" {
        None
    } else {
        Some(s)
    }
}

/// Reads one line (without its newline).
pub fn parse_line(line: &str) -> Result<AccessLine, WeblogError> {
    let (client, rest) = token(line).ok_or(WeblogError::Syntax("empty line"))?;
    let client: IpAddr = client
        .parse()
        .map_err(|_| WeblogError::Client(client.to_string()))?;
    let (_ident, rest) = token(rest).ok_or(WeblogError::Syntax("no identity field"))?;
    let (_user, rest) = token(rest).ok_or(WeblogError::Syntax("no user field"))?;
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix('[')
        .ok_or(WeblogError::Syntax("no [time]"))?;
    let end = rest.find(']').ok_or(WeblogError::Syntax("no [time]"))?;
    let text = &rest[..end];
    let time = DateTime::parse_from_str(text, "%d/%b/%Y:%H:%M:%S %z")
        .map_err(|_| WeblogError::Time(text.to_string()))?
        .with_timezone(&Utc);
    let (request, rest) = quoted(&rest[end + 1..])?;
    let (_status, rest) = token(rest).ok_or(WeblogError::Syntax("no status"))?;
    let (_bytes, rest) = token(rest).ok_or(WeblogError::Syntax("no size"))?;
    // The common format stops here.
    let (referer, user_agent) = if rest.trim().is_empty() {
        (None, None)
    } else {
        let (referer, rest) = quoted(rest)?;
        let ua = if rest.trim().is_empty() {
            None
        } else {
            Some(quoted(rest)?.0)
        };
        (present(referer), ua.and_then(present))
    };
    Ok(AccessLine {
        client,
        time,
        request,
        referer,
        user_agent,
    })
}

/// The observations of one line: its user agent, if any.
pub fn records(line: &AccessLine, sensor: Option<&str>) -> Option<PassiveRecord> {
    let ua = line.user_agent.as_ref()?;
    let mut r = PassiveRecord::new("HTTP_CLIENT_HEADER", ua.clone(), line.time);
    r.addr = Some(line.client);
    r.source = Some("USER-AGENT".into());
    r.sensor = sensor.map(str::to_owned);
    Some(r)
}

/// Streaming reader of an access log.
pub struct WeblogReader<R> {
    input: R,
    line: u64,
    sensor: Option<String>,
    buf: Vec<u8>,
}

impl<R: BufRead> WeblogReader<R> {
    pub fn new(input: R) -> Self {
        WeblogReader {
            input,
            line: 0,
            sensor: None,
            buf: Vec::new(),
        }
    }

    /// Sets the sensor name written on every record.
    pub fn with_sensor(mut self, sensor: Option<String>) -> Self {
        self.sensor = sensor;
        self
    }
}

impl<R: BufRead> RecordReader for WeblogReader<R> {
    type Record = PassiveRecord;
    type Error = LineError;

    fn next_record(&mut self) -> Result<Option<PassiveRecord>, LineError> {
        loop {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return Ok(None),
                Ok(_) => self.line += 1,
                Err(e) => {
                    self.line += 1;
                    return Err(LineError::new(self.line, LineErrorKind::Read(e)));
                }
            }
            let text = lossless_utf8(&self.buf);
            let text = text.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            match parse_line(text) {
                Ok(l) => {
                    if let Some(r) = records(&l, self.sensor.as_deref()) {
                        return Ok(Some(r));
                    }
                }
                Err(e) => return Err(LineError::new(self.line, e)),
            }
        }
    }

    /// A bad line is skipped; a read error ends the file.
    fn is_fatal(&self, error: &LineError) -> bool {
        error.is_read()
    }

    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_and_common() {
        let l = parse_line(
            "83.149.9.216 - - [17/May/2015:10:05:03 +0200] \"GET /a HTTP/1.1\" 200 203023 \
             \"http://semicomplete.com/\" \"Mozilla/5.0 (say \\\"hi\\\")\"",
        )
        .unwrap();
        assert_eq!(l.client.to_string(), "83.149.9.216");
        assert_eq!(l.time.to_rfc3339(), "2015-05-17T08:05:03+00:00");
        assert_eq!(l.request, "GET /a HTTP/1.1");
        assert_eq!(l.referer.as_deref(), Some("http://semicomplete.com/"));
        assert_eq!(l.user_agent.as_deref(), Some("Mozilla/5.0 (say \"hi\")"));
        let r = records(&l, Some("WEB")).unwrap();
        assert_eq!(
            (
                r.recontype.as_str(),
                r.source.as_deref(),
                r.sensor.as_deref()
            ),
            ("HTTP_CLIENT_HEADER", Some("USER-AGENT"), Some("WEB"))
        );
        let common = parse_line(
            "2001:db8::1 - frank [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326",
        )
        .unwrap();
        assert_eq!(common.user_agent, None);
        assert!(records(&common, None).is_none());
        let none =
            parse_line("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"-\" 400 0 \"-\" \"-\"").unwrap();
        assert!(records(&none, None).is_none());
    }

    #[test]
    fn bad_lines() {
        assert!(matches!(
            parse_line("host.example - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1"),
            Err(WeblogError::Client(_))
        ));
        assert!(matches!(
            parse_line("1.2.3.4 - - [10/Foo/2000:13:55:36 -0700] \"GET /\" 200 1"),
            Err(WeblogError::Time(_))
        ));
        assert!(parse_line("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /").is_err());
        assert!(parse_line("1.2.3.4").is_err());
        assert!(parse_line("1.2.3.4 - - [").is_err());
    }

    #[test]
    fn reader_reports_lines() {
        let input = "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"-\" \"curl/7\"\n\
                     garbage\n\n\
                     5.6.7.8 - - [10/Oct/2000:13:55:37 -0700] \"GET /\" 200 1 \"-\" \"-\"\n\
                     5.6.7.8 - - [10/Oct/2000:13:55:38 -0700] \"GET /\" 200 1 \"-\" \"wget\"\n";
        let out: Vec<_> = WeblogReader::new(input.as_bytes()).records().collect();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].as_ref().unwrap().value, "curl/7");
        assert_eq!(out[1].as_ref().unwrap_err().line, 2);
        assert_eq!(out[2].as_ref().unwrap().value, "wget");
    }
}
