//! IVRE "data" purpose: what is known about an IP address.
//!
//! [`GeoIpDb`] opens the MaxMind ASN, Country and City databases (GeoLite2 or
//! GeoIP2 `.mmdb` files, memory-mapped with `maxminddb`'s `mmap` feature)
//! once; it is `Send + Sync` and meant to be shared (`Arc`) between threads.
//! [`GeoIpDb::lookup`] returns an [`IpInfo`] with IVRE's output keys (strings
//! borrowed from the map: no allocation beyond the result's vectors), plus
//! the address tags that need no downloaded data ([`address_tags`]).
//!
//! A corrupt or truncated file gives a [`GeoIpError`] naming it, at open time
//! or at lookup time, never a panic: `maxminddb` 0.24 indexes without bounds
//! checks, so the files are checked before it reads their metadata, and the
//! records are read by a bounds-checked reader of ours (also much faster than
//! `maxminddb`'s serde decoding, which the tests compare it with).
//!
//! Outputs: [`write_text`] (IVRE's `ipdata` text), [`write_json`] (one line,
//! `addr` first, formatted as Python's `json.dumps`), and `IpInfo`'s
//! `Serialize` (the keys without `addr`, for the web API).
//!
//! ```no_run
//! let db = ivre_data::GeoIpDb::discover(None)?; // IVRE_GEOIP_DIR, /var/lib/GeoIP, ...
//! let info = db.lookup("81.2.69.142".parse().unwrap())?;
//! assert_eq!(info.country_code, Some("GB"));
//! println!("{}", ivre_data::to_json_line("81.2.69.142".parse().unwrap(), &info));
//! # Ok::<(), ivre_data::GeoIpError>(())
//! ```

mod mmdb;
mod output;
mod ranges;
mod records;
pub mod tags;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use output::{python_json, to_json_line, write_json, write_text, PyFormatter};
pub use ranges::RangeSelector;
pub use tags::{addr_type, address_tags, Tag};

use mmdb::MmdbFile;
use records::{text, Lang, Record};

/// Environment variable naming the directory of the `.mmdb` files.
pub const ENV_GEOIP_DIR: &str = "IVRE_GEOIP_DIR";

/// Directories searched, in order, when no directory is given (where
/// geoipupdate writes its files).
pub const DEFAULT_GEOIP_DIRS: [&str; 3] = [
    "/var/lib/GeoIP",
    "/usr/share/GeoIP",
    "/usr/local/share/GeoIP",
];

/// File names of each database, preferred first, as MaxMind ships them.
pub const ASN_FILES: [&str; 2] = ["GeoLite2-ASN.mmdb", "GeoIP2-ISP.mmdb"];
pub const COUNTRY_FILES: [&str; 2] = ["GeoIP2-Country.mmdb", "GeoLite2-Country.mmdb"];
pub const CITY_FILES: [&str; 2] = ["GeoIP2-City.mmdb", "GeoLite2-City.mmdb"];

/// Errors of this crate. Every variant about a file names it.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    #[error(
        "no MaxMind database found (looked for {files} in: {dirs}); \
         get them with geoipupdate (https://github.com/maxmind/geoipupdate) and a free \
         MaxMind account (https://www.maxmind.com/en/geolite2/signup), then point \
         --geoip-dir or {ENV_GEOIP_DIR} to the directory it writes to",
        files = all_file_names().join(", "),
        dirs = searched.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoDatabase { searched: Vec<PathBuf> },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: corrupt MaxMind database: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{}: lookup of {addr} failed: {reason}", path.display())]
    Lookup {
        path: PathBuf,
        addr: IpAddr,
        reason: String,
    },
    #[error("no MaxMind {0} database: this reverse lookup needs it")]
    MissingDatabase(&'static str),
    #[error("unknown language {0:?} (MaxMind databases have: {langs})", langs = records::LANGS.join(", "))]
    Language(String),
}

fn all_file_names() -> Vec<&'static str> {
    ASN_FILES
        .iter()
        .chain(&COUNTRY_FILES)
        .chain(&CITY_FILES)
        .copied()
        .collect()
}

/// The MaxMind databases, opened once and shared.
#[derive(Debug)]
pub struct GeoIpDb {
    asn: Option<MmdbFile>,
    country: Option<MmdbFile>,
    city: Option<MmdbFile>,
    lang: Lang,
}

