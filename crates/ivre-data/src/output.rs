//! IVRE's `ipdata` outputs: the text form and the JSON form (one object
//! per line, `addr` first, formatted as Python's `json.dumps` does).

use std::io::{self, Write};
use std::net::IpAddr;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::IpInfo;

/// Serializes the keys of `info` in the order of IVRE's merged dict: AS,
/// then Country, then City keys (a key keeps the place of its first
/// insertion), then `tags`.
fn serialize_keys<M: SerializeMap>(info: &IpInfo<'_>, map: &mut M) -> Result<(), M::Error> {
    macro_rules! opt {
        ($key:literal, $v:expr) => {
            if let Some(v) = &$v {
                map.serialize_entry($key, v)?;
            }
        };
    }
    opt!("as_num", info.as_num);
    opt!("as_name", info.as_name);
    if info.country_from_country_db {
        opt!("country_code", info.country_code);
        opt!("country_name", info.country_name);
    }
    opt!("region_code", info.region_code);
    opt!("region_name", info.region_name);
    opt!("continent_code", info.continent_code);
    opt!("continent_name", info.continent_name);
    if !info.country_from_country_db {
        opt!("country_code", info.country_code);
        opt!("country_name", info.country_name);
    }
    opt!("registered_country_code", info.registered_country_code);
    opt!("registered_country_name", info.registered_country_name);
    opt!("city", info.city);
    opt!("postal_code", info.postal_code);
    opt!("coordinates", info.coordinates);
    opt!(
        "coordinates_accuracy_radius",
        info.coordinates_accuracy_radius
    );
    if !info.tags.is_empty() {
        map.serialize_entry("tags", &info.tags)?;
    }
    Ok(())
}

/// `infos_byip` as a JSON object, without `addr` (the web API's answer).
impl Serialize for IpInfo<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        serialize_keys(self, &mut map)?;
        map.end()
    }
}

/// `{"addr": ..., <infos_byip keys>}`.
struct WithAddr<'a, 'b>(IpAddr, &'b IpInfo<'a>);

impl Serialize for WithAddr<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("addr", &self.0)?;
        serialize_keys(self.1, &mut map)?;
        map.end()
    }
}

/// A `serde_json` formatter giving the output of Python's `json.dumps`
/// with its defaults: `", "` and `": "` separators, non-ASCII characters
/// escaped as `\uXXXX`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PyFormatter;

