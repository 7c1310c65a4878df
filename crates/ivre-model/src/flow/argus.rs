//! Reader of Argus client CSV output (`ra` / `racluster` with `-u -n -c ,`,
//! spec 1.6.4).
//!
//! The first line names the columns (`StartTime`, `LastTime`, `SrcAddr`,
//! `Sport`, `DstAddr`, `Dport`, `Proto`, `SrcPkts`, `DstPkts`, `SrcBytes`,
//! `DstBytes`; others ignored); without it, IVRE's `racluster` columns are
//! assumed ([`racluster_args`]). Argus's direction is trusted: the source
//! is the client, `Src*` counters are client → server. Times are epoch
//! seconds (`-u`); ports are decimal or hexadecimal (`0x0050`), possibly
//! empty. For ICMP the source port holds the type (low byte) and the code
//! (high byte), which IVRE lost. Argus management records (`man`) and
//! records between MAC addresses (PPPoE, ...) are skipped and counted;
//! `rtp` / `rtcp` flows are UDP.

use std::ffi::OsString;
use std::io::BufRead;
use std::net::IpAddr;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::error::{invalid, read_line, FlowErrorKind, FlowReadError};
use super::record::{
    has_ports, is_icmp, normalize_proto, Counters, Endpoints, Observation, ObservationKind,
};
use super::zeek::parse_epoch;
use crate::reader::{Position, RecordReader};

/// The Debian package that installs `ra` and `racluster`.
pub const ARGUS_PACKAGE: &str = "argus-client";

/// IVRE's `racluster` columns, in order.
const RACLUSTER_FIELDS: &[&str] = &[
    "proto", "dir", "saddr", "sport", "daddr", "dport", "spkts", "dpkts", "sbytes", "dbytes",
    "stime", "ltime",
];

/// The arguments of `racluster` to read an Argus file (`-` for standard
/// input), one record per 5-tuple, in the columns this reader expects, with
/// an optional Argus filter expression.
pub fn racluster_args(file: &Path, filter: Option<&str>) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["-u", "-n", "-c", ",", "-m"]
        .iter()
        .map(OsString::from)
        .collect();
    args.extend(
        ["saddr", "sport", "daddr", "dport", "proto", "-s"]
            .iter()
            .map(OsString::from),
    );
    args.extend(RACLUSTER_FIELDS.iter().map(OsString::from));
    args.push("-r".into());
    args.push(file.as_os_str().to_owned());
    if let Some(f) = filter {
        args.push("-".into());
        args.push(f.into());
    }
    args
}

/// Positions of the columns read.
#[derive(Debug, Clone, Copy)]
struct Columns {
    stime: usize,
    ltime: usize,
    saddr: usize,
    sport: usize,
    daddr: usize,
    dport: usize,
    proto: usize,
    spkts: usize,
    dpkts: usize,
    sbytes: usize,
    dbytes: usize,
    width: usize,
}

impl Columns {
    /// From Argus's column titles or field names.
    fn of(names: &[&str]) -> Option<Columns> {
        let find = |aliases: &[&str]| {
            names
                .iter()
                .position(|n| aliases.iter().any(|a| n.trim().eq_ignore_ascii_case(a)))
        };
        Some(Columns {
            stime: find(&["StartTime", "stime"])?,
            ltime: find(&["LastTime", "ltime"])?,
            saddr: find(&["SrcAddr", "saddr"])?,
            sport: find(&["Sport"])?,
            daddr: find(&["DstAddr", "daddr"])?,
            dport: find(&["Dport"])?,
            proto: find(&["Proto"])?,
            spkts: find(&["SrcPkts", "spkts"])?,
            dpkts: find(&["DstPkts", "dpkts"])?,
            sbytes: find(&["SrcBytes", "sbytes"])?,
            dbytes: find(&["DstBytes", "dbytes"])?,
            width: names.len(),
        })
    }
}

