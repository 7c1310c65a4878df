//! Reader of `nfdump` text output (NetFlow / IPFIX captures, spec 1.6.3).
//!
//! Accepted, line by line:
//!
//! * CSV (`nfdump -o csv`): with its header line (`ts,te,td,sa,da,...`;
//!   columns are found by name), or without it (`-q`: nfdump 1.7's column
//!   order); the `Summary` section at the end is ignored;
//! * IVRE's 12-column format ([`nfdump_args`]): `start, end, proto, addr1,
//!   addr2, port1, port2, out_pkts, in_pkts, out_bytes, in_bytes, flags`,
//!   blank-padded, counters possibly with a unit (`1.2 M`);
//! * the pipe format (`-o pipe`, nfdump 1.7 and 1.6 layouts): epoch
//!   milliseconds, protocol numbers, addresses as four 32-bit integers.
//!
//! Times without a zone are UTC: run nfdump with [`NFDUMP_ENV`].
//!
//! "In" counters are the traffic from the first address to the second,
//! "out" counters the reverse. The server is decided as IVRE does: for ICMP
//! the second address, except for echo replies (type 0), which become type
//! 8 with the first address as the server; for TCP and UDP the side whose
//! port is more often open ([`PortRanking`]); for other protocols the
//! second address.

use std::ffi::OsString;
use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::error::{invalid, read_line, FlowErrorKind, FlowReadError};
use super::ports::{PortRanking, ServerSide};
use super::record::{
    has_ports, is_icmp, normalize_proto, Counters, Endpoints, Observation, ObservationKind,
};
use crate::reader::{Position, RecordReader};

/// The Debian package that installs `nfdump`.
pub const NFDUMP_PACKAGE: &str = "nfdump";

/// The environment nfdump must run with, so that its times are UTC.
pub const NFDUMP_ENV: &[(&str, &str)] = &[("TZ", "UTC")];

/// IVRE's output format: 12 columns with millisecond times.
pub const NFDUMP_FORMAT: &str = "fmt:%ts,%te,%pr,%sa,%da,%sp,%dp,%opkt,%ipkt,%obyt,%ibyt,%flg";

/// The arguments of `nfdump` to read a capture file (`-r` needs a file:
/// nfdump does not read standard input), aggregated on the 5-tuple, in the
/// format this reader expects, with plain numbers (`-N`: without it,
/// counters are rounded to units such as `1.5 M`), with an optional nfdump
/// filter expression.
pub fn nfdump_args(file: &Path, filter: Option<&str>) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["-a", "-q", "-N", "-o", NFDUMP_FORMAT, "-r"]
        .iter()
        .map(OsString::from)
        .collect();
    args.push(file.as_os_str().to_owned());
    if let Some(f) = filter {
        args.push(f.into());
    }
    args
}

/// Positions of the columns read in CSV lines.
#[derive(Debug, Clone, Copy)]
struct CsvColumns {
    ts: usize,
    te: usize,
    sa: usize,
    da: usize,
    sp: usize,
    dp: usize,
    pr: usize,
    ipkt: usize,
    ibyt: usize,
    opkt: Option<usize>,
    obyt: Option<usize>,
    width: usize,
}

/// nfdump 1.7's CSV columns (`ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,
/// ibyt,opkt,obyt,...`), when no header line names them.
const DEFAULT_CSV: CsvColumns = CsvColumns {
    ts: 0,
    te: 1,
    sa: 3,
    da: 4,
    sp: 5,
    dp: 6,
    pr: 7,
    ipkt: 11,
    ibyt: 12,
    opkt: Some(13),
    obyt: Some(14),
    width: 15,
};

impl CsvColumns {
    fn of(names: &[&str]) -> Option<CsvColumns> {
        let find = |n: &str| names.iter().position(|c| c.trim() == n);
        Some(CsvColumns {
            ts: find("ts")?,
            te: find("te")?,
            sa: find("sa")?,
            da: find("da")?,
            sp: find("sp")?,
            dp: find("dp")?,
            pr: find("pr")?,
            ipkt: find("ipkt")?,
            ibyt: find("ibyt")?,
            opkt: find("opkt"),
            obyt: find("obyt"),
            width: names.len(),
        })
    }
}