impl serde_json::ser::Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        if s.is_ascii() {
            return w.write_all(s.as_bytes());
        }
        let mut buf = [0u16; 2];
        for c in s.chars() {
            if c.is_ascii() {
                w.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut buf) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Writes `value` as Python's `json.dumps` would.
pub fn python_json<W: Write, T: Serialize + ?Sized>(w: W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, PyFormatter);
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Writes one NDJSON line: `{"addr": "...", ...}\n`.
pub fn write_json<W: Write>(mut w: W, addr: IpAddr, info: &IpInfo<'_>) -> io::Result<()> {
    python_json(&mut w, &WithAddr(addr, info))?;
    w.write_all(b"\n")
}

/// The NDJSON line of [`write_json`], as a string (without the newline).
pub fn to_json_line(addr: IpAddr, info: &IpInfo<'_>) -> String {
    let mut out = Vec::new();
    python_json(&mut out, &WithAddr(addr, info)).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// A float as Python's `repr` prints it (`52.0`, `-0.0931`).
fn py_float(v: f64) -> String {
    let s = v.to_string();
    if v.is_finite() && !s.contains(['.', 'e']) {
        s + ".0"
    } else {
        s
    }
}

/// A string as Python's `repr` prints it.
fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A tuple of optional strings as Python prints it: `('A',)`, `('A', None)`.
fn py_tuple(items: &[Option<&str>]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|i| i.map_or_else(|| "None".to_string(), py_str))
        .collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// Writes IVRE's text output: the address, then `    key value` lines for
/// the AS then the City keys, then one line per tag.
pub fn write_text<W: Write>(mut w: W, addr: IpAddr, info: &IpInfo<'_>) -> io::Result<()> {
    writeln!(w, "{addr}")?;
    macro_rules! line {
        ($key:literal, $v:expr) => {
            if let Some(v) = $v {
                writeln!(w, "    {} {}", $key, v)?;
            }
        };
    }
    line!("as_num", info.as_num);
    line!("as_name", info.as_name);
    line!("region_code", info.region_code.as_deref().map(py_tuple));
    line!("region_name", info.region_name.as_deref().map(py_tuple));
    line!("continent_code", info.continent_code);
    line!("continent_name", info.continent_name);
    if info.country_from_city_db {
        line!("country_code", info.country_code);
        line!("country_name", info.country_name);
    }
    line!("registered_country_code", info.registered_country_code);
    line!("registered_country_name", info.registered_country_name);
    line!("city", info.city);
    line!("postal_code", info.postal_code);
    line!(
        "coordinates",
        info.coordinates
            .map(|[lat, lon]| format!("({}, {})", py_float(lat), py_float(lon)))
    );
    line!(
        "coordinates_accuracy_radius",
        info.coordinates_accuracy_radius
            .map(|r| r.map_or_else(|| "None".to_string(), |r| r.to_string()))
    );
    for tag in &info.tags {
        if tag.info.is_empty() {
            writeln!(w, "    {}", tag.value)?;
        } else {
            writeln!(w, "    {}: {}", tag.value, tag.info.join(", "))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address_tags;

    #[test]
    fn python_reprs() {
        assert_eq!(py_float(52.0), "52.0");
        assert_eq!(py_float(-0.0931), "-0.0931");
        assert_eq!(py_float(37.751), "37.751");
        assert_eq!(py_str("ENG"), "'ENG'");
        assert_eq!(py_str("Val d'Oise"), "\"Val d'Oise\"");
        assert_eq!(py_tuple(&[Some("ENG")]), "('ENG',)");
        assert_eq!(py_tuple(&[Some("E"), None]), "('E', None)");
    }

    #[test]
    fn reserved_address_outputs() {
        let addr: IpAddr = "10.0.0.1".parse().unwrap();
        let info = IpInfo {
            tags: address_tags(addr),
            ..IpInfo::default()
        };
        assert_eq!(
            to_json_line(addr, &info),
            r#"{"addr": "10.0.0.1", "tags": [{"value": "Reserved address", "type": "info", "info": ["Address type Private"]}]}"#
        );
        let mut text = Vec::new();
        write_text(&mut text, addr, &info).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "10.0.0.1\n    Reserved address: Address type Private\n"
        );
    }

    #[test]
    fn key_order_and_escapes() {
        let addr: IpAddr = "89.160.20.128".parse().unwrap();
        let info = IpInfo {
            as_num: Some(29518),
            as_name: Some("Bredband2 AB"),
            country_code: Some("SE"),
            country_name: Some("Sweden"),
            country_from_country_db: true,
            country_from_city_db: true,
            continent_code: Some("EU"),
            city: Some("Linköping"),
            coordinates: Some([58.4167, 15.6167]),
            coordinates_accuracy_radius: Some(Some(76)),
            ..IpInfo::default()
        };
        assert_eq!(
            to_json_line(addr, &info),
            concat!(
                r#"{"addr": "89.160.20.128", "as_num": 29518, "as_name": "Bredband2 AB", "#,
                r#""country_code": "SE", "country_name": "Sweden", "continent_code": "EU", "#,
                r#""city": "Link\u00f6ping", "coordinates": [58.4167, 15.6167], "#,
                r#""coordinates_accuracy_radius": 76}"#
            )
        );
        let web = serde_json::to_string(&info).unwrap();
        assert!(web.starts_with(r#"{"as_num":29518,"#), "{web}");
        let no_country_db = IpInfo {
            country_from_country_db: false,
            ..info
        };
        let line = to_json_line(addr, &no_country_db);
        assert!(
            line.contains(r#""continent_code": "EU", "country_code": "SE""#),
            "{line}"
        );
    }
}
