//! Reader of iptables `LOG` lines from syslog (spec 1.6.5).
//!
//! Only lines containing `IN=` are read (`#` comments are not); from that marker on, the line is
//! `KEY=value` pairs (bare flags such as `DF` have no value; the last of a
//! repeated key wins, except `LEN`, where the first one, the IP length, is
//! kept). The line starts with the syslog date `Mon DD HH:MM:SS`, which has
//! no year: the caller gives it (the file's modification year, or the
//! user's), and the time is read as UTC.
//!
//! `SRC` is the client and `DST` the server (the logged packet's
//! direction); TCP and UDP take `SPT` / `DPT`, ICMP `TYPE` / `CODE` (as
//! numbers, unlike IVRE). Each line is one packet client → server of `LEN`
//! bytes (IVRE recorded zero counters).

use std::collections::HashMap;
use std::io::BufRead;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::error::{invalid, read_line, FlowErrorKind, FlowReadError};
use super::record::{
    has_ports, is_icmp, normalize_proto, Counters, Endpoints, Observation, ObservationKind,
};
use crate::reader::{Position, RecordReader};

/// Streaming reader of iptables log lines.
pub struct IptablesReader<R> {
    input: R,
    year: i32,
    line: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> IptablesReader<R> {
    /// A reader dating lines in `year`.
    pub fn new(input: R, year: i32) -> Self {
        IptablesReader {
            input,
            year,
            line: 0,
            buf: Vec::new(),
        }
    }
}

/// The syslog date at the start of `line`, in `year`.
fn syslog_time(line: &str, year: i32) -> Result<DateTime<Utc>, FlowErrorKind> {
    let head = line.get(..15).ok_or_else(|| invalid("date", line))?;
    // `Feb  9` and `Feb 19` alike: collapse the blanks.
    let words: Vec<&str> = head.split_whitespace().collect();
    let text = format!("{year} {}", words.join(" "));
    NaiveDateTime::parse_from_str(&text, "%Y %b %d %H:%M:%S")
        .map(|t| Utc.from_utc_datetime(&t))
        .map_err(|_| invalid("date", head))
}

fn parse_line(line: &str, year: i32) -> Result<Option<Observation>, FlowErrorKind> {
    if line.trim_start().starts_with('#') {
        return Ok(None);
    }
    let Some(marker) = line.find("IN=") else {
        return Ok(None);
    };
    let time = syslog_time(line, year)?;
    let mut pairs: HashMap<String, &str> = HashMap::new();
    let mut ip_len = None;
    for word in line[marker..].split_whitespace() {
        let (k, v) = word.split_once('=').unwrap_or((word, ""));
        let k = k.to_ascii_lowercase();
        if k == "len" && ip_len.is_none() {
            ip_len = Some(v);
        }
        pairs.insert(k, v);
    }
    let get = |k: &'static str| {
        pairs
            .get(k)
            .copied()
            .filter(|v| !v.is_empty())
            .ok_or(FlowErrorKind::Missing(k))
    };
    let address = |k: &'static str| -> Result<IpAddr, FlowErrorKind> {
        let v = get(k)?;
        v.parse().map_err(|_| invalid(k, v))
    };
    let number = |k: &'static str| -> Result<u64, FlowErrorKind> {
        let v = get(k)?;
        v.parse().map_err(|_| invalid(k, v))
    };
    let proto = normalize_proto(get("proto")?);
    let endpoints = if has_ports(&proto) {
        let port = |k| u16::try_from(number(k)?).map_err(|_| invalid(k, get(k).unwrap_or("")));
        Endpoints::Ports {
            sport: Some(port("spt")?),
            dport: port("dpt")?,
        }
    } else if is_icmp(&proto) {
        let byte = |k| u8::try_from(number(k)?).map_err(|_| invalid(k, get(k).unwrap_or("")));
        Endpoints::Icmp {
            icmp_type: byte("type")?,
            code: pairs
                .contains_key("code")
                .then(|| byte("code"))
                .transpose()?,
        }
    } else {
        Endpoints::None
    };
    let bytes = match ip_len.filter(|v| !v.is_empty()) {
        Some(v) => v.parse().map_err(|_| invalid("len", v))?,
        None => 0,
    };
    Ok(Some(Observation {
        src: address("src")?,
        dst: address("dst")?,
        proto,
        endpoints,
        start: time,
        end: time,
        kind: ObservationKind::Traffic(Counters::observed(1, 0, bytes, 0)),
    }))
}

impl<R: BufRead> RecordReader for IptablesReader<R> {
    type Record = Observation;
    type Error = FlowReadError;

    fn next_record(&mut self) -> Result<Option<Observation>, FlowReadError> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = loop {
            match read_line(&mut self.input, &mut buf, &mut self.line) {
                Ok(true) => {}
                Ok(false) => break Ok(None),
                Err(e) => break Err(e),
            }
            let text = String::from_utf8_lossy(&buf);
            match parse_line(&text, self.year) {
                Ok(None) => continue,
                Ok(Some(o)) => break Ok(Some(o)),
                Err(k) => break Err(FlowReadError::new(self.line, k)),
            }
        };
        self.buf = buf;
        result
    }

    /// A bad line is skipped; a read error ends the file.
    fn is_fatal(&self, error: &FlowReadError) -> bool {
        error.is_read()
    }

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
    fn lines() {
        let log = "#    - samples contains lines without IN=\n\
            Feb  9 23:52:49 pi02 kernel: [3739244.308916] IPTABLES/UDP/IN=eth0 OUT= MAC=ff SRC=192.168.0.54 DST=255.255.255.255 LEN=68 TOS=0x00 TTL=64 ID=17716 DF PROTO=UDP SPT=57621 DPT=57621 LEN=48\n\
            Feb 19 01:02:03 host kernel: IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1\n\
            Feb 19 01:02:03 host kernel: IN=eth0 OUT= SRC=10.0.0.1 DST=224.0.0.1 LEN=32 PROTO=2\n\
            Feb 30 01:02:03 host kernel: IN=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=2\n\
            Feb 19 01:02:03 host kernel: IN=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPT=1\n\
            a line without the marker\n";
        let mut r = IptablesReader::new(log.as_bytes(), 2020);
        let udp = r.next_record().unwrap().unwrap();
        assert_eq!(udp.start.to_rfc3339(), "2020-02-09T23:52:49+00:00");
        assert_eq!(udp.proto, "udp");
        assert_eq!(
            udp.endpoints,
            Endpoints::Ports {
                sport: Some(57621),
                dport: 57621
            }
        );
        assert_eq!(
            udp.kind,
            ObservationKind::Traffic(Counters::observed(1, 0, 68, 0))
        );
        let icmp = r.next_record().unwrap().unwrap();
        assert_eq!(icmp.key().icmp_type, Some(8));
        let igmp = r.next_record().unwrap().unwrap();
        assert_eq!(igmp.proto, "2");
        assert_eq!(igmp.endpoints, Endpoints::None);
        assert_eq!(
            r.next_record().unwrap_err().to_string(),
            "line 5: invalid date \"Feb 30 01:02:03\""
        );
        assert_eq!(
            r.next_record().unwrap_err().to_string(),
            "line 6: missing dpt"
        );
        assert!(r.next_record().unwrap().is_none());
    }
}
