//! The text output of `ivre ipinfo` (spec 3.2): per address, the address on
//! its own line, then one line per record
//!
//! ```text
//! \t[PORT ]RECONTYPE [SOURCE ]VALUE (N time[s]) FIRSTSEEN - LASTSEEN[ SENSOR]
//! \t\tKEY: VALUE            (each infos key except `domain`)
//! ```
//!
//! Values are made printable (anything but printable ASCII becomes `.`),
//! times are shown to the second (UTC). Under the address, the caller can
//! add lines ([`StdWriter::with_address_lines`]): `ivre-ipinfo` adds IVRE's
//! `\tCC [Country]` and `\tASnnn [AS name]` lines ([`geo_lines`]) when
//! MaxMind databases are installed (IVRE's tag lines are not printed).

use super::PassiveRecord;
use serde_json::Value;
use std::io::{self, Write};
use std::net::IpAddr;

/// `s` with every character outside printable ASCII replaced by `.`.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '.' })
        .collect()
}

const TIME: &str = "%Y-%m-%d %H:%M:%S";

/// The line of one record (starting with a tab, no newline).
pub fn record_line(r: &PassiveRecord) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(p) = r.port.filter(|p| *p != 0) {
        parts.push(p.to_string());
    }
    parts.push(r.recontype.clone());
    if let Some(s) = r.source.as_deref().filter(|s| !s.is_empty()) {
        parts.push(s.to_string());
    }
    parts.push(printable(&r.value));
    parts.push(format!(
        "({} time{})",
        r.count,
        if r.count > 1 { "s" } else { "" }
    ));
    parts.push(format!(
        "{} - {}",
        r.firstseen.format(TIME),
        r.lastseen.format(TIME)
    ));
    if let Some(s) = &r.sensor {
        parts.push(s.clone());
    }
    format!("\t{}", parts.join(" "))
}

/// An infos value as text.
pub fn infos_value(v: &Value) -> String {
    match v {
        Value::String(s) => printable(s),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => printable(&other.to_string()),
    }
}

/// The `\t\tKEY: VALUE` lines of a record's infos (`domain` left out).
pub fn infos_lines(r: &PassiveRecord) -> Vec<String> {
    r.infos
        .iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "domain")
        .map(|(k, v)| format!("\t\t{k}: {}", infos_value(v)))
        .collect()
}

/// IVRE's GeoIP lines under an address: `\tCC [Country]`, `\tASnnn [AS name]`.
pub fn geo_lines(
    country_code: Option<&str>,
    country_name: Option<&str>,
    as_num: Option<u32>,
    as_name: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(cc) = country_code {
        out.push(match country_name {
            Some(n) => format!("\t{cc} [{}]", printable(n)),
            None => format!("\t{cc}"),
        });
    }
    if let Some(n) = as_num {
        out.push(match as_name {
            Some(name) => format!("\tAS{n} [{}]", printable(name)),
            None => format!("\tAS{n}"),
        });
    }
    out
}

type AddressLines = Box<dyn FnMut(IpAddr) -> Vec<String>>;

/// Writes records in IVRE's std layout; records must come sorted by
/// address. Records without an address are skipped.
#[derive(Default)]
pub struct StdWriter {
    current: Option<IpAddr>,
    address_lines: Option<AddressLines>,
}

impl StdWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Prints the lines `f` gives for each address under it (GeoIP lines).
    pub fn with_address_lines(f: impl FnMut(IpAddr) -> Vec<String> + 'static) -> Self {
        StdWriter {
            current: None,
            address_lines: Some(Box::new(f)),
        }
    }

    pub fn write(&mut self, out: &mut impl Write, r: &PassiveRecord) -> io::Result<()> {
        let Some(addr) = r.addr else {
            return Ok(());
        };
        if self.current != Some(addr) {
            writeln!(out, "{addr}")?;
            if let Some(f) = self.address_lines.as_mut() {
                for l in f(addr) {
                    writeln!(out, "{l}")?;
                }
            }
            self.current = Some(addr);
        }
        writeln!(out, "{}", record_line(r))?;
        for l in infos_lines(r) {
            writeln!(out, "{l}")?;
        }
        Ok(())
    }
}

/// One record in `--tail` style: `ADDR` (or the target value) then the
/// record line, then its infos lines.
pub fn write_tail(out: &mut impl Write, r: &PassiveRecord) -> io::Result<()> {
    let who = match (&r.addr, &r.targetval) {
        (Some(a), _) => a.to_string(),
        (None, Some(t)) => printable(t),
        (None, None) => String::new(),
    };
    writeln!(out, "{who} {}", record_line(r))?;
    for l in infos_lines(r) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn std_layout() {
        let t = Utc.with_ymd_and_hms(2021, 1, 6, 17, 44, 23).unwrap()
            + chrono::Duration::milliseconds(570);
        let mut r = PassiveRecord::new("HTTP_SERVER_HEADER", "Apache\x01", t);
        r.addr = Some("10.0.0.1".parse().unwrap());
        r.port = Some(80);
        r.source = Some("SERVER".into());
        r.sensor = Some("TEST".into());
        r.count = 2;
        let mut infos = serde_json::Map::new();
        infos.insert("service_product".into(), "Apache httpd".into());
        infos.insert("domain".into(), serde_json::json!(["x"]));
        r.infos = Some(infos);
        let mut out = Vec::new();
        let mut w = StdWriter::new();
        w.write(&mut out, &r).unwrap();
        w.write(&mut out, &r).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "10.0.0.1\n\
             \t80 HTTP_SERVER_HEADER SERVER Apache. (2 times) 2021-01-06 17:44:23 - 2021-01-06 17:44:23 TEST\n\
             \t\tservice_product: Apache httpd\n\
             \t80 HTTP_SERVER_HEADER SERVER Apache. (2 times) 2021-01-06 17:44:23 - 2021-01-06 17:44:23 TEST\n\
             \t\tservice_product: Apache httpd\n"
        );
    }
}