impl GeoIpDb {
    /// Opens the given files (any of them may be absent).
    pub fn open_files(
        asn: Option<&Path>,
        country: Option<&Path>,
        city: Option<&Path>,
    ) -> Result<GeoIpDb, GeoIpError> {
        let open = |p: Option<&Path>| p.map(MmdbFile::open).transpose();
        GeoIpDb::checked(open(asn)?, open(country)?, open(city)?)
    }

    /// Opens databases held in memory (any of them may be absent), as
    /// checked as files are: hostile bytes give errors, never a panic.
    /// Errors name them `<ASN database in memory>` and so on.
    pub fn from_bytes(
        asn: Option<Vec<u8>>,
        country: Option<Vec<u8>>,
        city: Option<Vec<u8>>,
    ) -> Result<GeoIpDb, GeoIpError> {
        let open = |bytes: Option<Vec<u8>>, what: &str| {
            let name = PathBuf::from(format!("<{what} database in memory>"));
            bytes.map(|b| MmdbFile::from_bytes(&name, b)).transpose()
        };
        GeoIpDb::checked(
            open(asn, "ASN")?,
            open(country, "Country")?,
            open(city, "City")?,
        )
    }

    /// The databases, with a warning for each whose type is not the one
    /// expected.
    fn checked(
        asn: Option<MmdbFile>,
        country: Option<MmdbFile>,
        city: Option<MmdbFile>,
    ) -> Result<GeoIpDb, GeoIpError> {
        let db = GeoIpDb {
            asn,
            country,
            city,
            lang: Lang::default(),
        };
        for (file, want) in [
            (&db.asn, "ASN"),
            (&db.country, "Country"),
            (&db.city, "City"),
        ] {
            if let Some(f) = file {
                let kind = f.database_type();
                let ok = match want {
                    "ASN" => kind.contains("ASN") || kind.contains("ISP"),
                    _ => kind.contains(want),
                };
                if !ok {
                    log::warn!(
                        "{}: database type is {kind:?}, expected the {want} database",
                        f.path().display()
                    );
                }
            }
        }
        Ok(db)
    }

    /// Opens the databases found in `dir` under MaxMind's file names; fails
    /// when there is none.
    pub fn open_dir(dir: &Path) -> Result<GeoIpDb, GeoIpError> {
        let pick = |names: &[&str]| names.iter().map(|n| dir.join(n)).find(|p| p.is_file());
        let (asn, country, city) = (pick(&ASN_FILES), pick(&COUNTRY_FILES), pick(&CITY_FILES));
        if asn.is_none() && country.is_none() && city.is_none() {
            return Err(GeoIpError::NoDatabase {
                searched: vec![dir.to_path_buf()],
            });
        }
        for (p, what) in [(&asn, "ASN"), (&country, "Country"), (&city, "City")] {
            if p.is_none() {
                log::warn!("no {what} database in {}", dir.display());
            }
        }
        GeoIpDb::open_files(asn.as_deref(), country.as_deref(), city.as_deref())
    }

    /// Finds the databases: in `dir` when given, else in `$IVRE_GEOIP_DIR`
    /// when set, else in the first of [`DEFAULT_GEOIP_DIRS`] that has one.
    pub fn discover(dir: Option<&Path>) -> Result<GeoIpDb, GeoIpError> {
        if let Some(dir) = dir {
            return GeoIpDb::open_dir(dir);
        }
        if let Some(dir) = std::env::var_os(ENV_GEOIP_DIR).filter(|d| !d.is_empty()) {
            return GeoIpDb::open_dir(Path::new(&dir));
        }
        for dir in DEFAULT_GEOIP_DIRS {
            match GeoIpDb::open_dir(Path::new(dir)) {
                Err(GeoIpError::NoDatabase { .. }) => continue,
                other => return other,
            }
        }
        Err(GeoIpError::NoDatabase {
            searched: DEFAULT_GEOIP_DIRS.iter().map(PathBuf::from).collect(),
        })
    }

