//! MAC address vendors from the IEEE Registration Authority's public
//! listings, as Debian's `ieee-data` package installs them
//! (`/usr/share/ieee-data/{oui,mam,oui36,iab}.csv`): MA-L blocks (24-bit
//! prefixes), MA-M (28 bits), MA-S and IAB (36 bits).
//!
//! A lookup returns the longest matching prefix, so that a 36-bit block
//! inside the IEEE's own MA-L block (`00:50:C2`, IAB) names its owner.
//! Files are the IEEE's CSV (`Registry,Assignment,Organization
//! Name,Organization Address`, quoted cells); bad rows are reported with
//! their line and skipped.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

/// A 48-bit MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac(pub u64);

impl Mac {
    /// Reads `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff`, `aabb.ccdd.eeff` or
    /// `aabbccddeeff` (any case).
    pub fn parse(s: &str) -> Option<Mac> {
        let s = s.trim();
        let hex: String = if s.len() == 17 && (s.contains(':') || s.contains('-')) {
            let sep = s.as_bytes()[2];
            let parts: Vec<&str> = s.split(sep as char).collect();
            if parts.len() != 6 || parts.iter().any(|p| p.len() != 2) {
                return None;
            }
            parts.concat()
        } else if s.len() == 14 && s.as_bytes()[4] == b'.' && s.as_bytes()[9] == b'.' {
            s.split('.').collect()
        } else if s.len() == 12 {
            s.to_string()
        } else {
            return None;
        };
        if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(&hex, 16).ok().map(Mac)
    }

    /// The group (multicast / broadcast) bit.
    pub fn is_multicast(self) -> bool {
        (self.0 >> 40) & 1 == 1
    }

    /// The locally administered bit (randomised or assigned by hand: no vendor).
    pub fn is_local(self) -> bool {
        (self.0 >> 41) & 1 == 1
    }
}

impl fmt::Display for Mac {
    /// Lower case, colon separated (as the passive records store MACs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0.to_be_bytes();
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[2], b[3], b[4], b[5], b[6], b[7]
        )
    }
}

/// One assignment of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vendor {
    /// `MA-L`, `MA-M`, `MA-S` or `IAB`.
    pub registry: String,
    /// Prefix length in bits (24, 28 or 36).
    pub bits: u32,
    /// The prefix as the IEEE writes it (`F4F5D8`, `70B3D5F2F`).
    pub assignment: String,
    /// Organization name (`Private` for unlisted owners).
    pub name: String,
    /// Organization address (may be empty).
    pub address: String,
}

/// A bad row of a registry file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct OuiError {
    pub line: u64,
    pub message: String,
}

/// The registry: one table per prefix length.
#[derive(Debug, Default)]
pub struct OuiDb {
    tables: Vec<(u32, HashMap<u64, Vendor>)>,
}

impl OuiDb {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of assignments loaded.
    pub fn len(&self) -> usize {
        self.tables.iter().map(|(_, t)| t.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds the rows of one IEEE CSV file; returns its bad rows (skipped).
    /// Only a read error (I/O) fails the whole file.
    pub fn read_csv(&mut self, input: impl Read) -> Result<Vec<OuiError>, std::io::Error> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(input);
        let mut bad = Vec::new();
        for row in rdr.records() {
            let row = match row {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    match e.into_kind() {
                        csv::ErrorKind::Io(io) => return Err(io),
                        kind => {
                            bad.push(OuiError {
                                line,
                                message: format!("{kind:?}"),
                            });
                            continue;
                        }
                    }
                }
            };
            let line = row.position().map_or(0, |p| p.line());
            match vendor(&row) {
                Ok((prefix, v)) => self.insert(prefix, v),
                Err(message) => bad.push(OuiError { line, message }),
            }
        }
        Ok(bad)
    }

    fn insert(&mut self, prefix: u64, v: Vendor) {
        let pos = match self.tables.iter().position(|(b, _)| *b == v.bits) {
            Some(p) => p,
            None => {
                self.tables.push((v.bits, HashMap::new()));
                // Longest prefixes first: the most specific owner wins.
                self.tables.sort_by_key(|t| std::cmp::Reverse(t.0));
                self.tables
                    .iter()
                    .position(|(b, _)| *b == v.bits)
                    .unwrap_or(0)
            }
        };
        self.tables[pos].1.insert(prefix, v);
    }