/// One record as nfdump describes it, before the server is decided.
struct RawFlow<'a> {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    proto: String,
    addr1: IpAddr,
    addr2: IpAddr,
    port1: &'a str,
    port2: &'a str,
    /// addr1 → addr2.
    in_pkts: u64,
    in_bytes: u64,
    /// addr2 → addr1.
    out_pkts: u64,
    out_bytes: u64,
}

/// Streaming reader of nfdump output.
pub struct NfdumpReader<'p, R> {
    input: R,
    ranking: &'p PortRanking,
    line: u64,
    header: Option<CsvColumns>,
    done: bool,
    buf: Vec<u8>,
}

impl<'p, R: BufRead> NfdumpReader<'p, R> {
    /// A reader deciding servers with `ranking`.
    pub fn new(input: R, ranking: &'p PortRanking) -> Self {
        NfdumpReader {
            input,
            ranking,
            line: 0,
            header: None,
            done: false,
            buf: Vec::new(),
        }
    }

    fn err(&self, kind: impl Into<FlowErrorKind>) -> FlowReadError {
        FlowReadError::new(self.line, kind)
    }

    fn parse_line(&mut self, text: &str) -> Result<Option<Observation>, FlowErrorKind> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed == "Summary" {
            self.done = true;
            return Ok(None);
        }
        if trimmed.starts_with("ts,") {
            let names: Vec<&str> = trimmed.split(',').collect();
            self.header = Some(CsvColumns::of(&names).ok_or(FlowErrorKind::Missing(
                "nfdump CSV column (ts, te, sa, da, sp, dp, pr, ipkt, ibyt)",
            ))?);
            return Ok(None);
        }
        let raw = if trimmed.contains('|') && !trimmed.contains(',') {
            pipe_flow(trimmed)?
        } else {
            let cells: Vec<&str> = trimmed.split(',').map(str::trim).collect();
            match self.header {
                Some(cols) => csv_flow(&cells, &cols)?,
                None if cells.len() == 12 => ivre_flow(&cells)?,
                None if cells.len() >= DEFAULT_CSV.width => csv_flow(&cells, &DEFAULT_CSV)?,
                None => {
                    return Err(FlowErrorKind::FieldCount {
                        expected: DEFAULT_CSV.width,
                        got: cells.len(),
                    })
                }
            }
        };
        decide(raw, self.ranking).map(Some)
    }
}

fn time(field: &'static str, s: &str) -> Result<DateTime<Utc>, FlowErrorKind> {
    let s = s.trim();
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    Err(invalid(field, s))
}

fn addr(field: &'static str, s: &str) -> Result<IpAddr, FlowErrorKind> {
    s.trim().parse().map_err(|_| invalid(field, s.trim()))
}

/// A counter, possibly with a decimal unit: `1234`, `1.2 M`, `3G`.
fn counter(field: &'static str, s: &str) -> Result<u64, FlowErrorKind> {
    let s = s.trim();
    let (mantissa, mult) = match s.char_indices().last() {
        Some((i, c @ ('K' | 'M' | 'G' | 'T'))) => (
            s[..i].trim(),
            match c {
                'K' => 1e3,
                'M' => 1e6,
                'G' => 1e9,
                _ => 1e12,
            },
        ),
        _ => {
            if let Ok(n) = s.parse::<u64>() {
                return Ok(n);
            }
            (s, 1.0)
        }
    };
    match mantissa.parse::<f64>() {
        Ok(m) if m.is_finite() && m >= 0.0 && m * mult < 1.8e19 => Ok((m * mult).round() as u64),
        _ => Err(invalid(field, s)),
    }
}

