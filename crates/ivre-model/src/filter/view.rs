//! The view purpose's filter leaves: every scan leaf (a view record has a
//! scan host's shape) plus the enrichment fields the view adds (`infos`:
//! country, city, autonomous system), with IVRE's aliases for countries.

use super::scan::{self, DataCond, PortCond, ScanFilter, ScanLeaf, ScriptCond, ScriptPort, Seg};
use super::value::{regex_escape, str2list, Match, Regex, ValueCond};
use super::{Filter, FilterError};
use crate::crypto::md5_hex;

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

/// The conditions on a JA3 object (`{md5, raw, sha1, sha256}`, under `base`)
/// for a value given by the user: a hash (MD5, SHA-1 or SHA-256, by its
/// length), a raw JA3 string (compared by its MD5, as stored), or a regex
/// on the raw string.
fn ja3_conds(m: Match, base: &[&str]) -> Vec<Vec<(Vec<String>, ValueCond)>> {
    let at =
        |k: &str| -> Vec<String> { base.iter().copied().chain([k]).map(String::from).collect() };
    match m {
        Match::Exact(v) => {
            let lower = v.to_lowercase();
            let hexa = !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_hexdigit());
            let (key, value) = match (hexa, lower.len()) {
                (true, 32) => ("md5", lower),
                (true, 40) => ("sha1", lower),
                (true, 64) => ("sha256", lower),
                _ => ("md5", md5_hex(v.as_bytes())),
            };
            vec![vec![(at(key), ValueCond::Str(Match::Exact(value)))]]
        }
        Match::AnyOf(list) => list
            .into_iter()
            .flat_map(|v| ja3_conds(Match::Exact(v), base))
            .collect(),
        m => vec![vec![(at("raw"), ValueCond::Str(m))]],
    }
}

/// A script `id` whose structured output (a list of objects) has an
/// element meeting one of `alternatives` (each a list of conditions on the
/// same element); no alternative: the script is there.
fn fingerprint_script(
    id: &str,
    port: ScriptPort,
    alternatives: Vec<Vec<(Vec<String>, ValueCond)>>,
) -> ScanFilter {
    let cond = |conds: Vec<(Vec<String>, ValueCond)>| {
        scan::script_cond(ScriptCond {
            name: Some(Match::Exact(id.to_string())),
            output: None,
            port,
            data: (!conds.is_empty()).then(|| DataCond {
                path: vec![Seg::Key(id.to_string()), Seg::Each],
                conds,
            }),
        })
    };
    if alternatives.is_empty() {
        return cond(Vec::new());
    }
    Filter::any(alternatives.into_iter().map(cond))
}

/// `--ssl-ja3-client [JA3]`: hosts seen as TLS clients with this JA3 (any
/// without a value); the host script `ssl-ja3-client`.
pub fn ja3_client(m: Option<Match>) -> ViewFilter {
    let alternatives = m.map(|m| ja3_conds(m, &[])).unwrap_or_default();
    from_scan(fingerprint_script(
        "ssl-ja3-client",
        ScriptPort::Host,
        alternatives,
    ))
}

/// `--ssl-ja3-server [S[:C]]`: TLS services that answered with the JA3S `S`
/// (a client `C`'s JA3, when given); the port script `ssl-ja3-server`.
pub fn ja3_server(server: Option<Match>, client: Option<Match>) -> ViewFilter {
    let servers = server.map(|m| ja3_conds(m, &[])).unwrap_or_default();
    let clients = client
        .map(|m| ja3_conds(m, &["client"]))
        .unwrap_or_default();
    // Both on the same element: every pair of alternatives.
    let alternatives = match (servers.is_empty(), clients.is_empty()) {
        (true, _) => clients,
        (false, true) => servers,
        (false, false) => servers
            .iter()
            .flat_map(|s| clients.iter().map(move |c| [s.clone(), c.clone()].concat()))
            .collect(),
    };
    from_scan(fingerprint_script(
        "ssl-ja3-server",
        ScriptPort::Service,
        alternatives,
    ))
}

/// `--ssl-ja4-client [JA4]`: hosts seen as TLS clients with this JA4
/// (`a_b_c`, a list, or a regex; any without a value).
pub fn ja4_client(m: Option<Match>) -> ViewFilter {
    let alternatives = m
        .map(|m| vec![vec![(vec!["ja4".to_string()], ValueCond::Str(m))]])
        .unwrap_or_default();
    from_scan(fingerprint_script(
        "ssl-ja4-client",
        ScriptPort::Host,
        alternatives,
    ))
}

