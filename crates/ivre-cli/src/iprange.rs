//! `ivre-iprange`: the addresses of exactly one selector (a network, a
//! range, a file of targets, the routable IPv4 space, or a country, AS,
//! region or city of the MaxMind databases), as networks, ranges, a count,
//! addresses or JSON. [`selection`] is the computation, for the web API's
//! `/iprange` too.

use crate::UsageError;
use anyhow::{Context, Result};
use clap::Args;
use ivre_data::{GeoIpDb, RangeSelector};
use ivre_model::ipcalc::{Family, Range};
use ivre_model::targets::Targets;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The member states of the European Union (`EU` as a country).
pub const EU_MEMBERS: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// `--addrs` prints at most this many addresses unless `--force`.
pub const ADDRS_CAP: u128 = 1_000_000;

/// The flags of `ivre-iprange`.
#[derive(Debug, Args)]
pub struct IprangeArgs {
    /// Addresses from START to STOP (inclusive)
    #[arg(long, num_args = 2, value_names = ["START", "STOP"])]
    pub range: Vec<String>,
    /// Addresses of a network
    #[arg(long, value_name = "CIDR")]
    pub network: Option<String>,
    /// Targets read from a file: one address, network or A-B range per line,
    /// `#` comments
    #[arg(long, value_name = "FILE")]
    pub file: Option<String>,
    /// AS numbers (`AS3215` or `3215`), MaxMind ASN database
    #[arg(long, value_name = "AS[,AS]", value_delimiter = ',')]
    pub asnum: Vec<String>,
    /// Country codes (UK means GB, EU the member states), MaxMind Country database
    #[arg(long, value_name = "CC[,CC]", value_delimiter = ',')]
    pub country: Vec<String>,
    /// Registered country codes, MaxMind Country database
    #[arg(long, value_name = "CC[,CC]", value_delimiter = ',')]
    pub registered_country: Vec<String>,
    /// A region (subdivision code, e.g. FR IDF) of a country, MaxMind City database
    #[arg(long, num_args = 2, value_names = ["CC", "REGION"])]
    pub region: Vec<String>,
    /// A city of a country, MaxMind City database
    #[arg(long, num_args = 2, value_names = ["CC", "CITY"])]
    pub city: Vec<String>,
    /// The routable IPv4 space: everything but the IANA special-purpose
    /// blocks (private, loopback, multicast...); no BGP table is used
    #[arg(long)]
    pub routable: bool,
    /// Output: the fewest networks covering the addresses (the default)
    #[arg(long, group = "output")]
    pub cidrs: bool,
    /// Output: `first-last` ranges
    #[arg(long, group = "output")]
    pub ranges: bool,
    /// Output: the number of addresses
    #[arg(long, group = "output")]
    pub count: bool,
    /// Output: every address (at most 1000000 unless --force)
    #[arg(long, group = "output")]
    pub addrs: bool,
    /// Output: {"count", "ranges", "cidrs"} as JSON
    #[arg(short = 'j', long, group = "output")]
    pub json: bool,
    /// Keep the first N addresses only
    #[arg(long, value_name = "N")]
    pub limit: Option<u128>,
    /// --addrs: no cap on the number of addresses
    #[arg(long)]
    pub force: bool,
    /// Directory of the MaxMind .mmdb files (default: $IVRE_GEOIP_DIR, else /var/lib/GeoIP...)
    #[arg(long, value_name = "DIR")]
    pub geoip_dir: Option<PathBuf>,
    /// More messages on stderr
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// One selector of `ivre-iprange` (and of the web API's `/iprange`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Range(Range),
    Network(Range),
    /// Ranges already read (from a file).
    Targets(Vec<Range>),
    Routable,
    Geo(RangeSelector),
}

