//! Progress bars on stderr, shown only when stderr is a terminal, so that
//! pipelines and cron jobs get clean output; and the wording of the closing
//! summary lines (counts, durations, rates).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A spinner counting items (hosts, lines), hidden when stderr is not a TTY.
pub fn counter(what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {{msg}} {{human_pos}} {what} ({{rate}}) [{{elapsed}}]"
        ))
        .expect("static template")
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}/s", thousands(state.per_sec().round() as u64));
            },
        ),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// The progress of one import: the records read and, when the input's size
/// is known (a regular file), the share of its bytes read, as a percentage
/// (compressed files: of the compressed bytes). Cleared when dropped.
pub struct ImportBar {
    bar: ProgressBar,
    records: Arc<AtomicU64>,
    sized: bool,
}

impl ImportBar {
    /// A bar for `what` (`hosts`); `size`: the input's bytes, if known.
    pub fn new(what: &'static str, size: Option<u64>) -> ImportBar {
        let records = Arc::new(AtomicU64::new(0));
        let bar = match size {
            Some(size) if std::io::stderr().is_terminal() => {
                let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
                let count = records.clone();
                let rate = records.clone();
                bar.set_style(
                    ProgressStyle::with_template(&format!(
                        "{{spinner}} {{percent:>3}}% [{{bar:30}}] {{records}} {what} \
                         ({{record_rate}}) [{{elapsed}}, {{eta}} left]"
                    ))
                    .expect("static template")
                    .with_key(
                        "records",
                        move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = w.write_str(&thousands(count.load(Ordering::Relaxed)));
                        },
                    )
                    .with_key(
                        "record_rate",
                        move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let secs = state.elapsed().as_secs_f64().max(1e-3);
                            let per_sec = rate.load(Ordering::Relaxed) as f64 / secs;
                            let _ = write!(w, "{}/s", thousands(per_sec.round() as u64));
                        },
                    )
                    .progress_chars("=> "),
                );
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                bar
            }
            _ => counter(what),
        };
        ImportBar {
            bar,
            records,
            sized: size.is_some(),
        }
    }

    /// The number of records read so far.
    pub fn set_records(&self, n: u64) {
        self.records.store(n, Ordering::Relaxed);
        if !self.sized {
            self.bar.set_position(n);
        }
    }

    /// Wraps the raw (still compressed) input, so that the bar follows the
    /// bytes read.
    pub fn reader(&self, inner: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        if self.sized {
            Box::new(self.bar.wrap_read(inner))
        } else {
            inner
        }
    }

    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for ImportBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Counts distinct addresses for a summary, up to a bound that keeps the
/// memory small (about 40 MB); past it, the count is unknown.
#[derive(Debug, Default)]
pub struct DistinctAddresses {
    seen: std::collections::HashSet<std::net::IpAddr>,
    overflowed: bool,
}

impl DistinctAddresses {
    const LIMIT: usize = 1 << 20;

    /// Counts `addr` (text; anything that is not an address is ignored).
    pub fn insert(&mut self, addr: &str) {
        if self.overflowed {
            return;
        }
        if let Ok(ip) = addr.parse() {
            self.seen.insert(ip);
            if self.seen.len() > Self::LIMIT {
                self.overflowed = true;
                self.seen = Default::default();
            }
        }
    }

    /// The number of distinct addresses, unless there were too many to count.
    pub fn count(&self) -> Option<u64> {
        (!self.overflowed).then_some(self.seen.len() as u64)
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    // The first group holds 1 to 3 digits, every other group 3.
    let lead = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        n => n,
    };
    let mut out = digits[..lead].to_owned();
    for group in digits.as_bytes()[lead..].chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).expect("ASCII digits"));
    }
    out
}

/// `1 host`, `945 hosts`, `1,234 hosts`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// A duration as people read it: `0.42s`, `6.6s`, `2m 05s`.
pub fn duration(secs: f64) -> String {
    if secs < 1.0 {
        format!("{secs:.2}s")
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = secs.round() as u64;
        format!("{}m {:02}s", whole / 60, whole % 60)
    }
}

/// ` (35,679 hosts/s)`, rounded; nothing when the run was too short or too
/// small for a rate to mean anything (under a second, or under one item a
/// second).
pub fn rate(n: u64, secs: f64, unit: &str) -> String {
    let per_sec = n as f64 / secs.max(1e-9);
    if secs < 1.0 || per_sec < 1.0 {
        String::new()
    } else {
        format!(" ({}/s)", count(per_sec.round() as u64, unit, unit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_read_well_for_any_size() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(35_678), "35,678");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(count(1, "host", "hosts"), "1 host");
        assert_eq!(count(945, "host", "hosts"), "945 hosts");
        assert_eq!(duration(0.004), "0.00s");
        assert_eq!(duration(6.61), "6.6s");
        assert_eq!(duration(125.4), "2m 05s");
        // 1 host in 6.61s: no "(0 hosts/s)".
        assert_eq!(rate(1, 6.61, "hosts"), "");
        assert_eq!(rate(945, 0.3, "hosts"), "");
        assert_eq!(rate(356_789, 10.000_3, "hosts"), " (35,678 hosts/s)");
    }

    #[test]
    fn distinct_addresses_are_counted_in_any_spelling() {
        let mut seen = DistinctAddresses::default();
        for addr in [
            "192.0.2.1",
            "192.0.2.1",
            "2001:db8::1",
            "2001:db8:0::1",
            "bogus",
        ] {
            seen.insert(addr);
        }
        assert_eq!(seen.count(), Some(2));
    }
}
