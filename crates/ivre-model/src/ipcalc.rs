//! Address arithmetic as IVRE's `ipcalc` does it: a network to its first and
//! last address, a range to the fewest networks covering it exactly, an
//! address to its integer and back; and the IP-aware ordering of `ivre-sort`.
//!
//! Addresses are handled as `u128` plus a family, so that one algorithm
//! serves IPv4 (32 bits) and IPv6 (128 bits). An integer that fits in 32 bits
//! is an IPv4 address, a larger one an IPv6 address (IVRE's convention), and
//! in a range the family of a written address wins over an integer's.

use std::cmp::Ordering;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an argument cannot be computed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpcalcError {
    #[error("{0:?} is neither an IP address nor an integer")]
    Address(String),
    #[error("{0:?} is not a network (ADDR/PREFIX)")]
    Network(String),
    #[error("{0:?}: an IPv4 and an IPv6 address cannot bound one range")]
    Mixed(String),
    #[error("{0:?}: the range ends before it starts")]
    Reversed(String),
}

/// An address family: the number of bits of its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// The largest address of the family, as an integer.
    pub fn max(self) -> u128 {
        match self {
            Family::V4 => u32::MAX as u128,
            Family::V6 => u128::MAX,
        }
    }

    /// The address whose integer is `n` (`n` must fit the family).
    pub fn addr(self, n: u128) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(n as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(n)),
        }
    }

    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// The integer of an address (IPv4 on 32 bits, IPv6 on 128).
pub fn addr_to_int(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address of an integer: IPv4 up to 2³²−1, IPv6 above.
pub fn int_to_addr(n: u128) -> IpAddr {
    if n <= u32::MAX as u128 {
        Family::V4.addr(n)
    } else {
        Family::V6.addr(n)
    }
}

/// One bound as written: an address, or an integer whose family is
/// decided by the other bound.
#[derive(Debug, Clone, Copy)]
enum Bound {
    Addr(IpAddr),
    Int(u128),
}

fn parse_bound(s: &str) -> Result<Bound, IpcalcError> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<u128>()
            .map(Bound::Int)
            .map_err(|_| IpcalcError::Address(s.to_string()));
    }
    t.parse::<IpAddr>()
        .map(Bound::Addr)
        .map_err(|_| IpcalcError::Address(s.to_string()))
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Range {
    pub family: Family,
    pub start: u128,
    pub stop: u128,
}

impl Range {
    /// Builds a range from two addresses or integers (`start` ≤ `stop`).
    pub fn parse(start: &str, stop: &str) -> Result<Range, IpcalcError> {
        let whole = || format!("{}-{}", start.trim(), stop.trim());
        let (a, b) = (parse_bound(start)?, parse_bound(stop)?);
        let family = match (a, b) {
            (Bound::Addr(x), Bound::Addr(y)) => {
                if Family::of(x) != Family::of(y) {
                    return Err(IpcalcError::Mixed(whole()));
                }
                Family::of(x)
            }
            (Bound::Addr(x), Bound::Int(_)) | (Bound::Int(_), Bound::Addr(x)) => Family::of(x),
            (Bound::Int(x), Bound::Int(y)) => Family::of(int_to_addr(x.max(y))),
        };
        let value = |b: Bound| match b {
            Bound::Addr(a) => Ok(addr_to_int(a)),
            Bound::Int(n) if n <= family.max() => Ok(n),
            Bound::Int(_) => Err(IpcalcError::Mixed(whole())),
        };
        let (start, stop) = (value(a)?, value(b)?);
        if start > stop {
            return Err(IpcalcError::Reversed(whole()));
        }
        Ok(Range {
            family,
            start,
            stop,
        })
    }

    /// One line of a targets file: an address, a network `ADDR/PREFIX` or
    /// an `A-B` range (ivre-runscans `--file`, ivre-iprange `--file`).
    pub fn from_target(s: &str) -> Result<Range, IpcalcError> {
        let s = s.trim();
        match s.split_once('-') {
            Some((a, b)) => Range::parse(a, b),
            None => Range::from_cidr(s),
        }
    }

    /// The range of a network `ADDR/PREFIX` (host bits of ADDR ignored, as
    /// IVRE does); a bare address is a range of one.
    pub fn from_cidr(s: &str) -> Result<Range, IpcalcError> {
        let bad = || IpcalcError::Network(s.to_string());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let family = Family::of(addr);
        let prefix: u32 = match prefix {
            Some(p) => p.parse().map_err(|_| bad())?,
            None => family.bits(),
        };
        if prefix > family.bits() {
            return Err(bad());
        }
        let host = host_mask(family, prefix);
        let n = addr_to_int(addr);
        Ok(Range {
            family,
            start: n & !host,
            stop: (n & !host) | host,
        })
    }