/// `--ssl-ja4-client-raw RAW`: a JA4 given in raw form
/// (`a_<hex,...>_<hex,...>[_<hex,...>]`), hashed as the passive import
/// hashes it.
pub fn ja4_client_raw(raw: &str) -> Result<ViewFilter, FilterError> {
    let mut rec = crate::passive::PassiveRecord::new(
        "SSL_CLIENT",
        raw,
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    );
    rec.source = Some("ja4".into());
    let cfg = crate::passive::NormalizeConfig::default();
    let hashed = crate::passive::normalize(rec, &cfg).into_iter().next();
    let ja4 = hashed
        .filter(|r| {
            r.infos
                .as_ref()
                .is_some_and(|i| i.contains_key("ja4_b_raw"))
        })
        .map(|r| r.value);
    let ja4 = ja4.ok_or_else(|| {
        FilterError(format!(
            "invalid raw JA4 {raw:?} (a_<hex,...>_<hex,...>[_<hex,...>])"
        ))
    })?;
    Ok(ja4_client(Some(Match::Exact(ja4))))
}

/// `--search TEXT`: IVRE's full-text search of the view (MongoDB's `$text`
/// on the view's text index), with `$text`'s syntax: words match when any
/// of them is found, `"quoted phrases"` must all be found (the words then
/// only rank, so they are not required), `-word` must not be found. A term
/// is found in a host when one of its host names, script outputs, service
/// products, versions or extra information, tags or OS names contains it,
/// whatever the case (no stemming: a substring search, served by the
/// trigram index on the script outputs).
pub fn search(text: &str) -> Result<ViewFilter, FilterError> {
    let (mut words, mut phrases, mut excluded) = (Vec::new(), Vec::new(), Vec::new());
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            phrases.push(&quoted[..end]);
            rest = quoted.get(end + 1..).unwrap_or_default();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = &rest[..end];
            match word.strip_prefix('-') {
                Some(w) if !w.is_empty() => excluded.push(w),
                _ => words.push(word),
            }
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    phrases.retain(|p| !p.trim().is_empty());
    if words.is_empty() && phrases.is_empty() {
        return Err(FilterError(format!("nothing to search in {text:?}")));
    }
    let mut parts: Vec<ScanFilter> = phrases.into_iter().map(search_term).collect();
    if parts.is_empty() {
        parts.push(Filter::any(words.into_iter().map(search_term)));
    }
    parts.extend(excluded.into_iter().map(|w| search_term(w).not()));
    Ok(from_scan(Filter::all(parts)))
}

/// A host that has `term` in one of the fields [`search`] looks at.
fn search_term(term: &str) -> ScanFilter {
    let m = Match::Regex(Regex {
        pattern: regex_escape(term),
        flags: "i".into(),
    });
    let port = |set: fn(&mut PortCond, Match)| {
        let mut c = PortCond::default();
        set(&mut c, m.clone());
        scan::port_cond(c)
    };
    Filter::any([
        scan::hostname(Some(m.clone())),
        scan::script(None, Some(m.clone())),
        port(|c, m| c.product = Some(m)),
        port(|c, m| c.version = Some(m)),
        port(|c, m| c.extrainfo = Some(m)),
        scan::tag(Some(m.clone()), None),
        scan::os(m.clone()),
    ])
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

    fn data_conds(f: &ViewFilter) -> Vec<Vec<(Vec<String>, ValueCond)>> {
        match f {
            Filter::Leaf(ViewLeaf::Scan(ScanLeaf::Script(c))) => {
                vec![c.data.clone().map(|d| d.conds).unwrap_or_default()]
            }
            Filter::Or(v) | Filter::And(v) => v.iter().flat_map(data_conds).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn ja3_values_are_hashes_raw_strings_or_regexes() {
        let md5 = "5EF6678A6B060094834599CA16581B05";
        assert_eq!(
            data_conds(&ja3_client(Some(Match::Exact(md5.into())))),
            [[(
                vec!["md5".to_string()],
                ValueCond::Str(Match::Exact(md5.to_lowercase()))
            )]]
        );
        let raw = "769,5,0-65281";
        assert_eq!(
            data_conds(&ja3_client(Some(Match::Exact(raw.into())))),
            [[(
                vec!["md5".to_string()],
                ValueCond::Str(Match::Exact(md5_hex(raw.as_bytes())))
            )]]
        );
        assert_eq!(data_conds(&ja3_client(None)), [Vec::new()]);
        // Server and client conditions on the same element.
        let f = ja3_server(
            Some(Match::Exact(md5.into())),
            Some(Match::Exact(raw.into())),
        );
        let conds = data_conds(&f);
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0].len(), 2);
        assert_eq!(conds[0][1].0, ["client", "md5"]);
        assert!(ja4_client_raw("nonsense").is_err());
    }

    #[test]
    fn search_syntax() {
        // Words: any of them, in any of the 7 fields.
        let Filter::Or(words) = search("apache  nginx").unwrap() else {
            panic!("not a disjunction");
        };
        assert_eq!(words.len(), 14);
        // Phrases: all of them, the words then only rank; -word: excluded.
        let Filter::And(parts) = search("\"Apache httpd\" -IIS tomcat \"x\"").unwrap() else {
            panic!("not a conjunction");
        };
        assert_eq!(parts.len(), 3);
        assert!(matches!(&parts[2], Filter::Not(_)));
        assert!(search("  -x \"\" ").is_err());
    }
}