    /// The owner of the longest registered prefix of `mac`.
    pub fn lookup(&self, mac: Mac) -> Option<&Vendor> {
        self.tables
            .iter()
            .find_map(|(bits, t)| t.get(&(mac.0 >> (48 - bits))))
    }
}

/// Reads one row: `Registry,Assignment,Organization Name,Organization Address`.
fn vendor(row: &csv::StringRecord) -> Result<(u64, Vendor), String> {
    let cell = |i: usize| row.get(i).unwrap_or("").trim();
    let (registry, assignment) = (cell(0), cell(1));
    let bits = match assignment.len() {
        6 => 24,
        7 => 28,
        9 => 36,
        _ => {
            return Err(format!(
                "assignment {assignment:?} is not 6, 7 or 9 hex digits"
            ))
        }
    };
    let prefix = u64::from_str_radix(assignment, 16)
        .map_err(|_| format!("assignment {assignment:?} is not hexadecimal"))?;
    if cell(2).is_empty() {
        return Err(format!("assignment {assignment} has no organization name"));
    }
    Ok((
        prefix,
        Vendor {
            registry: registry.to_string(),
            bits,
            assignment: assignment.to_uppercase(),
            name: cell(2).to_string(),
            address: cell(3).to_string(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "Registry,Assignment,Organization Name,Organization Address\n\
MA-L,000000,XEROX CORPORATION,M/S 105-50C WEBSTER NY US 14580 \n\
MA-L,0050C2,IEEE Registration Authority,445 Hoes Lane Piscataway NJ US 08554 \n\
MA-L,F4F5D8,\"Google, Inc.\",1600 Amphitheatre Parkway Mountain View CA US 94043 \n\
MA-L,000101,Private,\n\
IAB,0050C27D5,DEUTA-WERKE GmbH,Paffrather Strasse 140 Bergisch-Gladbach NRW DE 51465 \n\
MA-M,208593B,IOG Products LLC,9737 LURLINE AVENUE CHATSWORTH CA US 91311 \n\
MA-L,XYZ,Broken,\n";

    #[test]
    fn longest_prefix_wins() {
        let mut db = OuiDb::new();
        let bad = db.read_csv(CSV.as_bytes()).unwrap();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 8);
        assert_eq!(db.len(), 6);
        let name = |m: &str| db.lookup(Mac::parse(m).unwrap()).map(|v| v.name.as_str());
        assert_eq!(name("00:00:00:12:34:56"), Some("XEROX CORPORATION"));
        assert_eq!(name("F4-F5-D8-00-00-01"), Some("Google, Inc."));
        assert_eq!(name("0001.0100.0000"), Some("Private"));
        assert_eq!(name("00:50:c2:7d:50:01"), Some("DEUTA-WERKE GmbH"));
        assert_eq!(
            name("00:50:c2:7d:60:01"),
            Some("IEEE Registration Authority")
        );
        assert_eq!(name("20:85:93:b0:00:00"), Some("IOG Products LLC"));
        assert_eq!(name("01:00:00:00:00:00"), None);
    }

    #[test]
    fn mac_syntax() {
        assert_eq!(
            Mac::parse("AA:bb:CC:dd:EE:ff").unwrap().to_string(),
            "aa:bb:cc:dd:ee:ff"
        );
        assert_eq!(Mac::parse("aabbccddeeff"), Mac::parse("aa-bb-cc-dd-ee-ff"));
        for bad in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:gg",
            "aa:bb-cc:dd:ee:ff",
            "aabb.ccdd.eef",
        ] {
            assert_eq!(Mac::parse(bad), None, "{bad}");
        }
        assert!(Mac::parse("01:00:5e:00:00:01").unwrap().is_multicast());
        assert!(Mac::parse("02:00:00:00:00:01").unwrap().is_local());
    }
}
