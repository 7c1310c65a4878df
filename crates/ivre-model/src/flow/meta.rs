//! Protocol metadata (spec 1.5): what the Zeek protocol logs (`dns`,
//! `http`, `ssl`, ...) add to a flow, as `meta.<log>`: "keys" accumulated as
//! sets of distinct values, "counters" summed, and `count`, the number of
//! log entries.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

/// What one log type contributes ([`META_DESC`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogDesc {
    /// The Zeek log name (`#path`).
    pub log: &'static str,
    /// `(name in meta, Zeek column)`: values accumulated as a set.
    pub keys: &'static [(&'static str, &'static str)],
    /// Zeek columns whose values are summed.
    pub counters: &'static [&'static str],
}

impl LogDesc {
    /// Whether `name` is one of this log's keys (by its name in `meta`).
    pub fn has_key(&self, name: &str) -> bool {
        self.keys.iter().any(|(k, _)| *k == name)
    }

    pub fn has_counter(&self, name: &str) -> bool {
        self.counters.contains(&name)
    }
}

const fn same(name: &'static str) -> (&'static str, &'static str) {
    (name, name)
}

/// The protocol logs that add metadata to flows, and what they add (IVRE's
/// `META_DESC`, with `modbus` and `rdp`).
pub const META_DESC: &[LogDesc] = &[
    LogDesc {
        log: "arp",
        keys: &[same("op"), same("mac_src"), same("mac_dst")],
        counters: &[],
    },
    LogDesc {
        log: "dns",
        keys: &[
            same("query"),
            ("class", "qclass_name"),
            ("type", "qtype_name"),
            ("rcode", "rcode_name"),
            same("answers"),
        ],
        counters: &[],
    },
    LogDesc {
        log: "http",
        keys: &[
            same("method"),
            same("host"),
            same("user_agent"),
            same("status_code"),
            same("status_msg"),
            same("info_code"),
            same("info_msg"),
            same("username"),
            same("password"),
            same("proxied"),
        ],
        counters: &["request_body_len", "response_body_len"],
    },
    LogDesc {
        log: "ssl",
        keys: &[
            same("version"),
            same("cipher"),
            same("curve"),
            same("server_name"),
            same("last_alert"),
            same("next_protocol"),
            same("subject"),
            same("issuer"),
            same("client_subject"),
            same("client_issuer"),
        ],
        counters: &[],
    },
    LogDesc {
        log: "ssh",
        keys: &[
            same("version"),
            same("auth_success"),
            same("client"),
            same("server"),
            same("cipher_alg"),
            same("mac_alg"),
            same("compression_alg"),
            same("kex_alg"),
            same("host_key_alg"),
            same("host_key"),
        ],
        counters: &[],
    },
    LogDesc {
        log: "sip",
        keys: &[
            same("method"),
            same("uri"),
            same("request_from"),
            same("request_to"),
            same("response_from"),
            same("response_to"),
            same("reply_to"),
            same("user_agent"),
            same("status_code"),
            same("status_msg"),
            same("warning"),
        ],
        counters: &["request_body_len", "response_body_len"],
    },
    LogDesc {
        log: "snmp",
        keys: &[same("version"), same("community")],
        counters: &[
            "get_requests",
            "get_bulk_requests",
            "get_responses",
            "set_requests",
        ],
    },
    LogDesc {
        log: "modbus",
        keys: &[("name", "func"), same("exception")],
        counters: &[],
    },
    LogDesc {
        log: "rdp",
        keys: &[
            same("cookie"),
            same("result"),
            same("security_protocol"),
            same("keyboard_layout"),
            same("client_build"),
            same("client_name"),
            same("client_dig_product_id"),
            same("cert_type"),
            same("cert_count"),
            same("cert_permanent"),
            same("encryption_level"),
            same("encryption_method"),
        ],
        counters: &[],
    },
];

/// The description of a log type, if it adds metadata.
pub fn log_desc(log: &str) -> Option<&'static LogDesc> {
    META_DESC.iter().find(|d| d.log == log)
}

/// One metadata value (ordered, so that sets of them are deterministic).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetaValue {
    Bool(bool),
    Int(i64),
    Str(String),
    /// A list kept whole (HTTP `proxied`); only `dns.answers` is spread.
    List(Vec<MetaValue>),
}

impl MetaValue {
    /// IVRE skips "falsy" values: an empty string, zero, an empty list
    /// (`false` is kept: a failed SSH authentication is worth recording).
    pub fn is_empty(&self) -> bool {
        match self {
            MetaValue::Bool(_) => false,
            MetaValue::Int(n) => *n == 0,
            MetaValue::Str(s) => s.is_empty(),
            MetaValue::List(l) => l.is_empty(),
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            MetaValue::Bool(b) => Value::Bool(*b),
            MetaValue::Int(n) => json!(n),
            MetaValue::Str(s) => Value::String(s.clone()),
            MetaValue::List(l) => Value::Array(l.iter().map(MetaValue::to_json).collect()),
        }
    }
}