impl Selector {
    fn needs_geoip(&self) -> bool {
        matches!(self, Selector::Geo(_))
    }
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// Country codes as IVRE takes them: upper case, UK is GB, EU the members.
pub fn country_codes(codes: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for c in codes {
        match c.trim().to_ascii_uppercase().as_str() {
            "UK" => out.push("GB".to_string()),
            "EU" => out.extend(EU_MEMBERS.iter().map(|m| m.to_string())),
            c => out.push(c.to_string()),
        }
    }
    out
}

/// `AS3215` or `3215`.
pub fn parse_asnums(values: &[String]) -> Result<Vec<u32>> {
    values
        .iter()
        .map(|v| {
            ivre_model::rir::parse_asn(v).ok_or_else(|| usage(format!("{v:?} is not an AS number")))
        })
        .collect()
}

/// The selector the flags give; exactly one is required.
fn selector(args: &IprangeArgs) -> Result<Selector> {
    let mut found: Vec<Selector> = Vec::new();
    if !args.range.is_empty() {
        let r = Range::parse(&args.range[0], &args.range[1]).map_err(|e| usage(e.to_string()))?;
        found.push(Selector::Range(r));
    }
    if let Some(n) = &args.network {
        found.push(Selector::Network(
            Range::from_cidr(n).map_err(|e| usage(e.to_string()))?,
        ));
    }
    if let Some(f) = &args.file {
        found.push(Selector::Targets(read_targets(f)?));
    }
    if !args.asnum.is_empty() {
        found.push(Selector::Geo(RangeSelector::Asnum(parse_asnums(
            &args.asnum,
        )?)));
    }
    if !args.country.is_empty() {
        found.push(Selector::Geo(RangeSelector::Country(country_codes(
            &args.country,
        ))));
    }
    if !args.registered_country.is_empty() {
        found.push(Selector::Geo(RangeSelector::RegisteredCountry(
            country_codes(&args.registered_country),
        )));
    }
    if !args.region.is_empty() {
        found.push(Selector::Geo(RangeSelector::Region {
            country: country_codes(&args.region[..1]).remove(0),
            region: args.region[1].clone(),
        }));
    }
    if !args.city.is_empty() {
        found.push(Selector::Geo(RangeSelector::City {
            country: country_codes(&args.city[..1]).remove(0),
            city: args.city[1].clone(),
        }));
    }
    if args.routable {
        found.push(Selector::Routable);
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(usage(
            "give one selector: --range, --network, --file, --asnum, --country, \
             --registered-country, --region, --city or --routable",
        )),
        _ => Err(usage("give exactly one selector")),
    }
}

/// The lines of a targets file (`#` starts a comment); a bad line is an
/// error naming it. Shared with ivre-runscans `--file`.
pub fn read_targets(path: &str) -> Result<Vec<Range>> {
    let input = crate::input::open(path)?;
    let mut ranges = Vec::new();
    for (i, line) in input.reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", input.name))?;
        let text = line.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        ranges.push(
            Range::from_target(text).with_context(|| format!("{}, line {}", input.name, i + 1))?,
        );
    }
    Ok(ranges)
}

/// The addresses a selector gives, merged; `geoip` is needed by the
/// country, AS, region and city selectors.
pub fn selection(sel: &Selector, geoip: Option<&GeoIpDb>) -> Result<Targets> {
    Ok(match sel {
        Selector::Range(r) | Selector::Network(r) => Targets::new(vec![*r]),
        Selector::Targets(rs) => Targets::new(rs.clone()),
        Selector::Routable => Targets::routable_v4(),
        Selector::Geo(g) => {
            let db = geoip.context("this selector needs the MaxMind databases")?;
            let ranges = db.ipv4_ranges(g)?;
            Targets::new(
                ranges
                    .into_iter()
                    .map(|(a, b)| Range {
                        family: Family::V4,
                        start: a.into(),
                        stop: b.into(),
                    })
                    .collect(),
            )
        }
    })
}

/// The first `n` addresses of `t`.
pub fn limit(t: &Targets, n: u128) -> Targets {
    let mut left = n;
    let mut out = Vec::new();
    for r in t.ranges() {
        if left == 0 {
            break;
        }
        let take = r.size().min(left);
        out.push(Range {
            family: r.family,
            start: r.start,
            stop: r.start + (take - 1),
        });
        left -= take;
    }
    Targets::new(out)
}

/// Runs `ivre-iprange`.
pub fn run(args: &IprangeArgs) -> ExitCode {
    crate::CommonArgs {
        db: None,
        verbose: args.verbose,
        quiet: false,
    }
    .init_logging();
    crate::run("ivre-iprange", || {
        let sel = selector(args)?;
        let geoip = if sel.needs_geoip() {
            Some(ivre_data::GeoIpDb::discover(args.geoip_dir.as_deref())?)
        } else {
            None
        };
        let mut t = selection(&sel, geoip.as_ref())?;
        if let Some(n) = args.limit {
            t = limit(&t, n);
        }
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        if args.count {
            writeln!(out, "{}", t.len())?;
        } else if args.ranges {
            for r in t.ranges() {
                writeln!(out, "{r}")?;
            }
        } else if args.addrs {
            if t.len() > ADDRS_CAP && !args.force {
                return Err(usage(format!(
                    "{} addresses: more than {ADDRS_CAP}, use --force (or --limit)",
                    t.len()
                )));
            }
            for a in t.iter() {
                writeln!(out, "{a}")?;
            }
        } else if args.json {
            let ranges: Vec<[String; 2]> = t
                .ranges()
                .iter()
                .map(|r| [r.first().to_string(), r.last().to_string()])
                .collect();
            let cidrs: Vec<String> = t
                .ranges()
                .iter()
                .flat_map(|r| r.cidrs())
                .map(|c| c.to_string())
                .collect();
            let count = t.len();
            let count = match u64::try_from(count) {
                Ok(n) => serde_json::Value::from(n),
                Err(_) => serde_json::Value::from(count.to_string()),
            };
            let v = serde_json::json!({ "count": count, "ranges": ranges, "cidrs": cidrs });
            writeln!(out, "{v}")?;
        } else {
            for r in t.ranges() {
                for c in r.cidrs() {
                    writeln!(out, "{c}")?;
                }
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
