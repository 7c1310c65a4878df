//! Scan targets for `ivre-runscans`: unions of address ranges (networks,
//! ranges, files of addresses, the routable IPv4 space), enumerated in
//! order or sampled at random without repetition (`--limit N`).
//!
//! Ranges are merged once (sorted, overlaps and neighbours joined), so that
//! an address is scanned once whatever the inputs, and the i-th address of
//! the union is found by bisection on cumulative sizes: sampling N of a few
//! billion addresses costs O(N log ranges), not the size of the space.

use crate::ipcalc::{Family, Range};
use std::collections::HashSet;
use std::net::IpAddr;

/// IPv4 blocks that are not routable on the Internet (IANA special-purpose
/// registry: this network, private, shared, loopback, link local, IETF
/// protocol assignments, documentation, 6to4 relay, benchmarking,
/// multicast, reserved and broadcast).
pub const UNROUTABLE_V4: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
];

/// A set of target addresses: disjoint, sorted ranges.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    ranges: Vec<Range>,
    /// Cumulative sizes (saturating), `cum[i]` = addresses before range i+1.
    cum: Vec<u128>,
}

impl Targets {
    /// The union of `ranges`.
    pub fn new(mut ranges: Vec<Range>) -> Targets {
        ranges.sort_by_key(|r| (r.family, r.start, r.stop));
        let mut merged: Vec<Range> = Vec::with_capacity(ranges.len());
        for r in ranges {
            if let Some(last) = merged.last_mut() {
                if last.family == r.family && r.start <= last.stop.saturating_add(1) {
                    last.stop = last.stop.max(r.stop);
                    continue;
                }
            }
            merged.push(r);
        }
        let mut cum = Vec::with_capacity(merged.len());
        let mut total = 0u128;
        for r in &merged {
            total = total.saturating_add(r.size());
            cum.push(total);
        }
        Targets {
            ranges: merged,
            cum,
        }
    }

    /// The routable IPv4 space (everything but [`UNROUTABLE_V4`]).
    pub fn routable_v4() -> Targets {
        let mut holes: Vec<Range> = UNROUTABLE_V4
            .iter()
            .filter_map(|c| Range::from_cidr(c).ok())
            .collect();
        holes.sort_by_key(|r| r.start);
        let mut out = Vec::new();
        let mut next = 0u128;
        for h in holes {
            if h.start > next {
                out.push(Range {
                    family: Family::V4,
                    start: next,
                    stop: h.start - 1,
                });
            }
            next = next.max(h.stop + 1);
        }
        if next <= Family::V4.max() {
            out.push(Range {
                family: Family::V4,
                start: next,
                stop: Family::V4.max(),
            });
        }
        Targets::new(out)
    }

    /// The merged ranges.
    pub fn ranges(&self) -> &[Range] {
        &self.ranges
    }

    /// Number of addresses (saturating at `u128::MAX`).
    pub fn len(&self) -> u128 {
        self.cum.last().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th address of the union (in order), if there is one.
    pub fn nth(&self, i: u128) -> Option<IpAddr> {
        let k = self.cum.partition_point(|&c| c <= i);
        let r = self.ranges.get(k)?;
        let before = if k == 0 { 0 } else { self.cum[k - 1] };
        Some(r.family.addr(r.start + (i - before)))
    }

    /// Every address, in order (lazy).
    pub fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.ranges.iter().flat_map(|r| {
            let (f, start, stop) = (r.family, r.start, r.stop);
            (0..=(stop - start)).map(move |o| f.addr(start + o))
        })
    }

    /// `n` distinct addresses drawn at random (all of them, in order, when
    /// `n` covers the set), by Floyd's algorithm: memory O(n).
    pub fn sample(&self, n: u128, rng: &mut impl FnMut() -> u128) -> Vec<IpAddr> {
        let total = self.len();
        if n >= total {
            return self.iter().collect();
        }
        let mut chosen: HashSet<u128> = HashSet::new();
        let mut order = Vec::new();
        for j in (total - n)..total {
            let t = rng() % (j + 1);
            let pick = if chosen.contains(&t) { j } else { t };
            chosen.insert(pick);
            order.push(pick);
        }
        order.into_iter().filter_map(|i| self.nth(i)).collect()
    }
}

/// A small, seedable pseudo-random generator (xorshift128+ on two u64):
/// scan sampling needs spread, not secrecy.
pub struct XorShift(u64, u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        // SplitMix64 to spread a small seed over the state.
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        let (a, b) = (next(), next());
        XorShift(a | 1, b)
    }

    pub fn next_u64(&mut self) -> u64 {
        let (mut s1, s0) = (self.0, self.1);
        self.0 = s0;
        s1 ^= s1 << 23;
        self.1 = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        self.1.wrapping_add(s0)
    }

    pub fn next_u128(&mut self) -> u128 {
        ((self.next_u64() as u128) << 64) | self.next_u64() as u128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(specs: &[&str]) -> Targets {
        Targets::new(
            specs
                .iter()
                .map(|s| match s.split_once('-') {
                    Some((a, b)) => Range::parse(a, b).unwrap(),
                    None => Range::from_cidr(s).unwrap(),
                })
                .collect(),
        )
    }

    #[test]
    fn union_and_order() {
        let x = t(&["10.0.0.4/30", "10.0.0.0-10.0.0.5", "10.0.0.9", "::1"]);
        assert_eq!(x.len(), 10);
        assert_eq!(x.ranges().len(), 3);
        let all: Vec<String> = x.iter().map(|a| a.to_string()).collect();
        assert_eq!(all[0], "10.0.0.0");
        assert_eq!(all[7], "10.0.0.7");
        assert_eq!(all[8], "10.0.0.9");
        assert_eq!(all[9], "::1");
        assert_eq!(x.nth(8).unwrap().to_string(), "10.0.0.9");
        assert_eq!(x.nth(10), None);
    }

    #[test]
    fn routable_space() {
        let r = Targets::routable_v4();
        // 2^32 minus the special-purpose blocks.
        assert_eq!(r.len(), 3_702_258_432);
        assert_eq!(r.nth(0).unwrap().to_string(), "1.0.0.0");
        assert_eq!(r.nth(r.len() - 1).unwrap().to_string(), "223.255.255.255");
        let mut g = XorShift::new(42);
        let s = r.sample(1000, &mut || g.next_u128());
        assert_eq!(s.len(), 1000);
        assert_eq!(s.iter().collect::<HashSet<_>>().len(), 1000);
        let holes: Vec<Range> = UNROUTABLE_V4
            .iter()
            .map(|c| Range::from_cidr(c).unwrap())
            .collect();
        for a in s {
            let n = crate::ipcalc::addr_to_int(a);
            assert!(!holes.iter().any(|h| h.start <= n && n <= h.stop), "{a}");
        }
    }

    #[test]
    fn small_samples() {
        let x = t(&["127.0.0.0/30"]);
        let mut g = XorShift::new(1);
        assert_eq!(x.sample(10, &mut || g.next_u128()).len(), 4);
        let s = x.sample(3, &mut || g.next_u128());
        assert_eq!(s.len(), 3);
        assert_eq!(s.iter().collect::<HashSet<_>>().len(), 3);
    }
}