    /// Language of the names (`en` by default, as IVRE's GEOIP_LANG).
    pub fn with_language(mut self, lang: &str) -> Result<GeoIpDb, GeoIpError> {
        self.lang = Lang::from_code(lang).ok_or_else(|| GeoIpError::Language(lang.into()))?;
        Ok(self)
    }

    /// Paths of the files in use (ASN, Country, City).
    pub fn files(&self) -> [Option<&Path>; 3] {
        [&self.asn, &self.country, &self.city].map(|f| f.as_ref().map(|f| f.path()))
    }

    /// Checks every node and every data record of every file (slow on big
    /// files: a full scan); lookups check what they touch anyway.
    pub fn verify(&self) -> Result<(), GeoIpError> {
        for f in [&self.asn, &self.country, &self.city].into_iter().flatten() {
            f.verify()?;
        }
        Ok(())
    }

    /// Everything known about `addr` (IVRE's `infos_byip`): AS, then
    /// Country, then City (later wins), then the address tags. An
    /// address found nowhere gives an empty [`IpInfo`].
    pub fn lookup(&self, addr: IpAddr) -> Result<IpInfo<'_>, GeoIpError> {
        let mut info = IpInfo::default();
        self.lookup_as(addr, &mut info)?;
        self.lookup_country(addr, &mut info)?;
        self.lookup_city(addr, &mut info)?;
        info.tags = address_tags(addr);
        Ok(info)
    }

    /// AS keys only (IVRE's `as_byip`).
    pub fn lookup_as<'a>(&'a self, addr: IpAddr, info: &mut IpInfo<'a>) -> Result<(), GeoIpError> {
        if let Some(r) = record(&self.asn, addr)? {
            info.as_num = r
                .path(r.root, &["autonomous_system_number"])
                .and_then(|o| r.uint(o))
                .and_then(|n| u32::try_from(n).ok());
            info.as_name = text(&r, r.root, &["autonomous_system_organization"]);
        }
        Ok(())
    }

    /// Country keys from the Country database (IVRE's `country_byip`).
    pub fn lookup_country<'a>(
        &'a self,
        addr: IpAddr,
        info: &mut IpInfo<'a>,
    ) -> Result<(), GeoIpError> {
        if let Some(r) = record(&self.country, addr)? {
            if let Some(c) = r.get(r.root, "country") {
                let [code, names] = r.fields(c, ["iso_code", "names"]);
                let code = code.and_then(|o| r.str(o)).filter(|s| !s.is_empty());
                let name = names.and_then(|o| text(&r, o, &[self.lang.0]));
                if code.is_some() || name.is_some() {
                    info.country_code = code;
                    info.country_name = name;
                    info.country_from_country_db = true;
                }
            }
        }
        Ok(())
    }

    /// Location keys from the City database (IVRE's `location_byip`).
    pub fn lookup_city<'a>(
        &'a self,
        addr: IpAddr,
        info: &mut IpInfo<'a>,
    ) -> Result<(), GeoIpError> {
        let Some(r) = record(&self.city, addr)? else {
            return Ok(());
        };
        let lang = self.lang.0;
        let [city, continent, country, location, postal, registered, subdivisions] = r.fields(
            r.root,
            [
                "city",
                "continent",
                "country",
                "location",
                "postal",
                "registered_country",
                "subdivisions",
            ],
        );
        // (code, name) of a place.
        let place = |off: usize, code_key: &str| {
            let [code, names] = r.fields(off, [code_key, "names"]);
            (
                code.and_then(|o| r.str(o)).filter(|s| !s.is_empty()),
                names.and_then(|o| text(&r, o, &[lang])),
            )
        };
        if let Some(subs) = subdivisions {
            // Two passes rather than a temporary vector: no allocation
            // beyond the result.
            let codes: Vec<_> = r.array(subs).map(|s| place(s, "iso_code").0).collect();
            if !codes.is_empty() {
                info.region_name = Some(r.array(subs).map(|s| place(s, "iso_code").1).collect());
                info.region_code = Some(codes);
            }
        }
        if let Some(c) = continent {
            (info.continent_code, info.continent_name) = place(c, "code");
        }
        if let Some(c) = country {
            let (code, name) = place(c, "iso_code");
            if code.is_some() || name.is_some() {
                info.country_from_city_db = true;
            }
            info.country_code = code.or(info.country_code);
            info.country_name = name.or(info.country_name);
        }
        if let Some(c) = registered {
            (info.registered_country_code, info.registered_country_name) = place(c, "iso_code");
        }
        info.city = city.and_then(|c| text(&r, c, &["names", lang]));
        info.postal_code = postal.and_then(|p| text(&r, p, &["code"]));
        if let Some(loc) = location.filter(|&l| r.is_nonempty_map(l)) {
            let [lat, lon, radius] = r.fields(loc, ["latitude", "longitude", "accuracy_radius"]);
            if let (Some(lat), Some(lon)) = (lat.and_then(|o| r.f64(o)), lon.and_then(|o| r.f64(o)))
            {
                info.coordinates = Some([lat, lon]);
            }
            info.coordinates_accuracy_radius = Some(
                radius
                    .and_then(|o| r.uint(o))
                    .and_then(|n| u16::try_from(n).ok()),
            );
        }
        Ok(())
    }
}