    pub fn first(&self) -> IpAddr {
        self.family.addr(self.start)
    }

    pub fn last(&self) -> IpAddr {
        self.family.addr(self.stop)
    }

    /// How many addresses it holds (saturating at `u128::MAX` for `::/0`).
    pub fn size(&self) -> u128 {
        (self.stop - self.start).saturating_add(1)
    }

    /// The fewest networks covering exactly this range, in address order.
    pub fn cidrs(&self) -> Cidrs {
        Cidrs {
            family: self.family,
            next: Some(self.start),
            stop: self.stop,
        }
    }
}

impl fmt::Display for Range {
    /// `first-last`, IVRE's form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first(), self.last())
    }
}

/// The host part of a `/prefix` network of `family`, as a mask.
fn host_mask(family: Family, prefix: u32) -> u128 {
    let host_bits = family.bits() - prefix;
    if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    }
}

/// A network: first address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u32,
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Iterator over the networks of a range (see [`Range::cidrs`]); lazy, so
/// that a range of a few billion addresses costs nothing to enumerate.
pub struct Cidrs {
    family: Family,
    next: Option<u128>,
    stop: u128,
}

impl Iterator for Cidrs {
    type Item = Cidr;

    fn next(&mut self) -> Option<Cidr> {
        let start = self.next?;
        if start > self.stop {
            self.next = None;
            return None;
        }
        let bits = self.family.bits();
        // The largest block aligned on `start` that ends inside the range.
        let mut host_bits = start.trailing_zeros().min(bits);
        loop {
            let mask = host_mask(self.family, bits - host_bits);
            if start.checked_add(mask).is_some_and(|end| end <= self.stop) {
                self.next = start.checked_add(mask).and_then(|e| e.checked_add(1));
                if self.next.is_some_and(|n| n > self.family.max()) {
                    self.next = None;
                }
                return Some(Cidr {
                    addr: self.family.addr(start),
                    prefix: bits - host_bits,
                });
            }
            host_bits -= 1;
        }
    }
}

/// What one `ivre-ipcalc` request asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `ADDR/PREFIX`: its first and last address.
    Network(Range),
    /// `A-B`: the networks covering it.
    Range(Range),
    /// An address: its integer.
    ToInt(IpAddr),
    /// An integer: its address.
    ToAddr(u128),
}

impl Request {
    /// Reads the arguments of `ivre-ipcalc`: three arguments `A - B` are one
    /// range, otherwise each argument is a request of its own.
    pub fn parse_args<S: AsRef<str>>(args: &[S]) -> Vec<Result<Request, IpcalcError>> {
        if args.len() == 3 && args[1].as_ref().trim() == "-" {
            return vec![Range::parse(args[0].as_ref(), args[2].as_ref()).map(Request::Range)];
        }
        args.iter().map(|a| Request::parse(a.as_ref())).collect()
    }

    /// Reads one request.
    pub fn parse(arg: &str) -> Result<Request, IpcalcError> {
        let arg = arg.trim();
        if arg.contains('/') {
            return Range::from_cidr(arg).map(Request::Network);
        }
        if let Some((a, b)) = arg.split_once('-') {
            return Range::parse(a, b).map(Request::Range);
        }
        match parse_bound(arg)? {
            Bound::Int(n) => Ok(Request::ToAddr(n)),
            Bound::Addr(a) => Ok(Request::ToInt(a)),
        }
    }

    /// The answer, one line per item.
    pub fn answer(&self) -> Box<dyn Iterator<Item = String>> {
        match self {
            Request::Network(r) => Box::new(std::iter::once(r.to_string())),
            Request::Range(r) => Box::new(r.cidrs().map(|c| c.to_string())),
            Request::ToInt(a) => Box::new(std::iter::once(addr_to_int(*a).to_string())),
            Request::ToAddr(n) => Box::new(std::iter::once(int_to_addr(*n).to_string())),
        }
    }
}

/// The sort key of a line for `ivre-sort`: lines whose field is an address
/// come first, IPv4 before IPv6, by numeric value; the others after, by text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Addr(Family, u128),
    Text(String),
}

impl SortKey {
    /// The key of `field` (surrounding blanks ignored). A network
    /// (`ADDR/PREFIX`) or a range (`A-B`) sorts as its first address.
    pub fn of(field: &str) -> SortKey {
        let t = field.trim();
        let head = t.split(['/', '-']).next().unwrap_or(t);
        match head.parse::<IpAddr>() {
            Ok(a) => SortKey::Addr(Family::of(a), addr_to_int(a)),
            Err(_) => SortKey::Text(t.to_string()),
        }
    }
}

/// How `ivre-sort` picks the field to sort a line on.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    /// 1-based field number.
    pub field: usize,
    /// Separator; `None` splits on runs of blanks.
    pub separator: Option<String>,
}