fn csv_flow<'a>(cells: &[&'a str], c: &CsvColumns) -> Result<RawFlow<'a>, FlowErrorKind> {
    if cells.len() < c.width {
        return Err(FlowErrorKind::FieldCount {
            expected: c.width,
            got: cells.len(),
        });
    }
    let opt = |i: Option<usize>, name| i.map_or(Ok(0), |i| counter(name, cells[i]));
    Ok(RawFlow {
        start: time("ts", cells[c.ts])?,
        end: time("te", cells[c.te])?,
        proto: normalize_proto(&proto_name(cells[c.pr])),
        addr1: addr("sa", cells[c.sa])?,
        addr2: addr("da", cells[c.da])?,
        port1: cells[c.sp],
        port2: cells[c.dp],
        in_pkts: counter("ipkt", cells[c.ipkt])?,
        in_bytes: counter("ibyt", cells[c.ibyt])?,
        out_pkts: opt(c.opkt, "opkt")?,
        out_bytes: opt(c.obyt, "obyt")?,
    })
}

/// IVRE's 12 columns ([`NFDUMP_FORMAT`]).
fn ivre_flow<'a>(cells: &[&'a str]) -> Result<RawFlow<'a>, FlowErrorKind> {
    Ok(RawFlow {
        start: time("start", cells[0])?,
        end: time("end", cells[1])?,
        proto: normalize_proto(&proto_name(cells[2])),
        addr1: addr("addr1", cells[3])?,
        addr2: addr("addr2", cells[4])?,
        port1: cells[5],
        port2: cells[6],
        out_pkts: counter("out_pkts", cells[7])?,
        in_pkts: counter("in_pkts", cells[8])?,
        out_bytes: counter("out_bytes", cells[9])?,
        in_bytes: counter("in_bytes", cells[10])?,
    })
}

/// `-o pipe`: nfdump 1.7 (`af|first|last|proto|sa0..3|sp|da0..3|dp|...|pkts|bytes`,
/// 22 fields, epoch milliseconds) or 1.6 (`af|first|first_msec|last|last_msec|...`,
/// 24 fields).
fn pipe_flow(line: &str) -> Result<RawFlow<'_>, FlowErrorKind> {
    let f: Vec<&str> = line.split('|').map(str::trim).collect();
    let num = |field: &'static str, s: &str| s.parse::<u64>().map_err(|_| invalid(field, s));
    let ms = |field: &'static str, v: u64| {
        i64::try_from(v)
            .ok()
            .and_then(|v| Utc.timestamp_millis_opt(v).single())
            .ok_or_else(|| invalid(field, v.to_string()))
    };
    let (start, end, rest) = match f.len() {
        22 => (
            ms("first", num("first", f[1])?)?,
            ms("last", num("last", f[2])?)?,
            &f[3..],
        ),
        24 => {
            let first = num("first", f[1])?.saturating_mul(1000) + num("first_msec", f[2])?;
            let last = num("last", f[3])?.saturating_mul(1000) + num("last_msec", f[4])?;
            (ms("first", first)?, ms("last", last)?, &f[5..])
        }
        n => {
            return Err(FlowErrorKind::FieldCount {
                expected: 22,
                got: n,
            })
        }
    };
    // rest: proto, sa0..3, sp, da0..3, dp, srcas, dstas, in, out, flags, tos, pkts, bytes
    let v6 = f[0] == "10";
    let address = |field: &'static str, parts: &[&str]| -> Result<IpAddr, FlowErrorKind> {
        let mut words = [0u32; 4];
        for (w, p) in words.iter_mut().zip(parts) {
            *w = p.parse().map_err(|_| invalid(field, *p))?;
        }
        Ok(if v6 {
            let mut bytes = [0u8; 16];
            for (i, w) in words.iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        } else {
            IpAddr::V4(Ipv4Addr::from(words[3]))
        })
    };
    Ok(RawFlow {
        start,
        end,
        proto: normalize_proto(&proto_name(rest[0])),
        addr1: address("sa", &rest[1..5])?,
        port1: rest[5],
        addr2: address("da", &rest[6..10])?,
        port2: rest[10],
        in_pkts: num("pkts", rest[17])?,
        in_bytes: num("bytes", rest[18])?,
        out_pkts: 0,
        out_bytes: 0,
    })
}

