//! Time slots (spec 1.4): the periods of `precision` seconds in which a
//! flow was seen, so that queries can restrict flows to a time window and
//! count them per time of day.
//!
//! Unlike IVRE, slot boundaries follow UTC, not the local wall clock of the
//! machine that imports: `base` shifts them (a base of -3600 aligns daily
//! slots on midnight UTC+1, for example).

use chrono::{DateTime, TimeZone, Utc};

/// IVRE's default precision: one hour.
pub const DEFAULT_PRECISION: u32 = 3600;

/// At most this many slots are recorded for one observation: a record
/// spanning years at a fine precision (a damaged timestamp, most often)
/// must not exhaust memory; the first slots are kept.
pub const MAX_SLOTS_PER_OBSERVATION: usize = 10_000;

/// One slot: `[start, start + duration)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeSlot {
    pub start: DateTime<Utc>,
    /// In seconds (the precision the slot was computed with).
    pub duration: u32,
}

/// How slots are computed (IVRE's `FLOW_TIME*` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotConfig {
    enabled: bool,
    precision: u32,
    base: i64,
    full_range: bool,
}

impl Default for SlotConfig {
    /// Hourly slots on UTC hours, every slot between start and end.
    fn default() -> Self {
        SlotConfig {
            enabled: true,
            precision: DEFAULT_PRECISION,
            base: 0,
            full_range: true,
        }
    }
}

impl SlotConfig {
    /// Slots of `precision` seconds starting at `base` (modulo the
    /// precision) seconds after the epoch; `None` for a zero precision.
    pub fn new(precision: u32, base: i64) -> Option<SlotConfig> {
        (precision > 0).then_some(SlotConfig {
            enabled: true,
            precision,
            base,
            full_range: true,
        })
    }

    /// No slot is recorded (IVRE's `FLOW_TIME = False`).
    pub fn disabled() -> SlotConfig {
        SlotConfig {
            enabled: false,
            ..SlotConfig::default()
        }
    }

    /// `true` (the default): every slot between start and end; `false`:
    /// only the slot of the start.
    pub fn with_full_range(mut self, full_range: bool) -> SlotConfig {
        self.full_range = full_range;
        self
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn precision(&self) -> u32 {
        self.precision
    }

    pub fn base(&self) -> i64 {
        self.base
    }

    /// The start of the slot containing `t` (sub-seconds dropped).
    pub fn slot_start(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let p = i64::from(self.precision);
        let ts = t.timestamp();
        let start = ts - (ts.rem_euclid(p) - self.base).rem_euclid(p);
        Utc.timestamp_opt(start, 0).single().unwrap_or(t)
    }

    /// The slot containing `t`.
    pub fn slot(&self, t: DateTime<Utc>) -> TimeSlot {
        TimeSlot {
            start: self.slot_start(t),
            duration: self.precision,
        }
    }

    /// The slots of an observation from `start` to `end` (none when slots
    /// are disabled; at most [`MAX_SLOTS_PER_OBSERVATION`]).
    pub fn slots(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Iterator<Item = TimeSlot> + '_ {
        let first = self.slot_start(start).timestamp();
        let last = if self.full_range {
            self.slot_start(end.max(start)).timestamp()
        } else {
            first
        };
        let n = if self.enabled {
            ((last - first) / i64::from(self.precision) + 1)
                .clamp(0, MAX_SLOTS_PER_OBSERVATION as i64)
        } else {
            0
        };
        (0..n).filter_map(move |i| {
            let s = first.checked_add(i.checked_mul(i64::from(self.precision))?)?;
            Some(TimeSlot {
                start: Utc.timestamp_opt(s, 0).single()?,
                duration: self.precision,
            })
        })
    }

    /// The slot of precision `new` that replaces `slot` when the precision
    /// of stored slots is reduced (spec 1.4, `--reduce-precision`); `None`
    /// when `slot` is not eligible: `new` must be a strict multiple of its
    /// duration, and this configuration's base a multiple of it.
    pub fn reduce(&self, slot: &TimeSlot, new: u32) -> Option<TimeSlot> {
        let d = slot.duration;
        if d == 0 || new <= d || !new.is_multiple_of(d) || self.base.rem_euclid(i64::from(d)) != 0 {
            return None;
        }
        let coarser = SlotConfig::new(new, self.base.rem_euclid(i64::from(new)))?;
        Some(coarser.slot(slot.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn daily_slots_start_at_midnight() {
        let day = SlotConfig::new(86400, 0).unwrap();
        for h in ["00", "07", "12", "23"] {
            assert_eq!(
                day.slot_start(t(&format!("2019-01-01T{h}:30:00Z"))),
                t("2019-01-01T00:00:00Z")
            );
            assert_eq!(
                day.slot_start(t(&format!("2019-06-01T{h}:59:59Z"))),
                t("2019-06-01T00:00:00Z")
            );
        }
    }

    #[test]
    fn weekly_slots_with_a_base() {
        // IVRE's oracle, in UTC: weeks starting on Monday 2019-07-15.
        let week = 7 * 86400;
        let base = t("2019-07-15T00:00:00Z").timestamp() % i64::from(week);
        let c = SlotConfig::new(week, base).unwrap();
        assert_eq!(
            c.slot_start(t("1970-01-01T00:00:00Z")),
            t("1969-12-29T00:00:00Z")
        );
        assert_eq!(
            c.slot_start(t("2019-07-15T00:00:00Z")),
            t("2019-07-15T00:00:00Z")
        );
        assert_eq!(
            c.slot_start(t("2019-07-21T23:50:00Z")),
            t("2019-07-15T00:00:00Z")
        );
    }

    #[test]
    fn full_range_and_single_slot() {
        let c = SlotConfig::default();
        let s: Vec<_> = c
            .slots(t("2020-01-01T10:59:00Z"), t("2020-01-01T13:00:00Z"))
            .collect();
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].start, t("2020-01-01T10:00:00Z"));
        assert_eq!(s[3].start, t("2020-01-01T13:00:00Z"));
        let one = c.with_full_range(false);
        assert_eq!(
            one.slots(t("2020-01-01T10:59:00Z"), t("2020-01-01T13:00:00Z"))
                .count(),
            1
        );
        assert_eq!(
            SlotConfig::disabled()
                .slots(t("2020-01-01T10:59:00Z"), t("2020-01-01T13:00:00Z"))
                .count(),
            0
        );
        let second = SlotConfig::new(1, 0).unwrap();
        assert_eq!(
            second
                .slots(t("1970-01-01T00:00:00Z"), t("2020-01-01T00:00:00Z"))
                .count(),
            MAX_SLOTS_PER_OBSERVATION
        );
        assert!(SlotConfig::new(0, 0).is_none());
    }

    #[test]
    fn reduce_precision() {
        let c = SlotConfig::default();
        let hour = c.slot(t("2020-01-01T05:10:00Z"));
        let four = c.reduce(&hour, 14400).unwrap();
        assert_eq!(four.start, t("2020-01-01T04:00:00Z"));
        assert_eq!(four.duration, 14400);
        assert!(c.reduce(&hour, 3600).is_none());
        assert!(c.reduce(&hour, 5400).is_none());
    }
}