// GeoIpDb is shared between threads.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<GeoIpDb>();
};

fn record(file: &Option<MmdbFile>, addr: IpAddr) -> Result<Option<Record<'_>>, GeoIpError> {
    match file {
        Some(f) => f.record(addr),
        None => Ok(None),
    }
}

/// What is known about an address, with IVRE's keys. Strings borrow from
/// the memory-mapped databases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IpInfo<'a> {
    pub as_num: Option<u32>,
    pub as_name: Option<&'a str>,
    pub country_code: Option<&'a str>,
    pub country_name: Option<&'a str>,
    /// One entry per subdivision, largest first (a tuple in IVRE).
    pub region_code: Option<Vec<Option<&'a str>>>,
    pub region_name: Option<Vec<Option<&'a str>>>,
    pub continent_code: Option<&'a str>,
    pub continent_name: Option<&'a str>,
    pub registered_country_code: Option<&'a str>,
    pub registered_country_name: Option<&'a str>,
    pub city: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    /// `[latitude, longitude]`.
    pub coordinates: Option<[f64; 2]>,
    /// Present (possibly `null`) whenever the City record has a location.
    pub coordinates_accuracy_radius: Option<Option<u16>>,
    pub tags: Vec<Tag>,
    /// The country keys came from the Country database (they then come
    /// right after the AS keys, as in IVRE's merged dict).
    pub country_from_country_db: bool,
    /// The country keys came from the City database (only those are
    /// printed by the text output, as IVRE does).
    pub country_from_city_db: bool,
}

impl IpInfo<'_> {
    /// Nothing known (IVRE's `None`).
    pub fn is_empty(&self) -> bool {
        self.as_num.is_none()
            && self.as_name.is_none()
            && self.country_code.is_none()
            && self.country_name.is_none()
            && self.region_code.is_none()
            && self.region_name.is_none()
            && self.continent_code.is_none()
            && self.continent_name.is_none()
            && self.registered_country_code.is_none()
            && self.registered_country_name.is_none()
            && self.city.is_none()
            && self.postal_code.is_none()
            && self.coordinates.is_none()
            && self.coordinates_accuracy_radius.is_none()
            && self.tags.is_empty()
    }
}

