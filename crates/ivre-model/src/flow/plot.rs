//! `ivre-flowcli --flow-daily --plot`: the time-of-day counts drawn as a
//! step chart, one line per flow name (IVRE draws it with matplotlib in a
//! window; here it is a self-contained SVG document, written to stdout,
//! that any browser shows and that needs nothing installed).

use std::collections::BTreeMap;
use std::fmt::Write;

/// Flow names drawn; the others are summed into one line `other`.
pub const MAX_LINES: usize = 12;

/// Colours of the lines (a colour-blind friendly qualitative palette).
const COLOURS: [&str; 13] = [
    "#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#000000",
    "#ee7733", "#009988", "#cc3311", "#33bbee", "#777777",
];

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 40.0;
const DAY: u32 = 86_400;

/// The step chart of `points`: `(second of the day, [(flow name, slots)])`
/// as `flow_daily` gives them, with slots of `precision` seconds: each
/// flow name's count holds from its time of day to the next slot (zero
/// where it has none). The [`MAX_LINES`] names with the most slots are
/// drawn, the rest summed as `other`.
pub fn daily_svg(points: &[(u32, Vec<(String, i64)>)], precision: u32) -> String {
    let precision = precision.clamp(1, DAY);
    // Totals per name, to choose and order the lines.
    let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
    for (_, flows) in points {
        for (name, n) in flows {
            *totals.entry(name.as_str()).or_default() += n;
        }
    }
    let mut names: Vec<(&str, i64)> = totals.into_iter().collect();
    names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let others = names.len() > MAX_LINES;
    let shown: Vec<&str> = names.iter().take(MAX_LINES).map(|(n, _)| *n).collect();
    let mut labels: Vec<String> = shown.iter().map(|s| s.to_string()).collect();
    if others {
        labels.push("other".to_string());
    }
    // Per line, the count at each time of day.
    let mut series: Vec<BTreeMap<u32, i64>> = vec![BTreeMap::new(); labels.len()];
    for (tod, flows) in points {
        let tod = tod % DAY;
        for (name, n) in flows {
            let line = shown
                .iter()
                .position(|s| *s == name.as_str())
                .unwrap_or(labels.len() - 1);
            *series[line].entry(tod).or_default() += n;
        }
    }
    let ymax = series
        .iter()
        .flat_map(|s| s.values().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |t: u32| LEFT + plot_w * f64::from(t.min(DAY)) / f64::from(DAY);
    let y = |v: i64| TOP + plot_h * (1.0 - v as f64 / ymax as f64);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<title>Flows per time of day (slots of {precision} s, UTC)</title>
<rect width="100%" height="100%" fill="white"/>"#
    );
    // Axes, hour ticks and count ticks.
    let _ = writeln!(
        svg,
        r#"<path d="M{LEFT},{TOP} V{} H{}" fill="none" stroke="black"/>"#,
        TOP + plot_h,
        LEFT + plot_w
    );
    for h in (0..=24).step_by(3) {
        let tx = x(h * 3600);
        let _ = writeln!(
            svg,
            r##"<line x1="{tx:.1}" y1="{TOP}" x2="{tx:.1}" y2="{}" stroke="#dddddd"/><text x="{tx:.1}" y="{}" text-anchor="middle">{h:02}:00</text>"##,
            TOP + plot_h,
            TOP + plot_h + 16.0
        );
    }
    for v in ticks(ymax) {
        let ty = y(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{ty:.1}" x2="{}" y2="{ty:.1}" stroke="#dddddd"/><text x="{}" y="{:.1}" text-anchor="end">{v}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            ty + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">time of day (UTC)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 6.0
    );
    // One step line per name: the count of a slot holds until the next
    // slot start, zero in between.
    for (i, (label, s)) in labels.iter().zip(&series).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut d = format!("M{:.1},{:.1}", x(0), y(0));
        for (&tod, &n) in s {
            let end = tod.saturating_add(precision).min(DAY);
            let _ = write!(d, " H{:.1} V{:.1} H{:.1}", x(tod), y(n), x(end));
            if !s.contains_key(&end) {
                let _ = write!(d, " V{:.1}", y(0));
            }
        }
        let _ = write!(d, " H{:.1}", x(DAY));
        let _ = writeln!(
            svg,
            r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"><title>{}</title></path>"#,
            escape(label)
        );
        let ly = TOP + 8.0 + 18.0 * i as f64;
        let lx = LEFT + plot_w + 16.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            lx + 20.0,
            lx + 26.0,
            ly + 4.0,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Up to 6 round count ticks from 0 to `max`.
fn ticks(max: i64) -> Vec<i64> {
    let mut step = 1i64;
    while max / step > 5 {
        step = match step.to_string().as_bytes()[0] {
            b'1' => step * 2,
            b'2' => step / 2 * 5,
            _ => step * 2,
        };
    }
    (0..=max / step).map(|i| i * step).collect()
}

/// Text for SVG content.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_chart() {
        let points = vec![
            (
                0,
                vec![("tcp/80".to_string(), 2), ("udp/53".to_string(), 1)],
            ),
            (3600, vec![("tcp/80".to_string(), 4)]),
            (7 * 3600, vec![("tcp/<x>".to_string(), 1)]),
        ];
        let svg = daily_svg(&points, 3600);
        assert!(svg.starts_with("<?xml"));
        assert!(svg.ends_with("</svg>\n"));
        // One line per name, most slots first in the legend.
        assert_eq!(svg.matches("<path d=\"M64.0,").count(), 3);
        let (a, b) = (svg.find(">tcp/80<").unwrap(), svg.find(">udp/53<").unwrap());
        assert!(a < b);
        assert!(svg.contains("tcp/&lt;x&gt;"));
        // tcp/80 rises to 4, the maximum: the top of the plot.
        assert!(svg.contains(&format!("V{:.1}", TOP)));
        assert_eq!(ticks(4), vec![0, 1, 2, 3, 4]);
        assert_eq!(ticks(1000), vec![0, 200, 400, 600, 800, 1000]);
    }

    #[test]
    fn other_names_summed() {
        let flows: Vec<(String, i64)> = (0..20).map(|i| (format!("tcp/{i}"), 20 - i)).collect();
        let svg = daily_svg(&[(0, flows)], 3600);
        assert!(svg.contains(">other<"));
        assert!(svg.contains(">tcp/0<"));
        assert!(!svg.contains(">tcp/19<"));
        // Nothing at all still gives a document.
        assert!(daily_svg(&[], 60).contains("</svg>"));
    }
}
