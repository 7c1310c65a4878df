//! Which side of a NetFlow record is the server (spec 1.6.3): the port
//! that is more often open, by the frequencies of Nmap's `nmap-services`
//! (or, failing that, with the same weight for every port of a
//! `/etc/services` file); on a tie the lower port; with equal ports, the
//! first address.

use std::collections::HashMap;
use std::path::PathBuf;

/// Which side of a record is the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSide {
    /// The first address (`sa`, `addr1`).
    First,
    /// The second address (`da`, `addr2`).
    Second,
}

/// How often each (protocol, port) is open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortRanking {
    frequencies: HashMap<(String, u16), f64>,
}

/// The weight of a port listed in a `/etc/services` file.
pub const SERVICES_WEIGHT: f64 = 0.5;

impl PortRanking {
    /// No port known: the lower port is the server.
    pub fn empty() -> PortRanking {
        PortRanking::default()
    }

    /// Nmap's `nmap-services` (`name<TAB>port/proto<TAB>frequency`, `#`
    /// comments); malformed lines are ignored.
    pub fn from_nmap_services(text: &str) -> PortRanking {
        let mut r = PortRanking::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            let mut cols = line.split_whitespace();
            let (Some(_name), Some(port_proto), Some(freq)) =
                (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            if let (Some(key), Ok(freq)) = (port_key(port_proto), freq.parse::<f64>()) {
                if freq.is_finite() {
                    r.frequencies.insert(key, freq);
                }
            }
        }
        r
    }

    /// A `/etc/services` file (`name port/proto [aliases]`): every listed
    /// port weighs [`SERVICES_WEIGHT`].
    pub fn from_etc_services(text: &str) -> PortRanking {
        let mut r = PortRanking::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            let mut cols = line.split_whitespace();
            if let (Some(_name), Some(key)) = (cols.next(), cols.next().and_then(port_key)) {
                r.frequencies.insert(key, SERVICES_WEIGHT);
            }
        }
        r
    }

    /// Where the installed port lists are: `nmap-services` in `$NMAPDIR`,
    /// `/usr/share/nmap`, `/usr/local/share/nmap`, else `/etc/services`
    /// (the boolean says whether it is Nmap's).
    pub fn find_default() -> Option<(PathBuf, bool)> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(dir) = std::env::var_os("NMAPDIR") {
            dirs.push(dir.into());
        }
        dirs.push("/usr/share/nmap".into());
        dirs.push("/usr/local/share/nmap".into());
        if let Some(p) = dirs
            .into_iter()
            .map(|d| d.join("nmap-services"))
            .find(|p| p.is_file())
        {
            return Some((p, true));
        }
        let etc = PathBuf::from("/etc/services");
        etc.is_file().then_some((etc, false))
    }

    /// Ports known.
    pub fn len(&self) -> usize {
        self.frequencies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frequencies.is_empty()
    }

    /// How often `port` is open over `proto` (0 when unknown).
    pub fn frequency(&self, proto: &str, port: u16) -> f64 {
        self.frequencies
            .get(&(proto.to_owned(), port))
            .copied()
            .unwrap_or(0.0)
    }

    /// Which of two ports is the server's.
    pub fn server_side(&self, proto: &str, port1: u16, port2: u16) -> ServerSide {
        if port1 == port2 {
            return ServerSide::First;
        }
        let (f1, f2) = (self.frequency(proto, port1), self.frequency(proto, port2));
        if f1 > f2 || (f1 == f2 && port1 < port2) {
            ServerSide::First
        } else {
            ServerSide::Second
        }
    }
}

/// `80/tcp` → `("tcp", 80)`.
fn port_key(port_proto: &str) -> Option<(String, u16)> {
    let (port, proto) = port_proto.split_once('/')?;
    Some((proto.to_ascii_lowercase(), port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ivre_oracles() {
        let nmap = PortRanking::from_nmap_services(
            "# comment\nbootps\t67/udp\t0.228010\t# DHCP\nbootpc\t68/udp\t0.140039\nhttp\t80/tcp\t0.484143\nbroken line\n",
        );
        assert_eq!(nmap.len(), 3);
        assert_eq!(nmap.server_side("udp", 67, 68), ServerSide::First);
        assert_eq!(nmap.server_side("tcp", 65432, 80), ServerSide::Second);
        assert_eq!(nmap.server_side("tcp", 666, 666), ServerSide::First);
        // Unknown ports: the lower one.
        assert_eq!(nmap.server_side("tcp", 50000, 40000), ServerSide::Second);
        let etc = PortRanking::from_etc_services("http 80/tcp www\nmongodb 27017/tcp\n");
        assert_eq!(etc.frequency("tcp", 27017), SERVICES_WEIGHT);
        assert_eq!(etc.server_side("tcp", 27017, 1024), ServerSide::First);
    }
}
