//! Reader of ARP packets in pcap captures, for `ivre-arp2db`: each request
//! and reply gives the IP ↔ MAC pairs that Zeek's `passiverecon` module
//! logs (passive spec 2.1.4), as `MAC_ADDRESS` observations:
//! `ARP_REQUEST_SRC` (sender IP, sender MAC) and, when the target MAC is
//! neither all-zero nor broadcast, `ARP_REQUEST_DST`; `ARP_REPLY_SRC` and,
//! unless broadcast, `ARP_REPLY_DST`. Time: the packet's. MACs lower case.
//!
//! IVRE's own `arp2db` writes ARP to the flow purpose; here ARP lands where
//! `ivre-macinfo` and the view look for it, in the same shape as Zeek's.
//!
//! Format: classic pcap (both byte orders, micro- or nanosecond times) over
//! Ethernet (802.1Q tags skipped), Linux cooked captures (SLL, SLL2). A
//! pcapng file is refused with a hint (`editcap -F pcap`). Other packets are
//! skipped; a short ARP packet is an error for that packet only; a cut-off
//! capture or a read error ends the file. Positions count packets (the
//! "line" of an error is the packet number). A sender or target address of
//! 0.0.0.0 (ARP probes) gives no record: it names no host.

use std::io::{BufRead, ErrorKind, Read};
use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Utc};

use super::error::{LineError, LineErrorKind};
use super::record::PassiveRecord;
use crate::reader::{Position, RecordReader};

/// What is wrong with a capture or one of its packets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArpError {
    #[error("not a pcap capture (magic {0})")]
    Magic(String),
    #[error("pcapng capture: not supported, convert it with `editcap -F pcap IN OUT`")]
    Pcapng,
    #[error("link type {0} not supported (Ethernet, Linux cooked SLL/SLL2 are)")]
    LinkType(u32),
    #[error("packet {0}: capture cut off")]
    Truncated(u64),
    #[error("packet {0}: packet record of {1} bytes, larger than the capture's snap length")]
    TooLarge(u64, u32),
    #[error("packet {0}: ARP packet too short ({1} bytes)")]
    Short(u64, usize),
}

impl ArpError {
    /// Whether the capture cannot be read further.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, ArpError::Short(..))
    }
}

/// One ARP packet (Ethernet / IPv4 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arp {
    pub time: DateTime<Utc>,
    /// 1: request, 2: reply.
    pub op: u16,
    pub sha: [u8; 6],
    pub spa: Ipv4Addr,
    pub tha: [u8; 6],
    pub tpa: Ipv4Addr,
}

