//! The cleanup of reversed flows (spec 1.7) on what is stored: the
//! candidates (one source port, destination port above 128) are read back,
//! the model's heuristic ([`ivre_model::flow::cleanup::plan`]) decides
//! which groups are turned around, and each reversal replaces its flows in
//! one transaction (the reversed flow is stored in the month of its first
//! observation).

use super::load::FlowLoader;
use super::query::{FlowQuery, StoredFlow};
use crate::{Error, Result};
use ivre_model::flow::cleanup::plan;
use ivre_model::flow::{Counters, Flow, FlowKey, LogMeta, MetaValue, TimeSlot};
use postgres::Client;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// First key of the advisory lock that serialises cleanups ("FLCL").
const CLEANUP_LOCK_CLASS: i32 = 0x464c_434c;

/// A stored flow as the model's record (for the heuristic and for storing
/// it again).
pub fn to_model(f: &StoredFlow) -> Flow {
    let times: BTreeSet<TimeSlot> = f
        .times
        .iter()
        .filter_map(|(start, duration)| {
            Some(TimeSlot {
                start: *start,
                duration: u32::try_from(*duration).ok()?,
            })
        })
        .collect();
    Flow {
        key: FlowKey {
            src: f.src,
            dst: f.dst,
            proto: f.proto.clone(),
            dport: f.dport.and_then(|p| u16::try_from(p).ok()),
            icmp_type: f.icmp_type.and_then(|t| u8::try_from(t).ok()),
        },
        sports: f
            .sports
            .iter()
            .filter_map(|&p| u16::try_from(p).ok())
            .collect(),
        codes: f
            .codes
            .iter()
            .filter_map(|&c| u8::try_from(c).ok())
            .collect(),
        counters: f.count.map(|count| Counters {
            count: unsigned(count),
            cspkts: unsigned(f.cspkts),
            scpkts: unsigned(f.scpkts),
            csbytes: unsigned(f.csbytes),
            scbytes: unsigned(f.scbytes),
        }),
        firstseen: f.firstseen,
        lastseen: f.lastseen,
        times,
        meta: f.meta.as_ref().map(meta_from_json).unwrap_or_default(),
    }
}

fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// `meta` as stored back into the model's form: arrays are key sets,
/// numbers counters, `count` the entries.
fn meta_from_json(meta: &Value) -> BTreeMap<String, LogMeta> {
    let Some(logs) = meta.as_object() else {
        return BTreeMap::new();
    };
    logs.iter()
        .map(|(log, fields)| {
            let mut m = LogMeta::default();
            for (name, v) in fields.as_object().into_iter().flatten() {
                match v {
                    Value::Array(items) => {
                        m.keys
                            .insert(name.clone(), items.iter().filter_map(meta_value).collect());
                    }
                    Value::Number(n) if name == "count" => m.count = n.as_u64().unwrap_or(0),
                    Value::Number(n) => {
                        m.counters.insert(name.clone(), n.as_u64().unwrap_or(0));
                    }
                    _ => {}
                }
            }
            (log.clone(), m)
        })
        .collect()
}

fn meta_value(v: &Value) -> Option<MetaValue> {
    Some(match v {
        Value::Bool(b) => MetaValue::Bool(*b),
        Value::Number(n) => MetaValue::Int(n.as_i64()?),
        Value::String(s) => MetaValue::Str(s.clone()),
        Value::Array(items) => MetaValue::List(items.iter().filter_map(meta_value).collect()),
        _ => return None,
    })
}

/// What a cleanup did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupStats {
    /// Flows removed (turned into others).
    pub removed: u64,
    /// Reversed flows written.
    pub reversed: u64,
}

/// Runs the cleanup over every stored flow; one cleanup at a time.
pub fn cleanup_flows(client: &mut Client) -> Result<CleanupStats> {
    client.execute("SELECT pg_advisory_lock($1, 0)", &[&CLEANUP_LOCK_CLASS])?;
    let result = run(client);
    client.execute("SELECT pg_advisory_unlock($1, 0)", &[&CLEANUP_LOCK_CLASS])?;
    result
}

fn run(client: &mut Client) -> Result<CleanupStats> {
    let candidates = {
        let mut out = Vec::new();
        let q = FlowQuery::new(
            ivre_model::flow::parse_filters(&["LEN sports = 1", "dport > 128"])
                .map_err(Error::from)?,
        );
        super::query::list::<Error>(client, &q, &Default::default(), |f| {
            out.push((f.id, to_model(&f)));
            Ok(())
        })?;
        out
    };
    let mut stats = CleanupStats::default();
    let reversals = plan(candidates);
    if reversals.is_empty() {
        return Ok(stats);
    }
    let mut loader = FlowLoader::new(client)?;
    for r in reversals {
        stats.removed += r.replaced.len() as u64;
        stats.reversed += 1;
        loader.replace(&r.replaced, std::slice::from_ref(&r.flow))?;
    }
    Ok(stats)
}