/// Parses an address as IVRE's tools accept it: dotted IPv4, IPv6, or an
/// integer (up to 2^32-1 an IPv4 address, above an IPv6 one).
pub fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let n: u128 = s.parse().ok()?;
        return Some(match u32::try_from(n) {
            Ok(v4) => IpAddr::V4(v4.into()),
            Err(_) => IpAddr::V6(n.into()),
        });
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_addresses() {
        assert_eq!(parse_addr("134744072"), Some("8.8.8.8".parse().unwrap()));
        assert_eq!(parse_addr("0"), Some("0.0.0.0".parse().unwrap()));
        assert_eq!(
            parse_addr("4294967295"),
            Some("255.255.255.255".parse().unwrap())
        );
        assert_eq!(parse_addr("4294967296"), Some("::1:0:0".parse().unwrap()));
        assert_eq!(parse_addr(" 10.0.0.1 "), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(
            parse_addr("2001:db8::1"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_addr("1.2.3"), None);
        assert_eq!(parse_addr("foo"), None);
        assert_eq!(parse_addr(""), None);
        assert_eq!(
            parse_addr("999999999999999999999999999999999999999999"),
            None
        );
    }

    /// Addresses of every network of the test source files (first, last).
    fn source_addresses() -> Vec<IpAddr> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/geoip");
        let mut out = Vec::new();
        for f in [
            "GeoLite2-ASN-Test",
            "GeoLite2-Country-Test",
            "GeoLite2-City-Test",
        ] {
            let text = std::fs::read_to_string(dir.join(format!("{f}.source.json"))).unwrap();
            let list: Vec<serde_json::Map<String, serde_json::Value>> =
                serde_json::from_str(&text).unwrap();
            for net in list.iter().flat_map(|m| m.keys()) {
                let net: ipnetwork::IpNetwork = net.parse().unwrap();
                out.push(net.network());
                out.push(match net {
                    ipnetwork::IpNetwork::V4(n) => IpAddr::V4(n.broadcast()),
                    ipnetwork::IpNetwork::V6(n) => IpAddr::V6(n.broadcast()),
                });
            }
        }
        out
    }

    /// The fast path gives what maxminddb's own decoding gives.
    #[test]
    fn same_as_maxminddb() {
        use maxminddb::geoip2;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/geoip");
        let db = GeoIpDb::open_files(
            Some(&dir.join("GeoLite2-ASN-Test.mmdb")),
            Some(&dir.join("GeoLite2-Country-Test.mmdb")),
            Some(&dir.join("GeoIP2-City-Test.mmdb")),
        )
        .unwrap();
        fn nonempty(s: Option<&str>) -> Option<&str> {
            s.filter(|s| !s.is_empty())
        }
        let mut hits = 0;
        for addr in source_addresses() {
            let info = db.lookup(addr).unwrap();
            let asn: Option<geoip2::Asn> = db.asn.as_ref().unwrap().decode(addr).unwrap();
            assert_eq!(
                info.as_num,
                asn.as_ref().and_then(|a| a.autonomous_system_number)
            );
            assert_eq!(
                info.as_name,
                asn.and_then(|a| nonempty(a.autonomous_system_organization))
            );
            let city: Option<geoip2::City> = db.city.as_ref().unwrap().decode(addr).unwrap();
            let Some(city) = city else {
                assert_eq!(info.city, None);
                continue;
            };
            hits += 1;
            fn en<'a>(n: &Option<std::collections::BTreeMap<&'a str, &'a str>>) -> Option<&'a str> {
                nonempty(n.as_ref().and_then(|n| n.get("en").copied()))
            }
            assert_eq!(
                info.city,
                city.city.as_ref().and_then(|c| en(&c.names)),
                "{addr}"
            );
            assert_eq!(
                info.region_code,
                city.subdivisions
                    .as_ref()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.iter().map(|s| nonempty(s.iso_code)).collect::<Vec<_>>())
            );
            assert_eq!(
                info.region_name,
                city.subdivisions
                    .as_ref()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.iter().map(|s| en(&s.names)).collect::<Vec<_>>())
            );
            assert_eq!(
                info.continent_code,
                city.continent.as_ref().and_then(|c| c.code)
            );
            assert_eq!(
                info.continent_name,
                city.continent.as_ref().and_then(|c| en(&c.names))
            );
            if let Some(c) = city.country.as_ref() {
                assert_eq!(info.country_code, nonempty(c.iso_code), "{addr}");
                assert_eq!(info.country_name, en(&c.names), "{addr}");
            }
            let rc = city.registered_country.as_ref();
            assert_eq!(
                info.registered_country_code,
                rc.and_then(|c| nonempty(c.iso_code))
            );
            assert_eq!(info.registered_country_name, rc.and_then(|c| en(&c.names)));
            assert_eq!(
                info.postal_code,
                city.postal.as_ref().and_then(|p| nonempty(p.code))
            );
            let loc = city.location.as_ref();
            assert_eq!(
                info.coordinates,
                loc.and_then(|l| Some([l.latitude?, l.longitude?])),
                "{addr}"
            );
            if let Some(l) = loc {
                assert_eq!(
                    info.coordinates_accuracy_radius,
                    Some(l.accuracy_radius),
                    "{addr}"
                );
            }
        }
        assert!(hits > 100, "{hits}");
    }
}
