//! Storing aggregated flows: each batch (flows aggregated in memory by
//! the model, distinct by key and month) is copied into a temporary
//! staging table, then merged with one statement in one transaction: the
//! totals of its flows upserted into `flow_key` (scalar columns: counters
//! summed, first/last seen min/max), and its rows appended to `flow`, sets
//! as they are (no set union at write time: queries unite a flow's rows;
//! see `sql/0009_flow_totals.sql`).
//!
//! The month partitions a batch needs are created before its transaction,
//! each in a short transaction of its own (creating a partition locks the
//! parent table: queries must not wait for a whole batch).

use crate::copy::{columns, Column, ColumnSet, CopyBuffer};
use crate::provenance::FileImport;
use crate::{Error, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ivre_model::flow::{Flow, SCHEMA_VERSION};
use postgres::Client;
use std::collections::BTreeSet;
use std::fmt::Write;

/// First key of the advisory lock taken while a partition is created ("FLPT").
const PARTITION_LOCK_CLASS: i32 = 0x464c_5054;

/// The month (its first day, UTC) a flow row belongs to: that of its
/// earliest observation. The aggregation of a batch keeps the months apart
/// ([`period_of`] of each observation's start), so that all observations
/// of a row fall in its month.
pub fn period_of(t: DateTime<Utc>) -> NaiveDate {
    NaiveDate::from_ymd_opt(t.year(), t.month(), 1).expect("the first day of a month exists")
}

/// Name of the partition of `flow` holding a month; `None` for years that
/// a table name cannot carry (before year 1, after 9999).
pub fn partition_name(period: NaiveDate) -> Option<String> {
    (1..=9999)
        .contains(&period.year())
        .then(|| format!("flow_y{:04}m{:02}", period.year(), period.month()))
}

/// The first day of the month after `period`.
fn next_month(period: NaiveDate) -> NaiveDate {
    let (y, m) = if period.month() == 12 {
        (period.year() + 1, 1)
    } else {
        (period.year(), period.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).expect("the first day of a month exists")
}

/// Creates the partition of `flow` for `period` unless it exists, in a
/// transaction of its own, serialised among loaders by an advisory lock.
pub fn ensure_partition(client: &mut Client, period: NaiveDate) -> Result<()> {
    let name = partition_name(period).ok_or_else(|| {
        Error::InvalidRecord(format!(
            "flow dated {period}: years before 1 or after 9999 cannot be stored"
        ))
    })?;
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])?
        .get(0);
    if exists {
        return Ok(());
    }
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, 0)",
        &[&PARTITION_LOCK_CLASS],
    )?;
    // The name and the bounds come from a date, never from user text.
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {name} PARTITION OF flow
             FOR VALUES FROM ('{}') TO ('{}');
         COMMENT ON TABLE {name} IS 'Flows of {}-{:02} (partition of flow)'",
        period.format("%Y-%m-%d"),
        next_month(period).format("%Y-%m-%d"),
        period.year(),
        period.month()
    ))?;
    tx.commit()?;
    Ok(())
}

