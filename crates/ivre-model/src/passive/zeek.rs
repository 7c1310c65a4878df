//! Reader for Zeek `passive_recon` logs (spec 2.1.2, 2.1.5, 2.1.6).
//!
//! Two encodings are accepted, line by line, so they may even be mixed:
//!
//! * Zeek ASCII/TSV: header lines start with `#` (`#separator \x09`,
//!   `#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#open`,
//!   `#fields`, `#types`, `#close`); they may re-appear mid-stream
//!   (concatenated logs) and are re-parsed. The unset field (`-`) is absent,
//!   the empty field (`(empty)`) is the empty string. Values keep Zeek's
//!   escaped text form (`\xNN`, `\\`): as in IVRE, only the normalisation of
//!   some recontypes decodes them. A data line before any `#fields` line is
//!   read with the standard `passive_recon` columns.
//! * Zeek JSON logging: a line starting with `{` is one JSON object with the
//!   same keys.
//!
//! Columns: `ts` (epoch seconds, UTC), `uid` (dropped), `host`, `srvport`,
//! `recon_type` (`PassiveRecon::` prefix stripped), `source`, `value`
//! (mandatory), `targetval` (kept only when `host` is unset). Unknown
//! columns are ignored.
//!
//! Every line gives at most one record; a malformed line gives a
//! [`LineError`] (with its 1-based line number) and reading goes on; a read
//! error (I/O, decompression) ends the file.

use std::io::BufRead;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::{LineError, LineErrorKind};
use super::record::{epoch_to_utc, PassiveRecord};
use crate::escape::lossless_utf8;
use crate::reader::{Position, RecordReader};
use crate::zeeklog::{Directive, HeaderError, ZeekHeader};

/// What is wrong with a line of a Zeek log.
#[derive(Debug, thiserror::Error)]
pub enum ZeekError {
    #[error("empty #separator")]
    EmptySeparator,
    #[error("#fields without any field")]
    NoFields,
    #[error("expected {expected} fields, got {got}")]
    FieldCount { expected: usize, got: usize },
    /// A TSV `ts` cell that is not an epoch.
    #[error("invalid ts {0:?}")]
    TsvTime(String),
    #[error("invalid JSON: {0}")]
    Json(serde_json::Error),
    #[error("JSON line is not an object")]
    NotAnObject,
    /// A JSON `ts` that is neither an epoch nor an IVRE time.
    #[error("invalid ts {0}")]
    JsonTime(Value),
    /// A JSON value that is neither a string nor a number.
    #[error("invalid {field}: {value}")]
    JsonField { field: &'static str, value: Value },
    #[error(transparent)]
    Observation(#[from] ObservationError),
    /// A Zeek log of another kind (its `#fields` have no `recon_type`):
    /// the whole file is refused, with the tool that imports it.
    #[error(
        "this is a Zeek {path} log, not a passive_recon one (its #fields have no recon_type): \
         ivre-passiverecon2db imports the logs of IVRE's passive_recon Zeek script; \
         Zeek's own logs (conn.log, dns.log, http.log, ...) are flows, imported by ivre-zeek2db"
    )]
    NotPassiveRecon { path: String },
}

/// Why the fields of an observation do not make a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObservationError {
    #[error("missing ts")]
    MissingTime,
    #[error("missing recon_type")]
    MissingReconType,
    #[error("empty recon_type")]
    EmptyReconType,
    #[error("missing value")]
    MissingValue,
    #[error("invalid host address {0:?}")]
    Host(String),
    #[error("invalid srvport {0:?}")]
    Port(String),
}

/// The standard columns of a `passive_recon` log.
pub const DEFAULT_FIELDS: [&str; 8] = [
    "ts",
    "uid",
    "host",
    "srvport",
    "recon_type",
    "source",
    "value",
    "targetval",
];

/// Positions of the columns that are read (the last one of a name wins, as
/// when the values were assigned in column order).
#[derive(Debug, Clone, Default)]
struct Columns {
    ts: Option<usize>,
    host: Option<usize>,
    srvport: Option<usize>,
    recon_type: Option<usize>,
    source: Option<usize>,
    value: Option<usize>,
    targetval: Option<usize>,
}

