//! `ivre-macinfo`: MAC addresses seen by the passive purpose (ARP through
//! Zeek, Wi-Fi through airodump-ng: `MAC_ADDRESS` records) and their
//! vendors, from the IEEE registry files of Debian's `ieee-data` package
//! (`ivre_model::oui`).
//!
//! Arguments select records as IVRE's `macinfo` does: addresses, networks
//! and ranges, MAC addresses, `/regex/` on MACs; a leading `!`, `-` or `~`
//! negates one. Positive arguments are ORed, negative ones ANDed.

use crate::CommonArgs;
use anyhow::{Context, Result};
use clap::Args;
use ivre_model::filter::passive::{self as p, PassiveFilter};
use ivre_model::filter::value::{str2regexp, Match};
use ivre_model::filter::Filter;
use ivre_model::oui::{Mac, OuiDb};
use ivre_model::passive::PassiveRecord;
use ivre_pg::passive::query;
use ivre_pg::query::QueryOpts;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where Debian's `ieee-data` installs the registry.
pub const DEFAULT_OUI_DIR: &str = "/usr/share/ieee-data";

/// The registry files read from the directory, most specific first.
const OUI_FILES: &[&str] = &["oui36.csv", "iab.csv", "mam.csv", "oui.csv"];

/// The flags of `ivre-macinfo`.
#[derive(Debug, Args)]
pub struct MacinfoArgs {
    /// IP addresses, networks (A/N), ranges (A-B), MAC addresses (`:` or `-`
    /// separated) or /regex/ on MACs; prefix with ! or ~ to exclude (or with -, after --)
    #[arg(value_name = "ARG")]
    pub args: Vec<String>,
    /// Only records of this sensor
    #[arg(short, long, value_name = "SENSOR")]
    pub sensor: Option<String>,
    /// Print the number of matching records only
    #[arg(short, long, conflicts_with_all = ["json", "vendor"])]
    pub count: bool,
    /// Add each MAC's vendor (IEEE registry) to the lines
    #[arg(short, long)]
    pub resolve: bool,
    /// No database: print the vendor of each MAC given (arguments, or one per line on stdin)
    #[arg(long)]
    pub vendor: bool,
    /// One JSON object per line
    #[arg(short = 'j', long)]
    pub json: bool,
    /// Directory of the IEEE registry CSV files (oui.csv, mam.csv, oui36.csv, iab.csv)
    #[arg(long, value_name = "DIR", env = "IVRE_OUI_DIR", default_value = DEFAULT_OUI_DIR)]
    pub oui_dir: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Loads the registry files found in `dir`; at least one must be there.
pub fn load_oui(dir: &Path) -> Result<OuiDb> {
    let mut db = OuiDb::new();
    let mut found = false;
    for name in OUI_FILES {
        let path = dir.join(name);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        };
        found = true;
        let bad = db
            .read_csv(io::BufReader::new(file))
            .with_context(|| format!("cannot read {}", path.display()))?;
        for e in bad {
            log::warn!("{}, {e}: row skipped", path.display());
        }
    }
    if !found {
        anyhow::bail!(
            "no IEEE registry file (oui.csv, ...) in {}: install Debian's ieee-data package \
             or give --oui-dir",
            dir.display()
        );
    }
    Ok(db)
}

/// The filter of the arguments (see the module documentation).
pub fn filter(args: &[String], sensor: Option<&str>) -> Result<PassiveFilter> {
    let (mut any, mut none) = (Vec::new(), Vec::new());
    for arg in args {
        let (neg, text) = match arg.strip_prefix(['!', '-', '~']) {
            Some(rest) => (true, rest),
            None => (false, arg.as_str()),
        };
        let cond = if let Some(mac) = Mac::parse(text) {
            p::value(Match::exact(mac.to_string()))
        } else if text.starts_with('/') {
            // A network starts with its address, a regex with its slash.
            p::value(str2regexp(text)?)
        } else {
            p::address_arg(text)?
        };
        if neg {
            none.push(cond.not());
        } else {
            any.push(cond);
        }
    }
    let mut flt = p::mac(None);
    if !any.is_empty() {
        flt = flt.and(Filter::any(any));
    }
    for n in none {
        flt = flt.and(n);
    }
    if let Some(s) = sensor {
        flt = flt.and(p::sensor(Match::exact(s)));
    }
    Ok(flt)
}

const TIME: &str = "%Y-%m-%d %H:%M:%S";

