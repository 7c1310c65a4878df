//! Reader for p0f v3 log files (`p0f -o FILE`), as `ivre p0f2db` imports
//! them (spec 2.2).
//!
//! Line format: `[YYYY/MM/DD HH:MM:SS] key=value|key=value|...` (the time is
//! read as UTC). Only `mod=syn` and `mod=syn+ack` lines give records; other
//! modules (`mtu`, `uptime`, `http request`, `http response`, `host change`,
//! `ip sharing`, ...) are skipped silently. A line that does not have the
//! bracket format, has a duplicated key, or is a SYN/SYN+ACK line without
//! `subj`, without the subject's `ip/port` key or without `raw_sig` is an
//! error carrying its line number; reading goes on. A read error (I/O,
//! decompression) ends the file.
//!
//! Record: recontype `P0FV3_SYN` / `P0FV3_SYN+ACK`, source `P0FV3`, value =
//! `raw_sig`, addr = IP of the subject (`cli` or `srv`), port = the server
//! port when the subject is the server (SYN+ACK); a client (SYN) record has
//! no port, so that a client's signature is one record whatever server it
//! connects to (IVRE 0.9.20 does so; the older golden dump has ports on SYN
//! records), infos: `os` (unless `???`), `app`, `dist`, `params` (unless
//! `none`).

use std::io::BufRead;
use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use super::error::{LineError, LineErrorKind};
use super::record::PassiveRecord;
use crate::escape::lossless_utf8;
use crate::reader::{Position, RecordReader};

/// What is wrong with a line of a p0f log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum P0fError {
    #[error("line does not start with [date]")]
    NoDate,
    #[error("missing ] after the date")]
    UnclosedDate,
    #[error("invalid date {0:?}")]
    Date(String),
    #[error("field without '=': {0:?}")]
    FieldWithoutEquals(String),
    #[error("duplicated key {0:?}")]
    DuplicatedKey(String),
    /// A key that the line's module requires (`mod`, `subj`, `raw_sig`, or
    /// the subject's endpoint key).
    #[error("missing {0}")]
    MissingKey(String),
    #[error("invalid subj {0:?}")]
    Subject(String),
    /// An endpoint that is not `ip/port`.
    #[error("invalid {key} {value:?}")]
    Endpoint { key: String, value: String },
}

/// Splits `ip/port` (IPv4 or IPv6) into its parts.
fn split_endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let (ip, port) = s.rsplit_once('/')?;
    Some((ip.parse().ok()?, port.parse().ok()?))
}

/// Parses one p0f log line. `Ok(None)` for lines of unused modules.
pub fn parse_line(line: &str, sensor: Option<&str>) -> Result<Option<PassiveRecord>, P0fError> {
    let line = line.trim_end_matches(['\r', '\n']);
    let rest = line.strip_prefix('[').ok_or(P0fError::NoDate)?;
    let (date, rest) = rest.split_once("] ").ok_or(P0fError::UnclosedDate)?;
    let ts = NaiveDateTime::parse_from_str(date, "%Y/%m/%d %H:%M:%S")
        .map_err(|_| P0fError::Date(date.to_owned()))?;
    let ts = Utc.from_utc_datetime(&ts);
    let mut fields: Vec<(&str, &str)> = Vec::with_capacity(10);
    for part in rest.split('|') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| P0fError::FieldWithoutEquals(part.to_owned()))?;
        if fields.iter().any(|(k2, _)| *k2 == k) {
            return Err(P0fError::DuplicatedKey(k.to_owned()));
        }
        fields.push((k, v));
    }
    let get = |k: &str| fields.iter().find(|(k2, _)| *k2 == k).map(|(_, v)| *v);
    let require = |k: &str| get(k).ok_or_else(|| P0fError::MissingKey(k.to_owned()));
    let module = require("mod")?;
    let recontype = match module {
        "syn" => "P0FV3_SYN",
        "syn+ack" => "P0FV3_SYN+ACK",
        _ => return Ok(None),
    };
    let subj = require("subj")?;
    if subj != "cli" && subj != "srv" {
        return Err(P0fError::Subject(subj.to_owned()));
    }
    let endpoint = require(subj)?;
    let invalid_endpoint = |key: &str, value: &str| P0fError::Endpoint {
        key: key.to_owned(),
        value: value.to_owned(),
    };
    let (addr, _) = split_endpoint(endpoint).ok_or_else(|| invalid_endpoint(subj, endpoint))?;
    let raw_sig = require("raw_sig")?;
    let mut rec = PassiveRecord::new(recontype, raw_sig, ts);
    rec.addr = Some(addr);
    rec.source = Some("P0FV3".into());
    rec.sensor = sensor.map(str::to_owned);
    if let Some(srv) = get("srv") {
        let (_, port) = split_endpoint(srv).ok_or_else(|| invalid_endpoint("srv", srv))?;
        if subj == "srv" {
            rec.port = Some(port);
        }
    }
    let infos = rec.infos_mut();
    if let Some(os) = get("os").filter(|v| *v != "???") {
        infos.insert("os".into(), Value::String(os.into()));
    }
    if let Some(app) = get("app") {
        infos.insert("app".into(), Value::String(app.into()));
    }
    if let Some(dist) = get("dist") {
        infos.insert("dist".into(), Value::String(dist.into()));
    }
    if let Some(params) = get("params").filter(|v| *v != "none") {
        infos.insert("params".into(), Value::String(params.into()));
    }
    if rec.infos.as_ref().is_some_and(|m| m.is_empty()) {
        rec.infos = None;
    }
    Ok(Some(rec))
}