impl Columns {
    fn of(fields: &[String]) -> Self {
        let mut c = Columns::default();
        for (i, name) in fields.iter().enumerate() {
            let slot = match name.as_str() {
                "ts" => &mut c.ts,
                "host" => &mut c.host,
                "srvport" => &mut c.srvport,
                "recon_type" => &mut c.recon_type,
                "source" => &mut c.source,
                "value" => &mut c.value,
                "targetval" => &mut c.targetval,
                _ => continue,
            };
            *slot = Some(i);
        }
        c
    }
}

/// The fields of one observation, before it becomes a record.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RawObservation {
    pub ts: Option<DateTime<Utc>>,
    pub host: Option<String>,
    pub srvport: Option<String>,
    pub recon_type: Option<String>,
    pub source: Option<String>,
    pub value: Option<String>,
    pub targetval: Option<String>,
}

impl RawObservation {
    /// Builds the record (spec 2.1.6 step 2).
    pub fn into_record(self, sensor: Option<&str>) -> Result<PassiveRecord, ObservationError> {
        let ts = self.ts.ok_or(ObservationError::MissingTime)?;
        let recontype = self.recon_type.ok_or(ObservationError::MissingReconType)?;
        let recontype = recontype
            .strip_prefix("PassiveRecon::")
            .unwrap_or(&recontype)
            .to_owned();
        if recontype.is_empty() {
            return Err(ObservationError::EmptyReconType);
        }
        let value = self.value.ok_or(ObservationError::MissingValue)?;
        let mut rec = PassiveRecord::new(recontype, value, ts);
        match self.host {
            Some(h) => {
                let addr: IpAddr = h.parse().map_err(|_| ObservationError::Host(h.clone()))?;
                rec.addr = Some(addr);
            }
            None => rec.targetval = self.targetval,
        }
        if let Some(p) = self.srvport {
            let p = p.split('/').next().unwrap_or_default();
            rec.port = Some(
                p.parse()
                    .map_err(|_| ObservationError::Port(p.to_owned()))?,
            );
        }
        rec.source = self.source;
        rec.sensor = sensor.map(str::to_owned);
        Ok(rec)
    }
}

/// Streaming reader of a `passive_recon` log.
pub struct ZeekReader<R> {
    input: R,
    line: u64,
    header: ZeekHeader,
    columns: Columns,
    sensor: Option<String>,
    buf: Vec<u8>,
}

impl<R: BufRead> ZeekReader<R> {
    /// A reader over `input` (TSV and/or JSON lines).
    pub fn new(input: R) -> Self {
        ZeekReader {
            input,
            line: 0,
            header: ZeekHeader::with_fields(&DEFAULT_FIELDS),
            columns: Columns::of(&DEFAULT_FIELDS.map(String::from)),
            sensor: None,
            buf: Vec::new(),
        }
    }

    /// Sets the sensor name written on every record.
    pub fn with_sensor(mut self, sensor: Option<String>) -> Self {
        self.sensor = sensor;
        self
    }

    fn err(&self, kind: impl Into<LineErrorKind>) -> LineError {
        LineError::new(self.line, kind)
    }

    fn header_line(&mut self, line: &[u8]) -> Result<(), LineError> {
        match self.header.apply(line) {
            Ok(Directive::Fields) => {
                self.columns = Columns::of(&self.header.fields);
                if self.columns.recon_type.is_none() {
                    let path = match self.header.path.as_deref() {
                        None | Some("") => "unnamed".to_owned(),
                        Some(path) => format!("`{path}`"),
                    };
                    return Err(self.err(ZeekError::NotPassiveRecon { path }));
                }
            }
            Ok(_) => {}
            Err(HeaderError::EmptySeparator) => return Err(self.err(ZeekError::EmptySeparator)),
            Err(HeaderError::NoFields) => return Err(self.err(ZeekError::NoFields)),
        }
        Ok(())
    }