/// The staged batch merged in one statement: the totals of its flows
/// (its rows grouped by key) upserted into `flow_key` (scalar columns
/// only, in key order so that two loaders lock keys in the same order),
/// then its rows appended to `flow` with the ids that upsert returns (no
/// conflict to handle: a flow's sets are the union of its rows), and
/// noted in `flow_touched` for [`FlowLoader::compact`].
const MERGE: &str = "WITH s AS (
         SELECT src, dst, proto, dport, type, schema_version,
             sum(count)::bigint AS count, sum(cspkts)::bigint AS cspkts,
             sum(scpkts)::bigint AS scpkts, sum(csbytes)::bigint AS csbytes,
             sum(scbytes)::bigint AS scbytes, min(firstseen) AS firstseen,
             max(lastseen) AS lastseen
         FROM flow_staging
         GROUP BY 1, 2, 3, 4, 5, 6
         ORDER BY 1, 2, 3, 4, 5, 6),
     k AS (
         INSERT INTO flow_key AS k (src, dst, proto, dport, type, schema_version,
             count, cspkts, scpkts, csbytes, scbytes, firstseen, lastseen)
         SELECT * FROM s
         ON CONFLICT (src, dst, proto, dport, type, schema_version) DO UPDATE SET
             count = CASE WHEN k.count IS NULL THEN excluded.count
                          WHEN excluded.count IS NULL THEN k.count
                          ELSE k.count + excluded.count END,
             cspkts = k.cspkts + excluded.cspkts,
             scpkts = k.scpkts + excluded.scpkts,
             csbytes = k.csbytes + excluded.csbytes,
             scbytes = k.scbytes + excluded.scbytes,
             firstseen = least(k.firstseen, excluded.firstseen),
             lastseen = greatest(k.lastseen, excluded.lastseen)
         RETURNING k.id, k.src, k.dst, k.proto, k.dport, k.type, k.schema_version),
     ins AS (
     INSERT INTO flow (key_id, period, count, cspkts, scpkts, csbytes, scbytes,
         firstseen, lastseen, sports, codes, times, meta)
     SELECT k.id, s.period, s.count, s.cspkts, s.scpkts, s.csbytes, s.scbytes,
         s.firstseen, s.lastseen, s.sports, s.codes,
         CASE WHEN s.slot_starts IS NULL THEN s.times
              ELSE ARRAY(SELECT tstzrange(to_timestamp(x), to_timestamp(x + s.slot_len))
                         FROM unnest(s.slot_starts) u(x)) END,
         s.meta
     FROM flow_staging s
     JOIN k ON k.src = s.src AND k.dst = s.dst AND k.proto = s.proto
         AND coalesce(k.dport, -1) = coalesce(s.dport, -1)
         AND coalesce(k.type, -1) = coalesce(s.type, -1)
         AND k.schema_version = s.schema_version
     RETURNING key_id, period)
     INSERT INTO flow_touched SELECT period, key_id FROM ins";

const STAGING: &str = "CREATE TEMPORARY TABLE IF NOT EXISTS flow_staging (
         src inet NOT NULL, dst inet NOT NULL, proto text NOT NULL, dport integer,
         type integer, schema_version integer NOT NULL, period date NOT NULL,
         count bigint, cspkts bigint NOT NULL, scpkts bigint NOT NULL,
         csbytes bigint NOT NULL, scbytes bigint NOT NULL,
         firstseen timestamptz NOT NULL, lastseen timestamptz NOT NULL,
         sports integer[], codes integer[],
         slot_len integer, slot_starts bigint[], times tstzrange[], meta jsonb
     ) ON COMMIT DELETE ROWS;
     CREATE TEMPORARY TABLE IF NOT EXISTS flow_touched (period date NOT NULL, key_id bigint NOT NULL)";

/// The rows of the flows touched since the last compaction merged into one
/// per flow and month (`flow_compact` of `sql/0014_flow_compact.sql`).
const COMPACT: &str = "SELECT coalesce(sum(flow_compact(t.period, t.keys)), 0)::int8
     FROM (SELECT period, array_agg(DISTINCT key_id) AS keys FROM flow_touched GROUP BY 1) t";

/// A counter as a `bigint` (saturating).
fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The columns of `flow_staging`, written from an aggregated flow.
struct Staged;

