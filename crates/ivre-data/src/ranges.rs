//! Reverse lookups: the IPv4 ranges of a country, an AS, a region or a
//! city, found by walking the whole search tree of the matching MaxMind
//! database in address order and joining neighbouring networks (what IVRE
//! reads from its CSV "dumps" of the same databases). IPv4 only, as IVRE.

use crate::records::{text, Record};
use crate::{GeoIpDb, GeoIpError};
use std::collections::HashMap;

/// What a reverse lookup selects; several values are a union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeSelector {
    /// AS numbers (ASN database).
    Asnum(Vec<u32>),
    /// Country codes (Country database, else City).
    Country(Vec<String>),
    /// Registered country codes (Country database, else City).
    RegisteredCountry(Vec<String>),
    /// A region (subdivision ISO code) of a country (City database).
    Region { country: String, region: String },
    /// A city (name in the database's language) of a country (City database).
    City { country: String, city: String },
}

impl GeoIpDb {
    /// The IPv4 ranges `(first, last)` (inclusive, as integers) that
    /// `selector` selects, sorted and merged.
    pub fn ipv4_ranges(&self, selector: &RangeSelector) -> Result<Vec<(u32, u32)>, GeoIpError> {
        let lang = self.lang.0;
        let (file, what) = match selector {
            RangeSelector::Asnum(_) => (self.asn.as_ref(), "ASN"),
            RangeSelector::Country(_) | RangeSelector::RegisteredCountry(_) => {
                match self.country.as_ref() {
                    Some(f) => (Some(f), "Country"),
                    None => (self.city.as_ref(), "Country or City"),
                }
            }
            RangeSelector::Region { .. } | RangeSelector::City { .. } => {
                (self.city.as_ref(), "City")
            }
        };
        let file = file.ok_or(GeoIpError::MissingDatabase(what))?;
        let upper = |v: &[String]| v.iter().map(|s| s.to_ascii_uppercase()).collect::<Vec<_>>();
        let wanted_cc = match selector {
            RangeSelector::Country(c) | RangeSelector::RegisteredCountry(c) => upper(c),
            RangeSelector::Region { country, .. } | RangeSelector::City { country, .. } => {
                upper(std::slice::from_ref(country))
            }
            RangeSelector::Asnum(_) => Vec::new(),
        };
        let matches = |r: &Record<'_>| -> bool {
            let cc = |key: &str| text(r, r.root, &[key, "iso_code"]);
            match selector {
                RangeSelector::Asnum(asns) => r
                    .path(r.root, &["autonomous_system_number"])
                    .and_then(|o| r.uint(o))
                    .is_some_and(|n| asns.iter().any(|a| u64::from(*a) == n)),
                RangeSelector::Country(_) => {
                    cc("country").is_some_and(|c| wanted_cc.iter().any(|w| w == c))
                }
                RangeSelector::RegisteredCountry(_) => {
                    cc("registered_country").is_some_and(|c| wanted_cc.iter().any(|w| w == c))
                }
                RangeSelector::Region { region, .. } => {
                    cc("country").is_some_and(|c| wanted_cc[0] == c)
                        && r.get(r.root, "subdivisions").is_some_and(|subs| {
                            r.array(subs).any(|s| {
                                text(r, s, &["iso_code"])
                                    .is_some_and(|code| code.eq_ignore_ascii_case(region))
                            })
                        })
                }
                RangeSelector::City { city, .. } => {
                    cc("country").is_some_and(|c| wanted_cc[0] == c)
                        && text(r, r.root, &["city", "names", lang])
                            .is_some_and(|name| name.eq_ignore_ascii_case(city))
                }
            }
        };
        // Records are shared by many networks: decide each once.
        let mut decided: HashMap<usize, bool> = HashMap::new();
        let mut out: Vec<(u32, u32)> = Vec::new();
        file.walk_v4(|first, last, record| {
            let keep = *decided
                .entry(record.root)
                .or_insert_with(|| matches(&record));
            if keep {
                match out.last_mut() {
                    Some(prev) if prev.1.checked_add(1) == Some(first) => prev.1 = last,
                    _ => out.push((first, last)),
                }
            }
            Ok(())
        })?;
        Ok(out)
    }
}