impl Default for FieldSpec {
    fn default() -> Self {
        FieldSpec {
            field: 1,
            separator: None,
        }
    }
}

impl FieldSpec {
    /// The sort key of a whole line (a missing field sorts as empty text).
    pub fn key(&self, line: &str) -> SortKey {
        let n = self.field.saturating_sub(1);
        let field = match &self.separator {
            Some(sep) if !sep.is_empty() => line.split(sep.as_str()).nth(n),
            _ => line.split_whitespace().nth(n),
        };
        SortKey::of(field.unwrap_or(""))
    }
}

/// Compares two lines as `ivre-sort` orders them: by key, then by the
/// whole text so that the order is total and reproducible.
pub fn compare_lines(spec: &FieldSpec, a: &str, b: &str) -> Ordering {
    spec.key(a).cmp(&spec.key(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(args: &[&str]) -> Vec<String> {
        Request::parse_args(args)
            .into_iter()
            .flat_map(|r| r.unwrap().answer())
            .collect()
    }

    #[test]
    fn spec_oracles() {
        assert_eq!(answer(&["192.168.0.0/16"]), ["192.168.0.0-192.168.255.255"]);
        assert_eq!(answer(&["10.0.0.0-10.255.255.255"]), ["10.0.0.0/8"]);
        assert_eq!(answer(&["8.8.8.8"]), ["134744072"]);
        assert_eq!(answer(&["134744072"]), ["8.8.8.8"]);
        assert_eq!(answer(&["::"]), ["0"]);
        assert_eq!(answer(&["::", "-", "::ff"]), ["::/120"]);
        assert_eq!(
            answer(&["::", "-", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]),
            ["::/0"]
        );
        assert_eq!(
            answer(&["abcd:ef::", "-", "abcd:ff::ffff"]),
            [
                "abcd:ef::/32",
                "abcd:f0::/29",
                "abcd:f8::/30",
                "abcd:fc::/31",
                "abcd:fe::/32",
                "abcd:ff::/112"
            ]
        );
    }

    #[test]
    fn ranges_and_integers() {
        assert_eq!(answer(&["0-4294967295"]), ["0.0.0.0/0"]);
        assert_eq!(
            answer(&["3232235520", "-", "3232235775"]),
            ["192.168.0.0/24"]
        );
        assert_eq!(
            answer(&["10.0.0.1-10.0.0.6"]),
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(
            answer(&["255.255.255.255-255.255.255.255"]),
            ["255.255.255.255/32"]
        );
        assert_eq!(answer(&["10.1.2.3/8"]), ["10.0.0.0-10.255.255.255"]);
        assert_eq!(answer(&["4294967296"]), ["::1:0:0"]);
        assert_eq!(answer(&["::1:0:0"]), ["4294967296"]);
        // Integer bound takes the family of the address bound.
        assert_eq!(answer(&["::-255"]), ["::/120"]);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Request::parse("10.0.0.9-10.0.0.1"),
            Err(IpcalcError::Reversed(_))
        ));
        assert!(matches!(
            Request::parse("10.0.0.1-::1"),
            Err(IpcalcError::Mixed(_))
        ));
        assert!(matches!(
            Request::parse("10.0.0.0/33"),
            Err(IpcalcError::Network(_))
        ));
        assert!(matches!(
            Request::parse("example"),
            Err(IpcalcError::Address(_))
        ));
        assert!(matches!(
            Request::parse("1.2.3.4-99999999999"),
            Err(IpcalcError::Mixed(_))
        ));
        assert!(Request::parse("").is_err());
        assert!(Request::parse("99999999999999999999999999999999999999999").is_err());
    }

    #[test]
    fn many_cidrs_are_lazy() {
        // Worst case for IPv6: two CIDRs per bit.
        let r = Range::parse("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe").unwrap();
        assert_eq!(r.cidrs().count(), 254);
        let total: u128 = r.cidrs().map(|c| 1u128 << (128 - c.prefix)).sum();
        assert_eq!(total, u128::MAX - 1);
    }

    #[test]
    fn sort_keys() {
        let spec = FieldSpec::default();
        let mut lines = vec![
            "host example",
            "10.0.0.10 b",
            "::1 v6",
            "10.0.0.9 a",
            "9.0.0.0/8 net",
            "",
        ];
        lines.sort_by(|a, b| compare_lines(&spec, a, b));
        assert_eq!(
            lines,
            [
                "9.0.0.0/8 net",
                "10.0.0.9 a",
                "10.0.0.10 b",
                "::1 v6",
                "",
                "host example"
            ]
        );
        let spec = FieldSpec {
            field: 2,
            separator: Some(",".into()),
        };
        assert_eq!(
            spec.key("x,192.0.2.1,y"),
            SortKey::Addr(Family::V4, 3221225985)
        );
    }
}