/// `MAC [vendor] SOURCE ADDR on SENSOR (RECONTYPE N time[s], first - last)`;
/// Wi-Fi records without an address show their target value.
fn line(r: &PassiveRecord, vendor: Option<&str>) -> String {
    let mut s = r.value.clone();
    if let Some(v) = vendor {
        s.push_str(&format!(" ({v})"));
    }
    s.push(' ');
    s.push_str(r.source.as_deref().unwrap_or("-"));
    s.push(' ');
    match (&r.addr, &r.targetval) {
        (Some(a), _) => s.push_str(&a.to_string()),
        (None, Some(t)) => s.push_str(t),
        (None, None) => s.push('-'),
    }
    if let Some(sensor) = &r.sensor {
        s.push_str(&format!(" on {sensor}"));
    }
    s.push_str(&format!(
        " ({} {} time{}, {} - {})",
        r.recontype,
        r.count,
        if r.count == 1 { "" } else { "s" },
        r.firstseen.format(TIME),
        r.lastseen.format(TIME)
    ));
    s
}

fn vendor_of(oui: Option<&OuiDb>, mac: &str) -> Option<String> {
    let mac = Mac::parse(mac)?;
    Some(match oui?.lookup(mac) {
        Some(v) => v.name.clone(),
        None if mac.is_multicast() => "multicast".into(),
        None if mac.is_local() => "locally administered".into(),
        None => "unknown".into(),
    })
}

/// Runs `ivre-macinfo`.
pub fn run(cli: &MacinfoArgs) -> ExitCode {
    cli.common.init_logging();
    crate::run("ivre-macinfo", || {
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        if cli.vendor {
            let oui = load_oui(&cli.oui_dir)?;
            let ok = vendors(cli, &oui, &mut out)?;
            out.flush()?;
            return Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        let flt = filter(&cli.args, cli.sensor.as_deref())
            .map_err(|e| anyhow::Error::new(crate::UsageError(format!("{e:#}"))))?;
        let oui = if cli.resolve {
            Some(load_oui(&cli.oui_dir)?)
        } else {
            None
        };
        let mut client = cli.common.connect()?;
        if cli.count {
            writeln!(out, "{}", query::count(&mut client, &flt)?)?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        let opts = QueryOpts {
            sort: vec![("value".into(), false), ("addr".into(), false)],
            ..QueryOpts::default()
        };
        query::get::<anyhow::Error>(&mut client, &flt, &opts, |r| {
            let vendor = if cli.resolve {
                vendor_of(oui.as_ref(), &r.value)
            } else {
                None
            };
            if cli.json {
                let mut v = serde_json::to_value(&r)?;
                if let (Some(vendor), Some(m)) = (vendor, v.as_object_mut()) {
                    m.insert("vendor".into(), vendor.into());
                }
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "{}", line(&r, vendor.as_deref()))?;
            }
            Ok(())
        })?;
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `--vendor`: one line per MAC, `MAC vendor` (`--json`: `{mac, registry,
/// prefix, vendor, address}`); false when a MAC could not be read.
fn vendors(cli: &MacinfoArgs, oui: &OuiDb, out: &mut impl Write) -> Result<bool> {
    let mut ok = true;
    let mut one = |text: &str, place: &dyn Fn() -> String| -> Result<()> {
        let Some(mac) = Mac::parse(text) else {
            log::error!("{}{text:?} is not a MAC address", place());
            ok = false;
            return Ok(());
        };
        let v = oui.lookup(mac);
        if cli.json {
            let j = match v {
                Some(v) => serde_json::json!({
                    "mac": mac.to_string(), "registry": v.registry,
                    "prefix": format!("{}/{}", v.assignment, v.bits),
                    "vendor": v.name, "address": v.address,
                }),
                None => serde_json::json!({"mac": mac.to_string(), "vendor": null}),
            };
            writeln!(out, "{j}")?;
        } else {
            let name = vendor_of(Some(oui), text).unwrap_or_default();
            writeln!(out, "{mac} {name}")?;
        }
        Ok(())
    };
    if cli.args.is_empty() || cli.args == ["-"] {
        let stdin = io::stdin();
        for (i, l) in stdin.lock().lines().enumerate() {
            let l = l?;
            if !l.trim().is_empty() {
                one(l.trim(), &|| format!("<stdin>, line {}: ", i + 1))?;
            }
        }
    } else {
        for a in &cli.args {
            one(a, &String::new)?;
        }
    }
    Ok(ok)
}
