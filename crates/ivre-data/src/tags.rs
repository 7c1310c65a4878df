//! Address tags that need no downloaded data: the special-purpose ranges of
//! the IANA IPv4 and IPv6 registries, tagged `Reserved address` with the
//! information `Address type <type>` as IVRE does.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Serialize;

/// A tag attached to an address (`{"value", "type", "info"}` in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub value: Cow<'static, str>,
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    pub info: Vec<Cow<'static, str>>,
}

/// Special-purpose ranges, in address order, as inclusive bounds on the
/// 128-bit value of the address (IPv4 addresses are mapped into
/// `::ffff:0:0/96`). Addresses between the ranges are ordinary.
const fn v4(a: u8, b: u8, c: u8, d: u8) -> u128 {
    0xffff_0000_0000 | (a as u128) << 24 | (b as u128) << 16 | (c as u128) << 8 | d as u128
}
const fn v6(hi: u64, lo: u64) -> u128 {
    (hi as u128) << 64 | lo as u128
}
const ONES: u64 = u64::MAX;

static RANGES: &[(u128, u128, &str)] = &[
    (0, 0, "Unspecified"),
    (1, 1, "Loopback"),
    (2, 0xfffe_ffff_ffff, "Reserved"),
    (v4(0, 0, 0, 0), v4(0, 255, 255, 255), "Current-Net"),
    (v4(10, 0, 0, 0), v4(10, 255, 255, 255), "Private"),
    (v4(100, 64, 0, 0), v4(100, 127, 255, 255), "CGN"),
    (v4(127, 0, 0, 0), v4(127, 255, 255, 255), "Loopback"),
    (v4(169, 254, 0, 0), v4(169, 254, 255, 255), "Link-Local"),
    (v4(172, 16, 0, 0), v4(172, 31, 255, 255), "Private"),
    (v4(192, 0, 0, 0), v4(192, 0, 0, 255), "Reserved"),
    (v4(192, 0, 2, 0), v4(192, 0, 2, 255), "Documentation"),
    (v4(192, 88, 99, 0), v4(192, 88, 99, 255), "IPv6-to-IPv4"),
    (v4(192, 168, 0, 0), v4(192, 168, 255, 255), "Private"),
    (v4(198, 18, 0, 0), v4(198, 19, 255, 255), "Benchmark"),
    (v4(198, 51, 100, 0), v4(198, 51, 100, 255), "Documentation"),
    (v4(203, 0, 113, 0), v4(203, 0, 113, 255), "Documentation"),
    (v4(224, 0, 0, 0), v4(239, 255, 255, 255), "Multicast"),
    (v4(240, 0, 0, 0), v4(255, 255, 255, 254), "Reserved"),
    (v4(255, 255, 255, 255), v4(255, 255, 255, 255), "Broadcast"),
    // From ::1:0:0:0 (just after the IPv4-mapped block) up to the NAT64 prefix.
    (
        v4(255, 255, 255, 255) + 1,
        v6(0x0064_ff9a_ffff_ffff, ONES),
        "Reserved",
    ),
    (
        v6(0x0064_ff9b_0000_0000, 0),
        v6(0x0064_ff9b_0000_0000, 0xffff_ffff),
        "Well-known prefix",
    ),
    (
        v6(0x0064_ff9b_0000_0000, 0x1_0000_0000),
        v6(0x00ff_ffff_ffff_ffff, ONES),
        "Reserved",
    ),
    (
        v6(0x0100_0000_0000_0000, 0),
        v6(0x0100_0000_0000_0000, ONES),
        "Discard (RTBH)",
    ),
    (
        v6(0x0100_0000_0000_0001, 0),
        v6(0x1fff_ffff_ffff_ffff, ONES),
        "Reserved",
    ),
    (
        v6(0x2001_0000_0000_0000, 0),
        v6(0x2001_01ff_ffff_ffff, ONES),
        "Protocol assignments",
    ),
    (
        v6(0x2001_0db8_0000_0000, 0),
        v6(0x2001_0db8_ffff_ffff, ONES),
        "Documentation",
    ),
    (
        v6(0x2002_0000_0000_0000, 0),
        v6(0x2002_ffff_ffff_ffff, ONES),
        "6to4",
    ),
    (
        v6(0x4000_0000_0000_0000, 0),
        v6(0xfbff_ffff_ffff_ffff, ONES),
        "Reserved",
    ),
    (
        v6(0xfc00_0000_0000_0000, 0),
        v6(0xfdff_ffff_ffff_ffff, ONES),
        "Unique Local Unicast",
    ),
    (
        v6(0xfe00_0000_0000_0000, 0),
        v6(0xfe7f_ffff_ffff_ffff, ONES),
        "Reserved",
    ),
    (
        v6(0xfe80_0000_0000_0000, 0),
        v6(0xfebf_ffff_ffff_ffff, ONES),
        "Link Local Unicast",
    ),
    (
        v6(0xfec0_0000_0000_0000, 0),
        v6(0xfeff_ffff_ffff_ffff, ONES),
        "Reserved",
    ),
    (v6(0xff00_0000_0000_0000, 0), u128::MAX, "Multicast"),
];

