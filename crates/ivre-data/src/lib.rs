//! IVRE "data" purpose: what is known about an IP address.
//!
//! [`GeoIpDb`] opens the MaxMind ASN, Country and City databases (GeoLite2 or
//! GeoIP2 `.mmdb` files, memory-mapped, read with the `maxminddb` crate) once;
//! it is `Send + Sync` and meant to be shared (`Arc`) between threads.
//! [`GeoIpDb::lookup`] returns an [`IpInfo`] with IVRE's output keys, plus the
//! address tags that need no downloaded data ([`address_tags`]).
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
mod records;
pub mod tags;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use output::{python_json, to_json_line, write_json, write_text, PyFormatter};
pub use tags::{addr_type, address_tags, Tag};

use mmdb::MmdbFile;
use records::{AsnRecord, CityRecord, CountryRecord, Lang};

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
        let db = GeoIpDb {
            asn: open(asn)?,
            country: open(country)?,
            city: open(city)?,
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
                        "{}: database type is {kind:?}, expected a {want} database",
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
        if let Some(rec) = get::<AsnRecord>(&self.asn, addr)? {
            info.as_num = rec.autonomous_system_number;
            info.as_name = rec.autonomous_system_organization.filter(|s| !s.is_empty());
        }
        Ok(())
    }

    /// Country keys from the Country database (IVRE's `country_byip`).
    pub fn lookup_country<'a>(
        &'a self,
        addr: IpAddr,
        info: &mut IpInfo<'a>,
    ) -> Result<(), GeoIpError> {
        if let Some(rec) = get::<CountryRecord>(&self.country, addr)? {
            if let Some(c) = rec.country {
                let (code, name) = (c.iso_code(), c.name(self.lang));
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
        let Some(rec) = get::<CityRecord>(&self.city, addr)? else {
            return Ok(());
        };
        let lang = self.lang;
        if let Some(subs) = rec.subdivisions.filter(|s| !s.is_empty()) {
            info.region_code = Some(subs.iter().map(|s| s.iso_code()).collect());
            info.region_name = Some(subs.iter().map(|s| s.name(lang)).collect());
        }
        if let Some(c) = rec.continent {
            info.continent_code = c.code.filter(|s| !s.is_empty());
            info.continent_name = c.name(lang);
        }
        if let Some(c) = rec.country {
            let (code, name) = (c.iso_code(), c.name(lang));
            if code.is_some() || name.is_some() {
                info.country_from_city_db = true;
            }
            info.country_code = code.or(info.country_code);
            info.country_name = name.or(info.country_name);
        }
        if let Some(c) = rec.registered_country {
            info.registered_country_code = c.iso_code();
            info.registered_country_name = c.name(lang);
        }
        info.city = rec.city.and_then(|c| c.name(lang));
        info.postal_code = rec.postal.and_then(|p| p.code).filter(|s| !s.is_empty());
        if let Some(loc) = rec.location.filter(|l| !l.is_empty()) {
            if let (Some(lat), Some(lon)) = (loc.latitude, loc.longitude) {
                info.coordinates = Some([lat, lon]);
            }
            info.coordinates_accuracy_radius = Some(loc.accuracy_radius);
        }
        Ok(())
    }
}

// GeoIpDb is shared between threads.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<GeoIpDb>();
};

fn get<'a, T: serde::Deserialize<'a>>(
    file: &'a Option<MmdbFile>,
    addr: IpAddr,
) -> Result<Option<T>, GeoIpError> {
    match file {
        Some(f) => f.get(addr),
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
}
