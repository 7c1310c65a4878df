//! The passive record (one row of the passive store), its identity key and
//! its merge arithmetic (spec 1.1, 1.3, 1.6, 1.8).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Current passive schema version (`ivre.passive.SCHEMA_VERSION`).
pub const SCHEMA_VERSION: u32 = 3;

/// Values (or target values) longer than this many bytes are represented by
/// their SHA-256 digest in the identity key (IVRE's `MAXVALLEN`).
pub const MAX_INLINE_VALUE_LEN: usize = 1000;

/// The JSON object type used for `infos`.
pub type Infos = Map<String, Value>;

/// One record of the passive store. Field names match IVRE's JSON output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassiveRecord {
    /// The host the information is about; absent for name-only records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<IpAddr>,
    /// Sensor name given at import time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensor: Option<String>,
    /// Kind of information (`DNS_ANSWER`, `SSL_SERVER`, ...).
    pub recontype: String,
    /// Sub-kind within the recontype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Server port when `addr` is a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The observed datum (escaped text, see spec 2.1.3).
    pub value: String,
    /// Second value of a pair (only when `addr` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targetval: Option<String>,
    /// Number of observations folded into this record.
    #[serde(default = "one")]
    pub count: u64,
    /// First observation time (UTC).
    #[serde(with = "ivre_time")]
    pub firstseen: DateTime<Utc>,
    /// Last observation time (UTC).
    #[serde(with = "ivre_time")]
    pub lastseen: DateTime<Utc>,
    /// Derived data (not part of the identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infos: Option<Infos>,
    /// Schema version of the record.
    #[serde(default = "schema_version")]
    pub schema_version: u32,
}

fn one() -> u64 {
    1
}

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

/// A value as it appears in an identity key: inline when short, a SHA-256
/// digest when longer than [`MAX_INLINE_VALUE_LEN`] bytes. The choice only
/// depends on the value itself, so equal values always give equal keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueKey {
    /// The value itself.
    Inline(Box<str>),
    /// SHA-256 of the value's bytes.
    Digest([u8; 32]),
}

impl ValueKey {
    /// Builds the key of a value.
    pub fn of(value: &str) -> Self {
        if value.len() > MAX_INLINE_VALUE_LEN {
            ValueKey::Digest(sha256(value))
        } else {
            ValueKey::Inline(value.into())
        }
    }
}

/// The identity of a passive record: `(addr, sensor, recontype, port,
/// source, value, targetval)`, NULL-safe (an absent field is a distinct
/// `None`, never a wildcard).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityKey {
    pub addr: Option<IpAddr>,
    pub sensor: Option<Box<str>>,
    pub recontype: Box<str>,
    pub port: Option<u16>,
    pub source: Option<Box<str>>,
    pub value: ValueKey,
    pub targetval: Option<ValueKey>,
}

/// SHA-256 of a string's bytes.
pub fn sha256(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

impl PassiveRecord {
    /// A new observation: `count = 1`, `firstseen = lastseen = ts`, no
    /// infos, current schema version.
    pub fn new(recontype: impl Into<String>, value: impl Into<String>, ts: DateTime<Utc>) -> Self {
        PassiveRecord {
            addr: None,
            sensor: None,
            recontype: recontype.into(),
            source: None,
            port: None,
            value: value.into(),
            targetval: None,
            count: 1,
            firstseen: ts,
            lastseen: ts,
            infos: None,
            schema_version: SCHEMA_VERSION,
        }
    }

    /// The identity key used for in-memory pre-aggregation.
    pub fn identity(&self) -> IdentityKey {
        IdentityKey {
            addr: self.addr,
            sensor: self.sensor.as_deref().map(Into::into),
            recontype: self.recontype.as_str().into(),
            port: self.port,
            source: self.source.as_deref().map(Into::into),
            value: ValueKey::of(&self.value),
            targetval: self.targetval.as_deref().map(ValueKey::of),
        }
    }

    /// Fixed-size digest of `value` for a database unique index
    /// (`value_key bytea`): SHA-256 of the value's bytes.
    pub fn value_digest(&self) -> [u8; 32] {
        sha256(&self.value)
    }

    /// Fixed-size digest of `targetval` (SHA-256), if any.
    pub fn targetval_digest(&self) -> Option<[u8; 32]> {
        self.targetval.as_deref().map(sha256)
    }

    /// Folds `other` (same identity) into `self`: counts are summed
    /// (saturating), `firstseen` is the min, `lastseen` the max, and `infos`
    /// are kept from the first writer (taken from `other` only when `self`
    /// has none).
    pub fn merge(&mut self, other: PassiveRecord) {
        self.count = self.count.saturating_add(other.count);
        if other.firstseen < self.firstseen {
            self.firstseen = other.firstseen;
        }
        if other.lastseen > self.lastseen {
            self.lastseen = other.lastseen;
        }
        if self.infos.is_none() {
            self.infos = other.infos;
        }
    }

    /// The record as `ivre ... --test` prints it: a JSON object with sorted
    /// keys (recursively) and dates as `YYYY-MM-DD HH:MM:SS.ffffff` strings.
    pub fn to_sorted_json(&self) -> Value {
        fn sort(v: Value) -> Value {
            match v {
                Value::Object(m) => {
                    let mut entries: Vec<(String, Value)> = m.into_iter().collect();
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
                }
                Value::Array(a) => Value::Array(a.into_iter().map(sort).collect()),
                other => other,
            }
        }
        sort(serde_json::to_value(self).unwrap_or(Value::Null))
    }

    /// Mutable access to `infos`, creating an empty map when absent.
    pub fn infos_mut(&mut self) -> &mut Infos {
        self.infos.get_or_insert_with(Map::new)
    }
}

/// In-memory pre-aggregation of records by identity (IVRE's "local bulk"):
/// records with the same [`IdentityKey`] are folded with
/// [`PassiveRecord::merge`].
#[derive(Debug, Default, Clone)]
pub struct Aggregator {
    map: HashMap<IdentityKey, PassiveRecord>,
}

impl Aggregator {
    /// An empty aggregator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one record (or observation).
    pub fn add(&mut self, rec: PassiveRecord) {
        match self.map.entry(rec.identity()) {
            Entry::Occupied(mut e) => e.get_mut().merge(rec),
            Entry::Vacant(e) => {
                e.insert(rec);
            }
        }
    }

    /// Number of distinct records.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no record was added.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The aggregated record of an identity.
    pub fn get(&self, key: &IdentityKey) -> Option<&PassiveRecord> {
        self.map.get(key)
    }

    /// Takes every aggregated record out (e.g. to flush a batch).
    pub fn drain(&mut self) -> impl Iterator<Item = PassiveRecord> + '_ {
        self.map.drain().map(|(_, r)| r)
    }

    /// The aggregated records, in no particular order.
    pub fn into_records(self) -> Vec<PassiveRecord> {
        self.map.into_values().collect()
    }
}