/// Streaming reader of a p0f v3 log.
pub struct P0fReader<R> {
    input: R,
    line: u64,
    sensor: Option<String>,
    buf: Vec<u8>,
}

impl<R: BufRead> P0fReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        P0fReader {
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

impl<R: BufRead> RecordReader for P0fReader<R> {
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
            if text.trim().is_empty() {
                continue;
            }
            match parse_line(&text, self.sensor.as_deref()) {
                Ok(None) => continue,
                Ok(Some(rec)) => return Ok(Some(rec)),
                Err(error) => return Err(LineError::new(self.line, error)),
            }
        }
    }

    /// A bad line is skipped; a read error ends the file.
    fn is_fatal(&self, error: &LineError) -> bool {
        error.is_read()
    }

    /// The line read last.
    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syn_and_synack() {
        let log = "[2021/01/06 16:44:23] mod=syn|cli=10.255.255.2/60746|srv=10.1.4.4/445|subj=cli|os=Linux 2.2.x-3.x|dist=0|params=generic|raw_sig=4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0\n\
[2021/01/06 16:44:23] mod=mtu|cli=10.255.255.2/60746|srv=10.1.4.4/445|subj=cli|link=Ethernet or modem|raw_mtu=1500\n\
[2021/01/06 16:44:25] mod=syn+ack|cli=10.255.255.2/59182|srv=fc00::1/445|subj=srv|os=???|dist=0|params=none|raw_sig=4:128+0:0:1277:65535,8:mss:df,id+:0\n\
not a p0f line\n\
[2021/01/06 16:44:25] mod=syn|cli=1.2.3.4/1|cli=1.2.3.4/2|subj=cli|raw_sig=x\n\
[2021/01/06 16:44:25] mod=syn|cli=1.2.3.4/1|srv=1.2.3.5/2|subj=cli\n";
        let items: Vec<_> = P0fReader::new(log.as_bytes()).records().collect();
        assert_eq!(items.len(), 5);
        let a = items[0].as_ref().unwrap();
        assert_eq!(a.recontype, "P0FV3_SYN");
        assert_eq!(a.addr.unwrap().to_string(), "10.255.255.2");
        assert_eq!(a.port, None);
        assert_eq!(a.infos.as_ref().unwrap().len(), 3);
        let b = items[1].as_ref().unwrap();
        assert_eq!(b.recontype, "P0FV3_SYN+ACK");
        assert_eq!(b.addr.unwrap().to_string(), "fc00::1");
        assert_eq!(b.port, Some(445));
        assert_eq!(serde_json::to_string(&b.infos).unwrap(), r#"{"dist":"0"}"#);
        assert_eq!(items[2].as_ref().unwrap_err().line, 4);
        assert_eq!(
            items[2].as_ref().unwrap_err().to_string(),
            "line 4: line does not start with [date]"
        );
        assert!(matches!(
            items[3].as_ref().unwrap_err().kind,
            LineErrorKind::P0f(P0fError::DuplicatedKey(_))
        ));
        assert_eq!(items[4].as_ref().unwrap_err().line, 6);
    }
}