fn mac(b: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

impl Arp {
    /// The observations of the packet (see the module documentation).
    pub fn records(&self, sensor: Option<&str>) -> Vec<PassiveRecord> {
        let (src, dst) = match self.op {
            1 => ("ARP_REQUEST_SRC", "ARP_REQUEST_DST"),
            2 => ("ARP_REPLY_SRC", "ARP_REPLY_DST"),
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        let mut push = |source: &str, ip: Ipv4Addr, hw: &[u8; 6]| {
            if ip.is_unspecified() {
                return;
            }
            let mut r = PassiveRecord::new("MAC_ADDRESS", mac(hw), self.time);
            r.addr = Some(IpAddr::V4(ip));
            r.source = Some(source.into());
            r.sensor = sensor.map(str::to_owned);
            out.push(r);
        };
        push(src, self.spa, &self.sha);
        let zero = self.tha == [0; 6];
        let broadcast = self.tha == [0xff; 6];
        let unknown_target = self.op == 1 && zero;
        if !(broadcast || unknown_target) {
            push(dst, self.tpa, &self.tha);
        }
        out
    }
}

/// Reads the ARP packet in a link-layer frame, if it holds one.
pub fn parse_frame(
    linktype: u32,
    frame: &[u8],
    time: DateTime<Utc>,
    packet: u64,
) -> Result<Option<Arp>, ArpError> {
    let (mut ethertype_at, mut payload_at) = match linktype {
        1 => (12, 14),
        113 => (14, 16),
        276 => (0, 20),
        other => return Err(ArpError::LinkType(other)),
    };
    let ethertype = |at: usize| {
        frame
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    // 802.1Q / 802.1ad tags on Ethernet.
    while linktype == 1 && matches!(ethertype(ethertype_at), Some(0x8100 | 0x88a8)) {
        ethertype_at += 4;
        payload_at += 4;
    }
    if ethertype(ethertype_at) != Some(0x0806) {
        return Ok(None);
    }
    let a = &frame[payload_at.min(frame.len())..];
    if a.len() < 28 {
        return Err(ArpError::Short(packet, a.len()));
    }
    // Ethernet hardware, IPv4 protocol, lengths 6 and 4: anything else is
    // not an IP <-> MAC pair.
    if a[0..2] != [0, 1] || a[2..4] != [8, 0] || a[4] != 6 || a[5] != 4 {
        return Ok(None);
    }
    let six = |s: &[u8]| -> [u8; 6] { [s[0], s[1], s[2], s[3], s[4], s[5]] };
    Ok(Some(Arp {
        time,
        op: u16::from_be_bytes([a[6], a[7]]),
        sha: six(&a[8..14]),
        spa: Ipv4Addr::new(a[14], a[15], a[16], a[17]),
        tha: six(&a[18..24]),
        tpa: Ipv4Addr::new(a[24], a[25], a[26], a[27]),
    }))
}

/// The global header of a capture, once read.
struct Header {
    big_endian: bool,
    nanos: bool,
    linktype: u32,
}

/// Streaming reader of the ARP observations of a pcap capture.
pub struct ArpReader<R> {
    input: R,
    header: Option<Header>,
    packet: u64,
    sensor: Option<String>,
    pending: std::vec::IntoIter<PassiveRecord>,
    frame: Vec<u8>,
    done: bool,
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` at a clean end of input
/// (nothing read), an `UnexpectedEof` error when cut in the middle.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

impl<R: BufRead> ArpReader<R> {
    pub fn new(input: R) -> Self {
        ArpReader {
            input,
            header: None,
            packet: 0,
            sensor: None,
            pending: Vec::new().into_iter(),
            frame: Vec::new(),
            done: false,
        }
    }

    /// Sets the sensor name written on every record.
    pub fn with_sensor(mut self, sensor: Option<String>) -> Self {
        self.sensor = sensor;
        self
    }

    fn fail(&mut self, kind: impl Into<LineErrorKind>) -> LineError {
        let kind = kind.into();
        if matches!(&kind, LineErrorKind::Read(_))
            || matches!(&kind, LineErrorKind::Arp(e) if e.is_fatal())
        {
            self.done = true;
        }
        // Errors of the capture header count as the first packet's: the
        // importers place every error on a record number of at least 1.
        LineError::new(self.packet.max(1), kind)
    }

    fn read_header(&mut self) -> Result<Header, LineError> {
        let mut h = [0u8; 24];
        match read_full(&mut self.input, &mut h) {
            Ok(true) => {}
            Ok(false) => return Err(self.fail(ArpError::Magic("(empty file)".into()))),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                return Err(self.fail(ArpError::Magic("(file shorter than a pcap header)".into())))
            }
            Err(e) => return Err(self.fail(LineErrorKind::Read(e))),
        }
        let (big_endian, nanos) = match [h[0], h[1], h[2], h[3]] {
            [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
            [0x0a, 0x0d, 0x0d, 0x0a] => return Err(self.fail(ArpError::Pcapng)),
            m => return Err(self.fail(ArpError::Magic(hex::encode(m)))),
        };
        let word = |b: &[u8]| {
            let b = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        // The link type is the low 16 bits of the last word (the upper
        // bits may carry FCS information).
        let linktype = word(&h[20..24]) & 0xffff;
        if !matches!(linktype, 1 | 113 | 276) {
            return Err(self.fail(ArpError::LinkType(linktype)));
        }
        Ok(Header {
            big_endian,
            nanos,
            linktype,
        })
    }
}

/// Largest packet record accepted (pcap's own maximum snap length).
const MAX_PACKET: u32 = 262_144;

impl<R: BufRead> RecordReader for ArpReader<R> {
    type Record = PassiveRecord;
    type Error = LineError;

    fn next_record(&mut self) -> Result<Option<PassiveRecord>, LineError> {
        loop {
            if let Some(r) = self.pending.next() {
                return Ok(Some(r));
            }
            if self.done {
                return Ok(None);
            }
            if self.header.is_none() {
                let h = self.read_header()?;
                self.header = Some(h);
            }
            let Some(h) = self.header.as_ref() else {
                return Ok(None);
            };
            let (big_endian, nanos, linktype) = (h.big_endian, h.nanos, h.linktype);
            let mut rh = [0u8; 16];
            match read_full(&mut self.input, &mut rh) {
                Ok(true) => self.packet += 1,
                Ok(false) => {
                    self.done = true;
                    return Ok(None);
                }
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    self.packet += 1;
                    let p = self.packet;
                    return Err(self.fail(ArpError::Truncated(p)));
                }
                Err(e) => return Err(self.fail(LineErrorKind::Read(e))),
            }
            let word = |b: &[u8]| {
                let b = [b[0], b[1], b[2], b[3]];
                if big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                }
            };
            let (secs, frac, incl) = (word(&rh[0..4]), word(&rh[4..8]), word(&rh[8..12]));
            if incl > MAX_PACKET {
                let p = self.packet;
                return Err(self.fail(ArpError::TooLarge(p, incl)));
            }
            self.frame.resize(incl as usize, 0);
            let mut frame = std::mem::take(&mut self.frame);
            let read = read_full(&mut self.input, &mut frame);
            self.frame = frame;
            match read {
                Ok(true) => {}
                Ok(false) if incl == 0 => {}
                Ok(false) => {
                    let p = self.packet;
                    return Err(self.fail(ArpError::Truncated(p)));
                }
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    let p = self.packet;
                    return Err(self.fail(ArpError::Truncated(p)));
                }
                Err(e) => return Err(self.fail(LineErrorKind::Read(e))),
            }
            let nanos = if nanos {
                frac.min(999_999_999)
            } else {
                frac.min(999_999) * 1000
            };
            let time = DateTime::from_timestamp(secs as i64, nanos).unwrap_or_default();
            match parse_frame(linktype, &self.frame, time, self.packet) {
                Ok(Some(arp)) => self.pending = arp.records(self.sensor.as_deref()).into_iter(),
                Ok(None) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    fn is_fatal(&self, error: &LineError) -> bool {
        match &error.kind {
            LineErrorKind::Arp(e) => e.is_fatal(),
            _ => error.is_read(),
        }
    }

    fn position(&self) -> Position {
        Position {
            line: self.packet.max(1),
            column: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcap header and one Ethernet ARP frame (bytes as a capture holds them).
    fn capture(op: u8, tha: [u8; 6], cut: usize) -> Vec<u8> {
        let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        v.extend([0xff, 0xff, 0, 0, 1, 0, 0, 0]);
        let mut frame = vec![0xff; 6];
        frame.extend([0x80, 0xfb, 0x06, 0xf0, 0x45, 0xd7, 0x08, 0x06]);
        frame.extend([0, 1, 8, 0, 6, 4, 0, op]);
        frame.extend([0x80, 0xfb, 0x06, 0xf0, 0x45, 0xd7, 10, 0, 0, 1]);
        frame.extend(tha);
        frame.extend([10, 0, 0, 2]);
        let len = frame.len() as u32;
        v.extend(1_388_651_872u32.to_le_bytes());
        v.extend(500_000u32.to_le_bytes());
        v.extend(len.to_le_bytes());
        v.extend(len.to_le_bytes());
        v.extend(frame);
        v.truncate(v.len() - cut);
        v
    }

    fn read(bytes: &[u8]) -> Vec<Result<PassiveRecord, LineError>> {
        ArpReader::new(bytes).records().collect()
    }

    #[test]
    fn requests_and_replies() {
        let out = read(&capture(1, [0; 6], 0));
        assert_eq!(out.len(), 1);
        let r = out[0].as_ref().unwrap();
        assert_eq!(r.source.as_deref(), Some("ARP_REQUEST_SRC"));
        assert_eq!(r.value, "80:fb:06:f0:45:d7");
        assert_eq!(r.addr, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(r.firstseen.to_rfc3339(), "2014-01-02T08:37:52.500+00:00");
        let out = read(&capture(2, [0xe0, 0xa1, 0xd7, 0x18, 0xc2, 0x72], 0));
        let srcs: Vec<_> = out
            .iter()
            .map(|r| r.as_ref().unwrap().source.clone().unwrap())
            .collect();
        assert_eq!(srcs, ["ARP_REPLY_SRC", "ARP_REPLY_DST"]);
        assert_eq!(out[1].as_ref().unwrap().value, "e0:a1:d7:18:c2:72");
        assert_eq!(read(&capture(2, [0xff; 6], 0)).len(), 1);
    }

    #[test]
    fn damaged_captures() {
        let out = read(&capture(1, [0; 6], 5));
        assert_eq!(out.len(), 1);
        let e = out[0].as_ref().unwrap_err();
        assert_eq!(e.to_string(), "line 1: packet 1: capture cut off");
        let out = read(b"\x0a\x0d\x0d\x0a rest of a pcapng file");
        assert!(out[0].as_ref().unwrap_err().to_string().contains("editcap"));
        assert_eq!(out.len(), 1);
        let out = read(b"hello world, this is not a capture");
        assert!(matches!(
            out[0].as_ref().unwrap_err().kind,
            LineErrorKind::Arp(ArpError::Magic(_))
        ));
        assert_eq!(read(b"").len(), 1);
        let mut bad = capture(1, [0; 6], 0);
        bad[20] = 9; // link type 9 (PPP)
        assert!(read(&bad)[0].as_ref().is_err());
    }
}