impl ColumnSet for Staged {
    type Row<'r> = Flow;
    const COLUMNS: &'static [Column<Self>] = columns![
        "src" => |b, f| b.opt_ip(Some(&f.key.src)),
        "dst" => |b, f| b.opt_ip(Some(&f.key.dst)),
        "proto" => |b, f| b.text(&f.key.proto),
        "dport" => |b, f| b.opt_int(f.key.dport.map(i64::from)),
        "type" => |b, f| b.opt_int(f.key.icmp_type.map(i64::from)),
        "schema_version" => |b, _| b.int(i64::from(SCHEMA_VERSION)),
        "period" => |b, f| b.text(&period_of(f.firstseen).format("%Y-%m-%d").to_string()),
        "count" => |b, f| b.opt_int(f.counters.map(|c| big(c.count))),
        "cspkts" => |b, f| b.int(f.counters.map_or(0, |c| big(c.cspkts))),
        "scpkts" => |b, f| b.int(f.counters.map_or(0, |c| big(c.scpkts))),
        "csbytes" => |b, f| b.int(f.counters.map_or(0, |c| big(c.csbytes))),
        "scbytes" => |b, f| b.int(f.counters.map_or(0, |c| big(c.scbytes))),
        "firstseen" => |b, f| b.timestamptz(&f.firstseen),
        "lastseen" => |b, f| b.timestamptz(&f.lastseen),
        "sports" => |b, f| b.opt_text(int_set(f.sports.iter().map(|&p| i64::from(p))).as_deref()),
        "codes" => |b, f| b.opt_text(int_set(f.codes.iter().map(|&c| i64::from(c))).as_deref()),
        "slot_len" => |b, f| b.opt_int(uniform_slot_len(f).map(i64::from)),
        "slot_starts" => |b, f| b.opt_text(uniform_slot_len(f).and_then(|_| int_set(f.times.iter().map(|s| s.start.timestamp()))).as_deref()),
        "times" => |b, f| b.opt_text(uniform_slot_len(f).map_or_else(|| slot_set(f), |_| None).as_deref()),
        "meta" => |b, f| if f.meta.is_empty() { b.null() } else { b.json(&meta_json(f)) },
    ];
}

/// `meta` as stored: `{"<log>": {"count": n, ...}}`.
pub fn meta_json(f: &Flow) -> serde_json::Value {
    serde_json::Value::Object(
        f.meta
            .iter()
            .map(|(log, m)| (log.clone(), m.to_json()))
            .collect(),
    )
}

/// An `integer[]` literal of a sorted set; `None` (NULL) when empty.
fn int_set(values: impl Iterator<Item = i64>) -> Option<String> {
    let mut text = String::from("{");
    for v in values {
        if text.len() > 1 {
            text.push(',');
        }
        let _ = write!(text, "{v}");
    }
    text.push('}');
    (text.len() > 2).then_some(text)
}

/// The duration of the flow's slots when they all have the same (the
/// rule within an import): they are then sent as their start times, in
/// seconds (`slot_starts`, `slot_len`), cheaper for the server to read
/// than `tstzrange` literals, and turned into ranges by the merge.
fn uniform_slot_len(f: &Flow) -> Option<u32> {
    let first = f.times.first()?.duration;
    f.times.iter().all(|s| s.duration == first).then_some(first)
}

/// A `tstzrange[]` literal of the flow's slots; `None` (NULL) when none.
fn slot_set(f: &Flow) -> Option<String> {
    if f.times.is_empty() {
        return None;
    }
    let mut text = String::from("{");
    for (i, slot) in f.times.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let end = slot.start + chrono::Duration::seconds(i64::from(slot.duration));
        let _ = write!(
            text,
            "\"[{},{})\"",
            slot.start.format("%Y-%m-%d %H:%M:%S+00"),
            end.format("%Y-%m-%d %H:%M:%S+00")
        );
    }
    text.push('}');
    Some(text)
}

/// Loads batches of aggregated flows.
pub struct FlowLoader<'a> {
    client: &'a mut Client,
    staging: CopyBuffer,
    /// Months whose partition is known to exist.
    partitions: BTreeSet<NaiveDate>,
}

impl<'a> FlowLoader<'a> {
    pub fn new(client: &'a mut Client) -> Result<Self> {
        client.batch_execute(STAGING)?;
        Ok(FlowLoader {
            client,
            staging: CopyBuffer::new("flow_staging", Staged::names()),
            partitions: BTreeSet::new(),
        })
    }