/// The tag information of each type (no allocation per tag).
static INFOS: &[&str] = &[
    "Address type Unspecified",
    "Address type Loopback",
    "Address type Reserved",
    "Address type Current-Net",
    "Address type Private",
    "Address type CGN",
    "Address type Link-Local",
    "Address type Documentation",
    "Address type IPv6-to-IPv4",
    "Address type Benchmark",
    "Address type Multicast",
    "Address type Broadcast",
    "Address type Well-known prefix",
    "Address type Discard (RTBH)",
    "Address type Protocol assignments",
    "Address type 6to4",
    "Address type Unique Local Unicast",
    "Address type Link Local Unicast",
];

/// The special-purpose type of an address (`Private`, `Loopback`,
/// `Multicast`, …), or `None` for an ordinary address.
pub fn addr_type(addr: IpAddr) -> Option<&'static str> {
    let value = match addr {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    };
    // First range whose last address is >= value.
    let i = RANGES.partition_point(|&(_, last, _)| last < value);
    RANGES
        .get(i)
        .filter(|&&(first, _, _)| first <= value)
        .map(|&(_, _, name)| name)
}

/// The tags of an address that need no data file.
pub fn address_tags(addr: IpAddr) -> Vec<Tag> {
    match addr_type(addr) {
        Some(kind) => vec![Tag {
            value: Cow::Borrowed("Reserved address"),
            kind: Cow::Borrowed("info"),
            info: vec![INFOS
                .iter()
                .find(|i| i.strip_prefix("Address type ") == Some(kind))
                .map_or_else(
                    || Cow::Owned(format!("Address type {kind}")),
                    |i| Cow::Borrowed(*i),
                )],
        }],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<&'static str> {
        addr_type(s.parse().unwrap())
    }

    #[test]
    fn ranges_are_sorted_and_disjoint() {
        for w in RANGES.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{:?}", w);
        }
    }

    #[test]
    fn every_type_has_a_static_info() {
        for (_, _, name) in RANGES {
            assert!(
                INFOS.contains(&format!("Address type {name}").as_str()),
                "{name}"
            );
        }
    }

    #[test]
    fn ipv4_types() {
        assert_eq!(t("10.0.0.1"), Some("Private"));
        assert_eq!(t("172.16.0.0"), Some("Private"));
        assert_eq!(t("172.32.0.0"), None);
        assert_eq!(t("192.168.1.1"), Some("Private"));
        assert_eq!(t("127.0.0.1"), Some("Loopback"));
        assert_eq!(t("0.1.2.3"), Some("Current-Net"));
        assert_eq!(t("100.64.0.1"), Some("CGN"));
        assert_eq!(t("100.128.0.1"), None);
        assert_eq!(t("169.254.1.1"), Some("Link-Local"));
        assert_eq!(t("192.0.2.1"), Some("Documentation"));
        assert_eq!(t("198.19.255.255"), Some("Benchmark"));
        assert_eq!(t("224.0.0.1"), Some("Multicast"));
        assert_eq!(t("240.0.0.1"), Some("Reserved"));
        assert_eq!(t("255.255.255.255"), Some("Broadcast"));
        assert_eq!(t("8.8.8.8"), None);
        assert_eq!(t("81.2.69.142"), None);
        assert_eq!(t("::ffff:10.1.2.3"), Some("Private"));
    }

    #[test]
    fn ipv6_types() {
        assert_eq!(t("::"), Some("Unspecified"));
        assert_eq!(t("::1"), Some("Loopback"));
        assert_eq!(t("::2"), Some("Reserved"));
        assert_eq!(t("64:ff9b::1.2.3.4"), Some("Well-known prefix"));
        assert_eq!(t("100::1"), Some("Discard (RTBH)"));
        assert_eq!(t("2001::1"), Some("Protocol assignments"));
        assert_eq!(t("2001:db8::1"), Some("Documentation"));
        assert_eq!(t("2002::1"), Some("6to4"));
        assert_eq!(t("2003::1"), None);
        assert_eq!(t("2001:1700::1"), None);
        assert_eq!(t("fd00::1"), Some("Unique Local Unicast"));
        assert_eq!(t("fe80::1"), Some("Link Local Unicast"));
        assert_eq!(t("ff02::1"), Some("Multicast"));
        assert_eq!(t("4000::"), Some("Reserved"));
    }

    #[test]
    fn tag_shape() {
        let tags = address_tags("10.0.0.1".parse().unwrap());
        assert_eq!(
            serde_json::to_string(&tags).unwrap(),
            r#"[{"value":"Reserved address","type":"info","info":["Address type Private"]}]"#
        );
        assert!(address_tags("8.8.8.8".parse().unwrap()).is_empty());
    }
}