/// The name nfdump gives an IP protocol number (`-N`, `-o pipe`), lower
/// case (only those checked against nfdump 1.7); any other text as it is.
fn proto_name(number: &str) -> String {
    let name = match number.trim() {
        "1" => "icmp",
        "6" => "tcp",
        "17" => "udp",
        "43" => "rte6",
        "58" => "icmp6",
        _ => number,
    };
    name.to_ascii_lowercase()
}

/// ICMP type and code from nfdump's destination port: `8.0`, or a number
/// `type * 256 + code`; IVRE's `0.8` anomaly is type 8.
fn icmp_type_code(port2: &str) -> Result<(u8, u8), FlowErrorKind> {
    let bad = || invalid("ICMP type", port2.trim());
    let (t, c) = match port2.trim().split_once('.') {
        Some((t, c)) => (
            t.parse::<u8>().map_err(|_| bad())?,
            c.parse::<u8>().map_err(|_| bad())?,
        ),
        None => {
            let n: u16 = port2.trim().parse().map_err(|_| bad())?;
            ((n >> 8) as u8, (n & 0xff) as u8)
        }
    };
    Ok(if (t, c) == (0, 8) { (8, 0) } else { (t, c) })
}

fn port(field: &'static str, s: &str) -> Result<u16, FlowErrorKind> {
    s.trim().parse().map_err(|_| invalid(field, s.trim()))
}

/// Decides the server and builds the observation.
fn decide(raw: RawFlow, ranking: &PortRanking) -> Result<Observation, FlowErrorKind> {
    let forward = Counters::observed(raw.in_pkts, raw.out_pkts, raw.in_bytes, raw.out_bytes);
    let (first_is_server, endpoints) = if is_icmp(&raw.proto) {
        let (t, code) = icmp_type_code(raw.port2)?;
        if t == 0 {
            (
                true,
                Endpoints::Icmp {
                    icmp_type: 8,
                    code: Some(code),
                },
            )
        } else {
            (
                false,
                Endpoints::Icmp {
                    icmp_type: t,
                    code: Some(code),
                },
            )
        }
    } else if has_ports(&raw.proto) {
        let (p1, p2) = (port("sp", raw.port1)?, port("dp", raw.port2)?);
        match ranking.server_side(&raw.proto, p1, p2) {
            ServerSide::First => (
                true,
                Endpoints::Ports {
                    sport: Some(p2),
                    dport: p1,
                },
            ),
            ServerSide::Second => (
                false,
                Endpoints::Ports {
                    sport: Some(p1),
                    dport: p2,
                },
            ),
        }
    } else {
        (false, Endpoints::None)
    };
    let (src, dst, counters) = if first_is_server {
        (raw.addr2, raw.addr1, forward.reversed())
    } else {
        (raw.addr1, raw.addr2, forward)
    };
    Ok(Observation {
        src,
        dst,
        proto: raw.proto,
        endpoints,
        start: raw.start.min(raw.end),
        end: raw.end.max(raw.start),
        kind: ObservationKind::Traffic(counters),
    })
}