    /// Merges `flows` (distinct by key and [`period_of`] their first
    /// seen) in one transaction, sending them in COPY chunks of a few
    /// megabytes. Returns the number of flow rows inserted or updated.
    pub fn store<'f>(&mut self, flows: impl IntoIterator<Item = &'f Flow> + Clone) -> Result<u64> {
        self.merge(flows, None)
    }

    /// [`FlowLoader::store`], advancing `file` to `lines` committed input
    /// lines in the same transaction: what `flow` holds of a file and how
    /// far its import got never disagree, whenever the import stops.
    pub fn store_through<'f>(
        &mut self,
        flows: impl IntoIterator<Item = &'f Flow> + Clone,
        file: &mut FileImport,
        lines: u64,
    ) -> Result<u64> {
        self.merge(flows, Some((file, lines)))
    }

    /// Replaces the flows of ids `replaced` (every month of them) by
    /// `flows`, in one transaction (the cleanup of reversed flows).
    pub fn replace(&mut self, replaced: &[i64], flows: &[Flow]) -> Result<u64> {
        self.merge_with(flows, None, replaced)
    }

    /// Merges the rows of each flow stored since the last call (or since
    /// the loader was created) into one row per month (those of earlier
    /// imports too), in one transaction: queries then read one row per
    /// flow and month. Returns the rows removed.
    pub fn compact(&mut self) -> Result<u64> {
        let mut tx = self.client.transaction()?;
        tx.batch_execute("SET LOCAL work_mem = '128MB'")?;
        let removed: i64 = tx.query_one(COMPACT, &[])?.get(0);
        tx.batch_execute("TRUNCATE flow_touched")?;
        tx.commit()?;
        Ok(u64::try_from(removed).unwrap_or(0))
    }

    fn merge<'f>(
        &mut self,
        flows: impl IntoIterator<Item = &'f Flow> + Clone,
        progress: Option<(&mut FileImport, u64)>,
    ) -> Result<u64> {
        self.merge_with(flows, progress, &[])
    }

    fn merge_with<'f>(
        &mut self,
        flows: impl IntoIterator<Item = &'f Flow> + Clone,
        progress: Option<(&mut FileImport, u64)>,
        replaced: &[i64],
    ) -> Result<u64> {
        const CHUNK_BYTES: usize = 8 << 20;
        let periods: BTreeSet<NaiveDate> = flows
            .clone()
            .into_iter()
            .map(|f| period_of(f.firstseen))
            .collect();
        for period in periods {
            if self.partitions.insert(period) {
                ensure_partition(self.client, period)?;
            }
        }
        let mut tx = self.client.transaction()?;
        if !replaced.is_empty() {
            // flow has no foreign key to cascade through.
            tx.execute("DELETE FROM flow WHERE key_id = ANY($1)", &[&replaced])?;
            tx.execute("DELETE FROM flow_key WHERE id = ANY($1)", &[&replaced])?;
        }
        for flow in flows {
            Staged::write(&mut self.staging, flow);
            self.staging.end_row();
            if self.staging.bytes() >= CHUNK_BYTES {
                self.staging.flush(&mut tx)?;
            }
        }
        self.staging.flush(&mut tx)?;
        // The batch's sorts and joins in memory (the default 4 MB spills
        // them to disk); bounded by the batch size as the loader is. No
        // ANALYZE of the staging table: the statement joins it with its
        // own upsert only, and the planner knows its size from its pages.
        tx.batch_execute("SET LOCAL work_mem = '128MB'")?;
        let n = tx.execute(MERGE, &[])?;
        if let Some((file, lines)) = progress {
            file.advance(&mut tx, lines)?;
        }
        tx.commit()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_partition_names() {
        let t = DateTime::parse_from_rfc3339("2014-12-31T23:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        let p = period_of(t);
        assert_eq!(p, NaiveDate::from_ymd_opt(2014, 12, 1).unwrap());
        assert_eq!(partition_name(p).unwrap(), "flow_y2014m12");
        assert_eq!(next_month(p), NaiveDate::from_ymd_opt(2015, 1, 1).unwrap());
        assert!(partition_name(NaiveDate::from_ymd_opt(-5, 1, 1).unwrap()).is_none());
        assert_eq!(int_set([3, 80].into_iter()).unwrap(), "{3,80}");
        assert!(int_set(std::iter::empty()).is_none());
    }
}