/// What one protocol log entry says, before it is added to its flow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaObservation {
    /// The log name (`dns`, `http`, ...).
    pub log: String,
    /// `(key, value)`, a key possibly repeated (the answers of a DNS entry).
    pub keys: Vec<(String, MetaValue)>,
    /// `(counter, value)`.
    pub counters: Vec<(String, u64)>,
}

impl MetaObservation {
    /// The metadata of one entry of the log `desc`, from its columns by
    /// Zeek name: empty values are skipped, `dns.answers` is spread, DNS
    /// names are lower-cased.
    pub fn from_columns(desc: &LogDesc, mut column: impl FnMut(&str) -> Option<MetaValue>) -> Self {
        let mut obs = MetaObservation {
            log: desc.log.to_owned(),
            ..MetaObservation::default()
        };
        let dns = desc.log == "dns";
        for (name, zeek) in desc.keys {
            let Some(value) = column(zeek) else { continue };
            let value = if dns { lowercase(value) } else { value };
            match value {
                MetaValue::List(items) if dns && *name == "answers" => {
                    for item in items.into_iter().filter(|v| !v.is_empty()) {
                        obs.keys.push((name.to_string(), item));
                    }
                }
                v if v.is_empty() => {}
                v => obs.keys.push((name.to_string(), v)),
            }
        }
        for name in desc.counters {
            if let Some(MetaValue::Int(n)) = column(name) {
                if n > 0 {
                    obs.counters.push((name.to_string(), n as u64));
                }
            }
        }
        obs
    }
}

fn lowercase(v: MetaValue) -> MetaValue {
    match v {
        MetaValue::Str(s) => MetaValue::Str(s.to_lowercase()),
        MetaValue::List(l) => MetaValue::List(l.into_iter().map(lowercase).collect()),
        v => v,
    }
}

/// The metadata of one log type on one flow (`meta.<log>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogMeta {
    /// Log entries merged.
    pub count: u64,
    /// Distinct values per key.
    pub keys: BTreeMap<String, BTreeSet<MetaValue>>,
    /// Sums per counter.
    pub counters: BTreeMap<String, u64>,
}

impl LogMeta {
    /// Adds one log entry.
    pub fn absorb(&mut self, obs: MetaObservation) {
        self.count = self.count.saturating_add(1);
        for (k, v) in obs.keys {
            self.keys.entry(k).or_default().insert(v);
        }
        for (k, n) in obs.counters {
            let c = self.counters.entry(k).or_default();
            *c = c.saturating_add(n);
        }
    }

    /// Adds the entries of another flow's `meta.<log>`.
    pub fn merge(&mut self, other: LogMeta) {
        self.count = self.count.saturating_add(other.count);
        for (k, vs) in other.keys {
            self.keys.entry(k).or_default().extend(vs);
        }
        for (k, n) in other.counters {
            let c = self.counters.entry(k).or_default();
            *c = c.saturating_add(n);
        }
    }

    /// The JSON shape of IVRE's `meta.<log>`: `count`, one array per key,
    /// one number per counter.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("count".into(), json!(self.count));
        for (k, vs) in &self.keys {
            m.insert(
                k.clone(),
                Value::Array(vs.iter().map(MetaValue::to_json).collect()),
            );
        }
        for (k, n) in &self.counters {
            m.insert(k.clone(), json!(n));
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> MetaValue {
        MetaValue::Str(v.into())
    }

    #[test]
    fn dns_answers_spread_and_lowercased() {
        let desc = log_desc("dns").unwrap();
        let obs = MetaObservation::from_columns(desc, |col| match col {
            "query" => Some(s("WWW.Example.COM")),
            "qtype_name" => Some(s("A")),
            "rcode_name" => Some(s("")),
            "answers" => Some(MetaValue::List(vec![s("1.2.3.4"), s("Alias.Example.com")])),
            _ => None,
        });
        assert_eq!(
            obs.keys,
            [
                ("query".to_string(), s("www.example.com")),
                ("type".to_string(), s("a")),
                ("answers".to_string(), s("1.2.3.4")),
                ("answers".to_string(), s("alias.example.com")),
            ]
        );
    }

    #[test]
    fn lists_kept_whole_and_counters_summed() {
        let desc = log_desc("http").unwrap();
        let entry = |len: i64| {
            MetaObservation::from_columns(desc, move |col| match col {
                "method" => Some(s("GET")),
                "status_code" => Some(MetaValue::Int(0)),
                "proxied" => Some(MetaValue::List(vec![s("a"), s("b")])),
                "request_body_len" => Some(MetaValue::Int(len)),
                _ => None,
            })
        };
        let mut m = LogMeta::default();
        m.absorb(entry(10));
        m.absorb(entry(0));
        assert_eq!(m.count, 2);
        assert_eq!(m.counters["request_body_len"], 10);
        assert!(!m.keys.contains_key("status_code"));
        assert_eq!(m.keys["method"].len(), 1);
        assert_eq!(
            m.to_json(),
            json!({"count": 2, "method": ["GET"], "proxied": [["a", "b"]], "request_body_len": 10})
        );
    }
}
