//! The parts of the MaxMind records that IVRE uses, decoded without
//! allocation: strings borrow from the memory map, names keep only the
//! languages MaxMind ships, in a fixed array.

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Languages of the `names` maps of MaxMind databases.
pub(crate) const LANGS: [&str; 8] = ["de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lang(usize);

impl Default for Lang {
    fn default() -> Self {
        Lang(1) // en
    }
}

impl Lang {
    pub(crate) fn from_code(code: &str) -> Option<Lang> {
        LANGS.iter().position(|l| *l == code).map(Lang)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Names<'a>([Option<&'a str>; LANGS.len()]);

impl<'de: 'a, 'a> Deserialize<'de> for Names<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Names<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of names")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Names<'a>, M::Error> {
                let mut names = Names::default();
                while let Some(key) = map.next_key::<&'de str>()? {
                    match LANGS.iter().position(|l| *l == key) {
                        Some(i) => names.0[i] = Some(map.next_value::<&'de str>()?),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(names)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A continent, country, subdivision or city block.
#[derive(Debug, Deserialize)]
pub(crate) struct Place<'a> {
    #[serde(borrow, default)]
    pub code: Option<&'a str>,
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    names: Option<Names<'a>>,
}

impl<'a> Place<'a> {
    pub(crate) fn iso_code(&self) -> Option<&'a str> {
        self.iso_code.filter(|s| !s.is_empty())
    }
    pub(crate) fn name(&self, lang: Lang) -> Option<&'a str> {
        self.names
            .as_ref()
            .and_then(|n| n.0[lang.0])
            .filter(|s| !s.is_empty())
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AsnRecord<'a> {
    #[serde(default)]
    pub autonomous_system_number: Option<u32>,
    #[serde(borrow, default)]
    pub autonomous_system_organization: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CountryRecord<'a> {
    #[serde(borrow, default)]
    pub country: Option<Place<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Location {
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub accuracy_radius: Option<u16>,
    #[serde(default)]
    time_zone: Option<IgnoredAny>,
    #[serde(default)]
    metro_code: Option<IgnoredAny>,
}

impl Location {
    /// An empty `location` map (IVRE skips it).
    pub(crate) fn is_empty(&self) -> bool {
        self.latitude.is_none()
            && self.longitude.is_none()
            && self.accuracy_radius.is_none()
            && self.time_zone.is_none()
            && self.metro_code.is_none()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Postal<'a> {
    #[serde(borrow, default)]
    pub code: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CityRecord<'a> {
    #[serde(borrow, default)]
    pub city: Option<Place<'a>>,
    #[serde(borrow, default)]
    pub continent: Option<Place<'a>>,
    #[serde(borrow, default)]
    pub country: Option<Place<'a>>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(borrow, default)]
    pub postal: Option<Postal<'a>>,
    #[serde(borrow, default)]
    pub registered_country: Option<Place<'a>>,
    #[serde(borrow, default)]
    pub subdivisions: Option<Vec<Place<'a>>>,
}