impl<R: BufRead> RecordReader for NfdumpReader<'_, R> {
    type Record = Observation;
    type Error = FlowReadError;

    fn next_record(&mut self) -> Result<Option<Observation>, FlowReadError> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = loop {
            if self.done {
                break Ok(None);
            }
            match read_line(&mut self.input, &mut buf, &mut self.line) {
                Ok(true) => {}
                Ok(false) => break Ok(None),
                Err(e) => break Err(e),
            }
            let text = String::from_utf8_lossy(&buf);
            match self.parse_line(&text) {
                Ok(None) => continue,
                Ok(Some(o)) => break Ok(Some(o)),
                Err(k) => break Err(self.err(k)),
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

    fn one(line: &str, ranking: &PortRanking) -> Observation {
        NfdumpReader::new(line.as_bytes(), ranking)
            .next_record()
            .unwrap()
            .unwrap()
    }

    #[test]
    fn ivre_format_and_server_side() {
        let r = PortRanking::from_nmap_services("domain\t53/udp\t0.213496\n");
        let o = one("2015-09-18 14:15:19.987,2015-09-18 14:15:19.987,UDP  ,   192.168.122.2, 192.168.122.214,    53, 50169,       0,       1,       0,      52,........\n", &r);
        assert_eq!(o.src.to_string(), "192.168.122.214");
        assert_eq!(o.dst.to_string(), "192.168.122.2");
        assert_eq!(
            o.endpoints,
            Endpoints::Ports {
                sport: Some(50169),
                dport: 53
            }
        );
        // 1 packet of 52 bytes from the server.
        assert_eq!(
            o.kind,
            ObservationKind::Traffic(Counters::observed(0, 1, 0, 52))
        );
        assert_eq!(o.start.timestamp_subsec_millis(), 987);
    }

    #[test]
    fn icmp_types_and_units() {
        let r = PortRanking::empty();
        let reply = one("2003-06-11 00:06:08.936,2003-06-11 00:06:11.854,ICMP ,172.28.2.3,66.59.111.190,0,0.0,0,4,0,256,........", &r);
        assert_eq!(reply.src.to_string(), "66.59.111.190");
        assert_eq!(
            reply.endpoints,
            Endpoints::Icmp {
                icmp_type: 8,
                code: Some(0)
            }
        );
        assert_eq!(
            reply.kind,
            ObservationKind::Traffic(Counters::observed(0, 4, 0, 256))
        );
        let unreach = one("2003-06-11 00:06:27,2003-06-11 00:06:32,0.000,172.28.2.3,66.59.111.190,0,771,ICMP,........,0,0,2,1.5 M,0,0", &r);
        assert_eq!(unreach.src.to_string(), "172.28.2.3");
        assert_eq!(
            unreach.endpoints,
            Endpoints::Icmp {
                icmp_type: 3,
                code: Some(3)
            }
        );
        assert_eq!(
            unreach.kind,
            ObservationKind::Traffic(Counters::observed(2, 0, 1_500_000, 0))
        );
        assert_eq!(icmp_type_code("0.8").unwrap(), (8, 0));
        assert_eq!(icmp_type_code("8").unwrap(), (8, 0));
        assert!(icmp_type_code("x.1").is_err());
        assert_eq!(counter("c", "2G").unwrap(), 2_000_000_000);
        assert!(counter("c", "-1").is_err());
        assert!(counter("c", "1e30").is_err());
    }

    #[test]
    fn pipe_format() {
        let r = PortRanking::empty();
        let o = one(
            "2|1055289968793|1055289968793|1|0|0|0|1111191486|0|0|0|0|2887516675|2048|0|0|0|0|0|0|1|64",
            &r,
        );
        assert_eq!(o.src.to_string(), "66.59.111.190");
        assert_eq!(o.dst.to_string(), "172.28.2.3");
        assert_eq!(o.key().icmp_type, Some(8));
        assert_eq!(o.start.timestamp_millis(), 1055289968793);
        let v6 = one(
            "10|1000|2000|6|4253155328|0|0|1|80|4253155328|0|0|2|40000|0|0|0|0|0|0|3|180",
            &r,
        );
        assert_eq!(v6.src.to_string(), "fd82::2");
        assert_eq!(v6.dst.to_string(), "fd82::1");
        assert_eq!(v6.key().dport, Some(80));
    }

    #[test]
    fn args() {
        let a = nfdump_args(Path::new("/tmp/x"), Some("port 80"));
        assert_eq!(a[..3], ["-a", "-q", "-N"]);
        assert_eq!(a[a.len() - 2], "/tmp/x");
        assert_eq!(a[a.len() - 1], "port 80");
    }
}