/// Streaming reader of Argus CSV output.
pub struct ArgusReader<R> {
    input: R,
    line: u64,
    columns: Option<Columns>,
    skipped: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> ArgusReader<R> {
    pub fn new(input: R) -> Self {
        ArgusReader {
            input,
            line: 0,
            columns: None,
            skipped: 0,
            buf: Vec::new(),
        }
    }

    /// Management records and records without IP addresses (skipped).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    fn parse_line(&mut self, text: &str) -> Result<Option<Observation>, FlowErrorKind> {
        let cells: Vec<&str> = text.split(',').map(str::trim).collect();
        if text.trim().is_empty() {
            return Ok(None);
        }
        let cols = match self.columns {
            Some(c) => c,
            None => {
                if let Some(c) = Columns::of(&cells) {
                    self.columns = Some(c);
                    return Ok(None);
                }
                let c = Columns::of(RACLUSTER_FIELDS).ok_or(FlowErrorKind::NoHeader)?;
                self.columns = Some(c);
                c
            }
        };
        if cells.len() != cols.width {
            return Err(FlowErrorKind::FieldCount {
                expected: cols.width,
                got: cells.len(),
            });
        }
        let proto = match normalize_proto(cells[cols.proto]).as_str() {
            "rtp" | "rtcp" => "udp".to_owned(),
            p => p.to_owned(),
        };
        if proto == "man" || is_mac(cells[cols.saddr]) || is_mac(cells[cols.daddr]) {
            self.skipped += 1;
            return Ok(None);
        }
        let endpoints = if has_ports(&proto) {
            Endpoints::Ports {
                sport: port("Sport", cells[cols.sport])?,
                dport: port("Dport", cells[cols.dport])?.ok_or(FlowErrorKind::Missing("Dport"))?,
            }
        } else if is_icmp(&proto) {
            let v = port("Sport", cells[cols.sport])?.ok_or(FlowErrorKind::Missing("Sport"))?;
            Endpoints::Icmp {
                icmp_type: (v & 0xff) as u8,
                code: Some((v >> 8) as u8),
            }
        } else {
            Endpoints::None
        };
        let start = time("StartTime", cells[cols.stime])?;
        let end = time("LastTime", cells[cols.ltime])?;
        Ok(Some(Observation {
            src: addr("SrcAddr", cells[cols.saddr])?,
            dst: addr("DstAddr", cells[cols.daddr])?,
            proto,
            endpoints,
            start: start.min(end),
            end: end.max(start),
            kind: ObservationKind::Traffic(Counters::observed(
                count("SrcPkts", cells[cols.spkts])?,
                count("DstPkts", cells[cols.dpkts])?,
                count("SrcBytes", cells[cols.sbytes])?,
                count("DstBytes", cells[cols.dbytes])?,
            )),
        }))
    }
}

/// `aa:bb:cc:dd:ee:ff`.
fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn time(field: &'static str, s: &str) -> Result<DateTime<Utc>, FlowErrorKind> {
    parse_epoch(s).ok_or_else(|| invalid(field, s))
}

fn addr(field: &'static str, s: &str) -> Result<IpAddr, FlowErrorKind> {
    s.parse().map_err(|_| invalid(field, s))
}

fn count(field: &'static str, s: &str) -> Result<u64, FlowErrorKind> {
    s.parse().map_err(|_| invalid(field, s))
}

/// A port, decimal or `0x` hexadecimal; `None` when empty.
fn port(field: &'static str, s: &str) -> Result<Option<u16>, FlowErrorKind> {
    if s.is_empty() {
        return Ok(None);
    }
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map(Some).map_err(|_| invalid(field, s))
}

impl<R: BufRead> RecordReader for ArgusReader<R> {
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
            match self.parse_line(&text) {
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

    fn read(s: &str) -> (Vec<Result<Observation, FlowReadError>>, u64) {
        let mut r = ArgusReader::new(s.as_bytes());
        let mut out = Vec::new();
        loop {
            match r.next_record() {
                Ok(Some(o)) => out.push(Ok(o)),
                Ok(None) => break,
                Err(e) => out.push(Err(e)),
            }
        }
        (out, r.skipped())
    }

    #[test]
    fn ra_columns() {
        let (items, skipped) = read(
            "StartTime,LastTime,SrcAddr,Sport,DstAddr,Dport,Proto,State,SrcPkts,DstPkts,SrcBytes,DstBytes\n\
             1795827468.956957,1795827468.956313,0,0,0,0,man,STA,0,0,0,0\n\
             1112172466.496046,1112172466.496576,192.168.170.8,32795,192.168.170.20,53,udp,CON,1,1,70,98\n\
             1055289987.106744,1055289992.101406,172.28.2.3,0x0303,66.59.111.190,0x3500,icmp,URP,2,0,254,0\n\
             1388653793.132371,1388653793.132371,10.194.144.1,,10.194.144.196,,arp,INT,1,0,60,0\n\
             69.285375,69.285375,e0:a1:d7:18:c2:73,0,ff:ff:ff:ff:ff:ff,0,pppoe,INT,1,0,82,0\n\
             1.0,1.0,10.0.0.1,,10.0.0.2,,tcp,INT,1,0,60,0\n",
        );
        assert_eq!(skipped, 2);
        assert_eq!(items.len(), 4);
        let udp = items[0].as_ref().unwrap();
        assert_eq!(udp.key().dport, Some(53));
        assert_eq!(
            udp.kind,
            ObservationKind::Traffic(Counters::observed(1, 1, 70, 98))
        );
        let icmp = items[1].as_ref().unwrap();
        assert_eq!(
            icmp.endpoints,
            Endpoints::Icmp {
                icmp_type: 3,
                code: Some(3)
            }
        );
        assert_eq!(items[2].as_ref().unwrap().endpoints, Endpoints::None);
        assert_eq!(
            items[3].as_ref().unwrap_err().to_string(),
            "line 7: missing Dport"
        );
    }

    #[test]
    fn racluster_columns_without_header() {
        let (items, _) = read("udp,  <->,192.168.170.8,32795,192.168.170.20,53,12,12,892,1328,1112172466.496046,1112172737.733384\n");
        let o = items[0].as_ref().unwrap();
        assert_eq!(o.src.to_string(), "192.168.170.8");
        assert_eq!(
            o.kind,
            ObservationKind::Traffic(Counters::observed(12, 12, 892, 1328))
        );
        assert_eq!((o.end - o.start).num_seconds(), 271);
        let args = racluster_args(Path::new("-"), None);
        assert_eq!(args.len(), 25);
    }
}
