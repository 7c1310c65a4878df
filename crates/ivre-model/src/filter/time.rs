//! Times and durations as IVRE's flags write them (`--timeago 1d`,
//! `--timerange 2024-01-01 1700000000`), shared by every purpose.

use super::FilterError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Seconds from `N`, `Ns`, `Nm`, `Nh`, `Nd`, `Ny`.
pub fn parse_duration(s: &str) -> Result<f64, FilterError> {
    let s = s.trim();
    let invalid = || FilterError(format!("invalid duration {s:?} (N[smhdy])"));
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (
            &s[..i],
            match c {
                's' => 1.0,
                'm' => 60.0,
                'h' => 3600.0,
                'd' => 86400.0,
                'y' => 365.0 * 86400.0,
                _ => return Err(invalid()),
            },
        ),
        _ => (s, 1.0),
    };
    let n: f64 = num.parse().map_err(|_| invalid())?;
    Ok(n * mult)
}

/// Epoch seconds, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, FilterError> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Utc
            .timestamp_opt(n as i64, 0)
            .single()
            .ok_or_else(|| FilterError(format!("invalid time {s:?}")));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)));
    }
    Err(FilterError(format!(
        "invalid time {s:?} (epoch seconds or YYYY-MM-DD[ HH:MM:SS])"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(parse_duration("90").unwrap(), 90.0);
        assert_eq!(parse_duration("2h").unwrap(), 7200.0);
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("x").is_err());
        assert_eq!(
            parse_time("86400").unwrap().to_rfc3339(),
            "1970-01-02T00:00:00+00:00"
        );
        assert_eq!(
            parse_time("2024-01-02").unwrap().to_rfc3339(),
            "2024-01-02T00:00:00+00:00"
        );
        assert!(parse_time("yesterday").is_err());
    }
}