/// Converts epoch seconds (float) to a UTC timestamp, rounded to the
/// microsecond. `None` when out of range or not finite.
pub fn epoch_to_utc(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() {
        return None;
    }
    let micros = (secs * 1_000_000.0).round();
    if micros.abs() > 9.0e18 {
        return None;
    }
    DateTime::<Utc>::from_timestamp_micros(micros as i64)
}

/// Serde helpers for IVRE's date format `YYYY-MM-DD HH:MM:SS.ffffff` (UTC).
/// Deserialisation also accepts RFC 3339 strings and epoch numbers.
pub mod ivre_time {
    use super::*;

    /// IVRE's textual date format.
    pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

    pub fn serialize<S: Serializer>(ts: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&ts.format(FORMAT).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let v = Value::deserialize(d)?;
        parse_value(&v).ok_or_else(|| serde::de::Error::custom(format!("invalid timestamp {v}")))
    }

    /// Parses a JSON timestamp: number (epoch seconds) or string.
    pub fn parse_value(v: &Value) -> Option<DateTime<Utc>> {
        match v {
            Value::Number(n) => epoch_to_utc(n.as_f64()?),
            Value::String(s) => parse_str(s),
            _ => None,
        }
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.f]`, RFC 3339 or a decimal epoch.
    pub fn parse_str(s: &str) -> Option<DateTime<Utc>> {
        let s = s.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(dt.with_timezone(&Utc));
        }
        for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
                return Some(Utc.from_utc_datetime(&n));
            }
        }
        s.parse::<f64>().ok().and_then(epoch_to_utc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    #[test]
    fn merge_arithmetic() {
        let mut a = PassiveRecord::new("OPEN_PORT", "tcp/80", ts(100));
        let mut b = PassiveRecord::new("OPEN_PORT", "tcp/80", ts(50));
        b.lastseen = ts(200);
        b.count = 3;
        b.infos = Some(Map::new());
        assert_eq!(a.identity(), b.identity());
        a.merge(b);
        assert_eq!(a.count, 4);
        assert_eq!(a.firstseen, ts(50));
        assert_eq!(a.lastseen, ts(200));
        assert!(a.infos.is_some());
    }

    #[test]
    fn identity_null_safe_and_large_values() {
        let a = PassiveRecord::new("DNS_ANSWER", "x", ts(0));
        let mut b = a.clone();
        b.targetval = Some(String::new());
        assert_ne!(a.identity(), b.identity());
        let big = "A".repeat(5000);
        let c = PassiveRecord::new("SSL_SERVER", big.clone(), ts(0));
        assert!(matches!(c.identity().value, ValueKey::Digest(_)));
        assert_eq!(
            c.identity(),
            PassiveRecord::new("SSL_SERVER", big, ts(1)).identity()
        );
    }

    #[test]
    fn json_roundtrip() {
        let line = r#"{"addr": "10.1.4.4", "port": 445, "sensor": "TEST", "recontype": "NTLM_CHALLENGE", "source": "tcp-SMB", "value": "NTLM_Version:15", "count": 1, "firstseen": "2021-01-06 17:44:23.570000", "lastseen": "2021-01-06 17:44:23.570000", "infos": {"NTLM_Version": "15"}, "schema_version": 3}"#;
        let r: PassiveRecord = serde_json::from_str(line).unwrap();
        assert_eq!(r.port, Some(445));
        assert_eq!(r.firstseen.timestamp_subsec_micros(), 570000);
        let out = serde_json::to_string(&r).unwrap();
        let back: PassiveRecord = serde_json::from_str(&out).unwrap();
        assert_eq!(r, back);
        assert!(out.contains("\"firstseen\":\"2021-01-06 17:44:23.570000\""));
        let sorted = serde_json::to_string(&r.to_sorted_json()).unwrap();
        assert!(sorted.starts_with("{\"addr\":\"10.1.4.4\",\"count\":1,\"firstseen\""));
    }
}
