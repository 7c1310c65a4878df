//! What PostgreSQL cannot store, made storable or refused, once per record
//! after reading (the import drivers call it: they know the file and line
//! to name in the warning).
//!
//! * Text with U+0000 (neither `text` nor `jsonb` can hold it) is stored
//!   escaped as IVRE escapes binary banners: NUL as `\x00` and, so that
//!   [`crate::escape::decode`] gives the original bytes back, `\` as `\\`.
//!   Only the strings that contain a NUL are rewritten.
//! * A number out of its column's range (a port 70000, a TTL of
//!   99999999999) refuses the host: a wrong value is not stored as is.
//!
//! The normal case costs a walk over the record with one `memchr` per
//! string and no allocation; only a record with a NUL is rewritten.

use crate::passive::PassiveRecord;
use crate::scan::Host;
use serde::ser::{self, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Why a record cannot be stored.
#[derive(Debug, thiserror::Error)]
pub enum Unstorable {
    #[error("{field} {value} is out of range")]
    OutOfRange { field: &'static str, value: i64 },
    #[error("cannot escape U+0000: {0}")]
    Escape(#[from] serde_json::Error),
}

/// The fields (dotted paths; `key PATH` for a map key) whose text had
/// U+0000 and is now escaped; empty in the normal case.
pub type EscapedFields = Vec<String>;

/// Makes `host` storable: checks the ranges of its numbers, then escapes
/// U+0000 in any of its strings (members kept verbatim and map keys
/// included).
pub fn storable_host(host: &mut Host) -> Result<EscapedFields, Unstorable> {
    check_host_ranges(host)?;
    if !contains_nul(host) {
        return Ok(Vec::new());
    }
    let mut value = serde_json::to_value(&*host)?;
    let mut escaped = Vec::new();
    escape_value(&mut value, &mut String::new(), &mut escaped);
    *host = serde_json::from_value(value)?;
    Ok(escaped)
}

/// Makes a passive observation storable: its numbers are typed to their
/// columns already, so only U+0000 is escaped.
pub fn storable_passive(rec: &mut PassiveRecord) -> EscapedFields {
    let mut escaped = Vec::new();
    let mut text = |name: &str, s: &mut String| {
        if escape_string(s) {
            escaped.push(name.to_string());
        }
    };
    text("recontype", &mut rec.recontype);
    text("value", &mut rec.value);
    for (name, field) in [
        ("sensor", &mut rec.sensor),
        ("source", &mut rec.source),
        ("targetval", &mut rec.targetval),
    ] {
        if let Some(s) = field {
            text(name, s);
        }
    }
    if let Some(infos) = &mut rec.infos {
        escape_map(infos, &mut "infos".to_string(), &mut escaped);
    }
    escaped
}

/// Escapes `s` in place if it holds U+0000; says whether it did.
fn escape_string(s: &mut String) -> bool {
    if !s.as_bytes().contains(&0) {
        return false;
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\x00"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    *s = out;
    true
}

fn escape_value(value: &mut Value, path: &mut String, escaped: &mut EscapedFields) {
    match value {
        Value::String(s) => {
            if escape_string(s) {
                escaped.push(path.clone());
            }
        }
        Value::Array(items) => {
            for item in items {
                escape_value(item, path, escaped);
            }
        }
        Value::Object(map) => escape_map(map, path, escaped),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn escape_map(map: &mut Map<String, Value>, path: &mut String, escaped: &mut EscapedFields) {
    if map.keys().any(|k| k.as_bytes().contains(&0)) {
        *map = std::mem::take(map)
            .into_iter()
            .map(|(mut k, v)| {
                if escape_string(&mut k) {
                    let dot = if path.is_empty() { "" } else { "." };
                    escaped.push(format!("key {path}{dot}{k}"));
                }
                (k, v)
            })
            .collect();
    }
    for (key, item) in map.iter_mut() {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        escape_value(item, path, escaped);
        path.truncate(len);
    }
}

/// The integer columns a host fills: ports within what the protocols allow,
/// the others within PostgreSQL's `integer`.
fn check_host_ranges(host: &Host) -> Result<(), Unstorable> {
    fn within(
        field: &'static str,
        value: Option<i64>,
        min: i64,
        max: i64,
    ) -> Result<(), Unstorable> {
        match value {
            Some(v) if v < min || v > max => Err(Unstorable::OutOfRange { field, value: v }),
            _ => Ok(()),
        }
    }
    const MIN: i64 = i32::MIN as i64;
    const MAX: i64 = i32::MAX as i64;
    within("state_reason_ttl", host.state_reason_ttl, MIN, MAX)?;
    for port in host.ports.iter().flatten() {
        // -1: the container of host scripts.
        within("port", Some(port.port), -1, 65535)?;
        within("ports.state_reason_ttl", port.state_reason_ttl, MIN, MAX)?;
        within("ports.service_conf", port.service_conf, MIN, MAX)?;
    }
    for trace in host.traces.iter().flatten() {
        within("traces.port", trace.port, 0, 65535)?;
        for hop in &trace.hops {
            within("traces.hops.ttl", hop.ttl, MIN, MAX)?;
        }
    }
    Ok(())
}

/// Whether any string of `record` (or map key) holds U+0000: a serializer
/// that only looks at strings.
fn contains_nul<T: Serialize>(record: &T) -> bool {
    let mut finder = NulFinder;
    matches!(record.serialize(&mut finder), Err(Found::Nul))
}

struct NulFinder;

/// Ends the walk: a NUL was found, or the record's own serializer failed.
#[derive(Debug)]
enum Found {
    Nul,
    Custom,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("U+0000 found")
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Found::Custom
    }
}

type Walk = Result<(), Found>;

impl ser::Serializer for &mut NulFinder {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_str(self, v: &str) -> Walk {
        if v.as_bytes().contains(&0) {
            Err(Found::Nul)
        } else {
            Ok(())
        }
    }
    fn serialize_char(self, v: char) -> Walk {
        if v == '\0' {
            Err(Found::Nul)
        } else {
            Ok(())
        }
    }
    fn serialize_bool(self, _: bool) -> Walk {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Walk {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Walk {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Walk {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Walk {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Walk {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Walk {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Walk {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Walk {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Walk {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Walk {
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Walk {
        if v.contains(&0) {
            Err(Found::Nul)
        } else {
            Ok(())
        }
    }
    fn serialize_none(self) -> Walk {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Walk {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Walk {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Walk {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Walk {
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Walk {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Walk {
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Found> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Found> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Found> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Found> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Found> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Found> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Found> {
        Ok(self)
    }
}

impl ser::SerializeSeq for &mut NulFinder {
    type Ok = ();
    type Error = Found;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Walk {
        value.serialize(&mut **self)
    }
    fn end(self) -> Walk {
        Ok(())
    }
}

impl ser::SerializeTuple for &mut NulFinder {
    type Ok = ();
    type Error = Found;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Walk {
        value.serialize(&mut **self)
    }
    fn end(self) -> Walk {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut NulFinder {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Walk {
        value.serialize(&mut **self)
    }
    fn end(self) -> Walk {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for &mut NulFinder {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Walk {
        value.serialize(&mut **self)
    }
    fn end(self) -> Walk {
        Ok(())
    }
}

impl ser::SerializeMap for &mut NulFinder {
    type Ok = ();
    type Error = Found;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Walk {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Walk {
        value.serialize(&mut **self)
    }
    fn end(self) -> Walk {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut NulFinder {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &'static str, value: &T) -> Walk {
        value.serialize(&mut **self)
    }
    fn end(self) -> Walk {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut NulFinder {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &'static str, value: &T) -> Walk {
        value.serialize(&mut **self)
    }
    fn end(self) -> Walk {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::decode;
    use crate::scan::{Hostname, Port};

    #[test]
    fn normal_host_is_untouched() {
        let mut host = Host {
            addr: "10.0.0.1".into(),
            ports: Some(vec![Port::new("tcp", 80)]),
            ..Host::default()
        };
        let before = host.clone();
        assert!(storable_host(&mut host).unwrap().is_empty());
        assert_eq!(host, before);
    }

    #[test]
    fn nul_is_escaped_reversibly() {
        let mut host = Host {
            addr: "10.0.0.1".into(),
            hostnames: Some(vec![Hostname {
                kind: "PTR".into(),
                name: "a\0b\\x00".into(),
                ..Hostname::default()
            }]),
            ..Host::default()
        };
        host.extra.insert("k\0".into(), Value::String("v".into()));
        let escaped = storable_host(&mut host).unwrap();
        assert_eq!(escaped, vec!["key k\\x00", "hostnames.name"]);
        let name = &host.hostnames.as_ref().unwrap()[0].name;
        assert_eq!(name, "a\\x00b\\\\x00");
        assert_eq!(decode(name), b"a\0b\\x00");
        assert!(host.extra.contains_key("k\\x00"));
    }

    #[test]
    fn out_of_range_port_is_refused() {
        for port in [70000, 99_999_999_999, -2] {
            let mut host = Host {
                ports: Some(vec![Port::new("tcp", port)]),
                ..Host::default()
            };
            let err = storable_host(&mut host).unwrap_err();
            assert_eq!(err.to_string(), format!("port {port} is out of range"));
        }
        let mut host = Host {
            ports: Some(vec![Port::host_scripts(), Port::new("tcp", 65535)]),
            ..Host::default()
        };
        assert!(storable_host(&mut host).is_ok());
    }

    #[test]
    fn passive_nul_is_escaped() {
        let mut rec = PassiveRecord::new("DNS_ANSWER", "a\0b", chrono::Utc::now());
        rec.targetval = Some("x".into());
        assert_eq!(storable_passive(&mut rec), vec!["value"]);
        assert_eq!(rec.value, "a\\x00b");
    }
}
