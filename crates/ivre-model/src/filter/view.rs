//! The view purpose's filter leaves: every scan leaf (a view record has a
//! scan host's shape) plus the enrichment fields the view adds (`infos`:
//! country, city, autonomous system), with IVRE's aliases for countries.

use super::scan::{ScanFilter, ScanLeaf};
use super::value::{str2list, Match};
use super::{Filter, FilterError};

/// A predicate on one view record.
// Most leaves of a view filter are scan leaves: boxing them would cost an
// allocation each to shrink the rare others.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ViewLeaf {
    /// Any scan predicate, on the view's tables.
    Scan(ScanLeaf),
    /// `infos.country_code` (ISO 3166 alpha-2, upper case).
    Country(Match),
    /// `infos.city`.
    City(Match),
    /// `infos.as_num` is one of these.
    AsNum(Vec<i64>),
    /// `infos.as_name`.
    AsName(Match),
}

pub type ViewFilter = Filter<ViewLeaf>;

/// A scan filter as a view filter.
pub fn from_scan(f: ScanFilter) -> ViewFilter {
    f.map(&mut ViewLeaf::Scan)
}

/// The member states of the European Union (IVRE's `EU` alias).
pub const EU_COUNTRIES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// `--country CODES`: a comma-separated list of country codes, `UK`
/// standing for `GB` and `EU` for the member states; or a `/regex/`.
pub fn country(codes: &str) -> Result<ViewFilter, FilterError> {
    if codes.starts_with('/') {
        return Ok(Filter::leaf(ViewLeaf::Country(str2list(codes)?)));
    }
    let mut list: Vec<String> = Vec::new();
    for code in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        match code.to_ascii_uppercase().as_str() {
            "UK" => list.push("GB".into()),
            "EU" => list.extend(EU_COUNTRIES.iter().map(|c| c.to_string())),
            c => list.push(c.to_string()),
        }
    }
    if list.is_empty() {
        return Err(FilterError(format!("no country code in {codes:?}")));
    }
    list.sort();
    list.dedup();
    Ok(Filter::leaf(ViewLeaf::Country(Match::AnyOf(list))))
}

/// `--asnum N[,N]`: autonomous system numbers, `AS` prefix allowed.
pub fn asnum(list: &str) -> Result<ViewFilter, FilterError> {
    let nums = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            let digits = n
                .strip_prefix("AS")
                .or_else(|| n.strip_prefix("as"))
                .unwrap_or(n);
            digits
                .parse::<i64>()
                .map_err(|_| FilterError(format!("invalid AS number {n:?}")))
        })
        .collect::<Result<Vec<i64>, _>>()?;
    if nums.is_empty() {
        return Err(FilterError(format!("no AS number in {list:?}")));
    }
    Ok(Filter::leaf(ViewLeaf::AsNum(nums)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_aliases() {
        let Filter::Leaf(ViewLeaf::Country(Match::AnyOf(codes))) = country("uk,CH, EU").unwrap()
        else {
            panic!("not a country list");
        };
        assert_eq!(codes.len(), 29);
        assert!(codes.contains(&"GB".to_string()) && codes.contains(&"FR".to_string()));
        assert!(!codes.contains(&"UK".to_string()));
        assert!(country(",").is_err());
    }

    #[test]
    fn as_numbers() {
        assert_eq!(
            asnum("AS3215, 15169").unwrap(),
            Filter::leaf(ViewLeaf::AsNum(vec![3215, 15169]))
        );
        assert!(asnum("ASx").is_err());
    }
}
