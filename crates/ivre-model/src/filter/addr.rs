//! Address and port conditions shared by every purpose: the positional
//! `IP|A-B|CIDR` syntax, `--net`, `--range`, IPv4 / IPv6, and IVRE's port
//! syntax.

use super::FilterError;
use std::net::IpAddr;

/// A condition on a record's address; every purpose's leaf enum embeds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrCond {
    /// The address is this one.
    Host(IpAddr),
    /// The address is in this network (address, prefix length).
    Net(IpAddr, u8),
    /// The address is between these two, inclusive.
    Range(IpAddr, IpAddr),
    /// The address is an IPv4 one (records without address match neither).
    Ipv4,
    Ipv6,
}

impl AddrCond {
    /// `a.b.c.d/n` (or a bare address, for a host).
    pub fn net(cidr: &str) -> Result<AddrCond, FilterError> {
        let (a, len) = match cidr.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (cidr, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| FilterError(format!("invalid network {cidr:?}")))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| FilterError(format!("invalid prefix length in {cidr:?}")))?,
            None => max,
        };
        Ok(AddrCond::Net(addr, len))
    }

    /// A positional address argument: `IP`, `A-B`, `CIDR` or an integer.
    pub fn parse_arg(s: &str) -> Result<AddrCond, FilterError> {
        if s.contains('/') {
            return AddrCond::net(s);
        }
        if let Some((a, b)) = s.split_once('-') {
            if !a.contains(':') || !b.contains(':') || a.parse::<IpAddr>().is_err() {
                return Ok(AddrCond::Range(address(a)?, address(b)?));
            }
        }
        Ok(AddrCond::Host(address(s)?))
    }
}

/// An address, or an IPv4 address as an integer (IVRE accepts both).
pub fn address(s: &str) -> Result<IpAddr, FilterError> {
    let s = s.trim();
    if let Ok(a) = s.parse() {
        return Ok(a);
    }
    if let Ok(n) = s.parse::<u32>() {
        return Ok(IpAddr::V4(n.into()));
    }
    Err(FilterError(format!("invalid address {s:?}")))
}

/// A `(protocol, port)` pair.
pub type PortSpec = (String, i32);

/// `[proto/]PORT`, `proto_PORT` or `host` (the host-script pseudo-port).
pub fn parse_port(s: &str) -> Result<PortSpec, FilterError> {
    let s = s.trim();
    if s == "host" {
        return Ok((String::new(), -1));
    }
    let (proto, num) = match s.split_once(['/', '_']) {
        Some((p, n)) => (p.to_lowercase(), n),
        None => ("tcp".to_string(), s),
    };
    let port = num
        .parse::<i32>()
        .ok()
        .filter(|p| (0..=65535).contains(p))
        .ok_or_else(|| FilterError(format!("invalid port {s:?}")))?;
    Ok((proto, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse() {
        assert_eq!(parse_port("80").unwrap(), ("tcp".into(), 80));
        assert_eq!(parse_port("udp/53").unwrap(), ("udp".into(), 53));
        assert_eq!(parse_port("udp_53").unwrap(), ("udp".into(), 53));
        assert!(parse_port("x").is_err());
        assert!(parse_port("70000").is_err());
    }

    #[test]
    fn addresses() {
        assert!(matches!(
            AddrCond::parse_arg("10.0.0.1-10.0.0.9").unwrap(),
            AddrCond::Range(..)
        ));
        assert!(matches!(
            AddrCond::parse_arg("10.0.0.0/8").unwrap(),
            AddrCond::Net(_, 8)
        ));
        assert!(matches!(
            AddrCond::parse_arg("::1").unwrap(),
            AddrCond::Host(_)
        ));
        assert!(AddrCond::parse_arg("10.0.0.0/33").is_err());
        assert_eq!(
            address("16777217").unwrap(),
            "1.0.0.1".parse::<IpAddr>().unwrap()
        );
    }
}