    fn tsv_line(&self, line: &[u8]) -> Result<PassiveRecord, LineError> {
        let parts = self.header.split(line);
        if parts.len() != self.header.fields.len() {
            return Err(self.err(ZeekError::FieldCount {
                expected: self.header.fields.len(),
                got: parts.len(),
            }));
        }
        let cols = &self.columns;
        let text = |col: Option<usize>| -> Option<String> {
            let raw = parts[col?];
            match std::str::from_utf8(raw) {
                Ok(t) if t == self.header.unset_field => None,
                Ok(t) if t == self.header.empty_field => Some(String::new()),
                Ok(t) => Some(t.to_owned()),
                Err(_) => {
                    let t = lossless_utf8(raw);
                    if t == self.header.unset_field {
                        None
                    } else if t == self.header.empty_field {
                        Some(String::new())
                    } else {
                        Some(t)
                    }
                }
            }
        };
        let ts = match cols.ts.map(|i| parts[i]) {
            None => None,
            Some(raw) => {
                let parsed = std::str::from_utf8(raw).ok().and_then(|t| {
                    if t == self.header.unset_field {
                        Some(None)
                    } else if t == self.header.empty_field {
                        None
                    } else {
                        t.parse::<f64>().ok().and_then(epoch_to_utc).map(Some)
                    }
                });
                match parsed {
                    Some(ts) => ts,
                    None => {
                        let v = lossless_utf8(raw);
                        if v == self.header.unset_field {
                            None
                        } else {
                            let v = if v == self.header.empty_field {
                                String::new()
                            } else {
                                v
                            };
                            return Err(self.err(ZeekError::TsvTime(v)));
                        }
                    }
                }
            }
        };
        let obs = RawObservation {
            ts,
            host: text(cols.host),
            srvport: text(cols.srvport),
            recon_type: text(cols.recon_type),
            source: text(cols.source),
            value: text(cols.value),
            targetval: text(cols.targetval),
        };
        obs.into_record(self.sensor.as_deref())
            .map_err(|e| self.err(ZeekError::from(e)))
    }

    fn json_line(&self, line: &[u8]) -> Result<PassiveRecord, LineError> {
        let v: Value = serde_json::from_slice(line).map_err(|e| self.err(ZeekError::Json(e)))?;
        let Value::Object(map) = v else {
            return Err(self.err(ZeekError::NotAnObject));
        };
        let text = |field: &'static str| -> Result<Option<String>, LineError> {
            match map.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(other) => Err(self.err(ZeekError::JsonField {
                    field,
                    value: other.clone(),
                })),
            }
        };
        let ts = match map.get("ts") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                super::record::ivre_time::parse_value(v)
                    .ok_or_else(|| self.err(ZeekError::JsonTime(v.clone())))?,
            ),
        };
        let obs = RawObservation {
            ts,
            host: text("host")?,
            srvport: text("srvport")?,
            recon_type: text("recon_type")?,
            source: text("source")?,
            value: text("value")?,
            targetval: text("targetval")?,
        };
        obs.into_record(self.sensor.as_deref())
            .map_err(|e| self.err(ZeekError::from(e)))
    }
}

impl<R: BufRead> RecordReader for ZeekReader<R> {
    type Record = PassiveRecord;
    type Error = LineError;

    fn next_record(&mut self) -> Result<Option<PassiveRecord>, LineError> {
        loop {
            self.buf.clear();
            let read = self.input.read_until(b'\n', &mut self.buf);
            match read {
                Ok(0) => return Ok(None),
                Ok(_) => self.line += 1,
                Err(e) => {
                    self.line += 1;
                    return Err(self.err(LineErrorKind::Read(e)));
                }
            }
            let mut line = std::mem::take(&mut self.buf);
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            let result = if line.is_empty() {
                None
            } else if line[0] == b'#' {
                self.header_line(&line).err().map(Err)
            } else if line[0] == b'{' {
                Some(self.json_line(&line))
            } else {
                Some(self.tsv_line(&line))
            };
            self.buf = line;
            if let Some(result) = result {
                return result.map(Some);
            }
        }
    }

    /// A bad line is skipped; a read error ends the file.
    fn is_fatal(&self, error: &LineError) -> bool {
        error.is_read()
            || matches!(
                error.kind,
                LineErrorKind::Zeek(ZeekError::NotPassiveRecon { .. })
            )
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

    const HEAD: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tpassive_recon\n#open\t2021-01-06-17-44-23\n#fields\tts\tuid\thost\tsrvport\trecon_type\tsource\tvalue\ttargetval\n#types\ttime\tstring\taddr\tport\tenum\tstring\tstring\tstring\n";

    fn read(s: &str) -> Vec<Result<PassiveRecord, LineError>> {
        ZeekReader::new(s.as_bytes()).records().collect()
    }

    #[test]
    fn basic_lines() {
        let log = format!("{HEAD}1388657877.197000\tCeT1x23\t216.69.252.101\t-\tPassiveRecon::DNS_ANSWER\tA-109.0.66.10-53\tipv4.icanhazip.com\t-\n1526299200.120000\tCq7Zz0\t172.28.2.3\t25\tPassiveRecon::TCP_SERVER_BANNER\t-\t220 mx\\x09x\\\\y\\x0d\\x0a\t-\n1.5\t-\t-\t-\tPassiveRecon::DNS_ANSWER\tCNAME-1.1.1.1-53\ta.b\tc.d\n1.5\t-\t-\t-\tPassiveRecon::HTTP_CLIENT_HEADER\tAUTHORIZATION\t(empty)\t-\n#close\t2021-01-06-17-44-30\n");
        let recs: Vec<_> = read(&log).into_iter().map(Result::unwrap).collect();
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[0].recontype, "DNS_ANSWER");
        assert_eq!(recs[0].port, None);
        assert_eq!(recs[0].firstseen.timestamp_subsec_micros(), 197000);
        assert_eq!(recs[1].source, None);
        assert_eq!(recs[1].port, Some(25));
        assert_eq!(recs[1].value, "220 mx\\x09x\\\\y\\x0d\\x0a");
        assert_eq!(recs[2].addr, None);
        assert_eq!(recs[2].targetval.as_deref(), Some("c.d"));
        assert_eq!(recs[3].value, "");
    }

    #[test]
    fn header_mid_stream_and_errors() {
        let log = format!(
            "{HEAD}1.0\tC\t10.0.0.1\t80\tPassiveRecon::OPEN_PORT\tTCP\ttcp/80\t-\ngarbage\n{HEAD}#fields\tts\thost\trecon_type\tvalue\n2.0\t10.0.0.2\tPassiveRecon::SSH_CLIENT\tSSH-2.0-x\n2.0\tnot-an-ip\tPassiveRecon::SSH_CLIENT\tSSH-2.0-x\n"
        );
        let items = read(&log);
        assert_eq!(items.len(), 4);
        assert!(items[0].is_ok());
        let e = items[1].as_ref().unwrap_err();
        assert_eq!(e.line, 10);
        assert_eq!(
            items[2].as_ref().unwrap().addr.unwrap().to_string(),
            "10.0.0.2"
        );
        assert_eq!(items[3].as_ref().unwrap_err().line, 21);
    }

    #[test]
    fn other_separator() {
        let log = "#separator \\x7c\n#fields|ts|host|recon_type|value|targetval\n3.0|-|PassiveRecon::DNS_ANSWER|a|b\n";
        let recs: Vec<_> = read(log).into_iter().map(Result::unwrap).collect();
        assert_eq!(recs[0].targetval.as_deref(), Some("b"));
    }

    #[test]
    fn json_lines() {
        let log = "{\"ts\":1388657877.197,\"uid\":\"C\",\"host\":\"10.0.0.1\",\"srvport\":443,\"recon_type\":\"PassiveRecon::SSL_SERVER\",\"source\":\"cert\",\"value\":\"MII\"}\n{\"ts\":1.0}\n";
        let items = read(log);
        let r = items[0].as_ref().unwrap();
        assert_eq!(r.port, Some(443));
        assert_eq!(r.recontype, "SSL_SERVER");
        assert_eq!(items[1].as_ref().unwrap_err().line, 2);
        assert_eq!(
            items[1].as_ref().unwrap_err().to_string(),
            "line 2: missing recon_type"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..300 {
            let mut data = Vec::new();
            for _ in 0..(seed % 400) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let b = (seed % 256) as u8;
                data.push(match b % 7 {
                    0 => b'\t',
                    1 => b'\n',
                    2 => b'#',
                    3 => b'{',
                    _ => b,
                });
            }
            let mut input = HEAD.as_bytes().to_vec();
            input.extend_from_slice(&data);
            let _ = ZeekReader::new(&data[..]).records().count();
            let _ = ZeekReader::new(&input[..]).records().count();
        }
    }
}
