//! `ivre-iphost`: passive DNS from the command line. Each VALUE (a name, an
//! address, a decimal integer address, a CIDR or a `/regex/`) is looked up
//! in the `DNS_ANSWER` records of the passive purpose; the answers are
//! printed per `(name, target)` pair as IVRE prints them, or as JSON, or
//! one answer per line in the Passive DNS Common Output Format.
//!
//! Differences with IVRE: only the passive resolvers are used (no active
//! scan results yet); a name query matches the queried names unless
//! `--reverse` (IVRE merges both directions); an address query is not
//! counted twice; COF times are integer epoch seconds.

use crate::CommonArgs;
use anyhow::{Context, Result};
use clap::Args;
use ivre_model::passive::dns::{DnsQuery, DnsSubject};
use ivre_pg::passive::dns;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

/// Options of `ivre-iphost`.
#[derive(Debug, Args)]
pub struct IphostArgs {
    /// Names, addresses (also as decimal integers), networks (CIDR) or
    /// /regular expressions/ (on names, /re/i for case-insensitive).
    #[arg(value_name = "VALUE", required = true)]
    pub values: Vec<String>,

    /// Name queries: match the name and all its subdomains (`--sub com`).
    #[arg(long)]
    pub sub: bool,

    /// Name queries: match the target of the answers (CNAME, NS, MX target)
    /// instead of the queried name.
    #[arg(long, alias = "passive-reverse")]
    pub reverse: bool,

    /// Print one JSON object per (name, target) pair.
    #[arg(short = 'j', long, conflicts_with = "cof")]
    pub json: bool,

    /// Print one JSON object per answer in the Passive DNS Common Output
    /// Format (rrname, rrtype, rdata, time_first, time_last, count,
    /// sensor_id, source).
    #[arg(long)]
    pub cof: bool,

    /// Print the number of results (pairs; answers with --cof) instead of them.
    #[arg(long, conflicts_with = "json")]
    pub count: bool,

    /// At most this many results in all (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub limit: u64,

    /// Only answers seen by this sensor.
    #[arg(short, long)]
    pub sensor: Option<String>,

    /// Only answers of this record type (A, AAAA, PTR, CNAME, NS, MX, ...).
    #[arg(short = 't', long = "type", alias = "dnstype", value_name = "RRTYPE")]
    pub rrtype: Option<String>,

    /// Accepted for compatibility with IVRE (only passive data is used).
    #[arg(long, hide = true)]
    pub passive: bool,
    /// Accepted for compatibility with IVRE (the default direction).
    #[arg(long, hide = true)]
    pub passive_direct: bool,
}

impl IphostArgs {
    /// The query of one VALUE.
    pub fn query(&self, value: &str) -> Result<DnsQuery> {
        let subject =
            DnsSubject::parse(value).with_context(|| format!("invalid query {value:?}"))?;
        Ok(DnsQuery {
            subject,
            subdomains: self.sub,
            reverse: self.reverse,
            rrtype: self.rrtype.clone(),
            sensor: self.sensor.clone(),
        })
    }
}

type Out = BufWriter<std::io::StdoutLock<'static>>;

/// The end of a `--limit`: stops the stream of results (not an error).
#[derive(Debug)]
struct Enough;

impl std::fmt::Display for Enough {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("limit reached")
    }
}

impl std::error::Error for Enough {}

/// Runs the tool: every VALUE is parsed before the database is touched (a
/// bad value stops the run with an error naming it), then queried in turn;
/// output is streamed. A VALUE without any record gets a line on stderr
/// (`no record found for ...`, unless --quiet); the exit status stays 0.
pub fn run(common: &CommonArgs, args: &IphostArgs) -> Result<ExitCode> {
    let queries = args
        .values
        .iter()
        .map(|v| args.query(v))
        .collect::<Result<Vec<_>>>()?;
    let mut client = common.connect()?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let limit = if args.limit == 0 {
        u64::MAX
    } else {
        args.limit
    };
    let mut shown: u64 = 0;
    for (q, value) in queries.iter().zip(&args.values) {
        if shown >= limit {
            break;
        }
        let mut seen: u64 = 0;
        // One result: printed (unless --count), then the stream stops at the limit.
        let mut show = |write: &mut dyn FnMut(&mut Out) -> Result<()>| -> Result<()> {
            seen += 1;
            shown += 1;
            if !args.count {
                write(&mut out)?;
            }
            if shown >= limit {
                return Err(Enough.into());
            }
            Ok(())
        };
        let res = if args.cof {
            dns::for_each_answer::<anyhow::Error>(&mut client, q, |a| {
                show(&mut |out| {
                    serde_json::to_writer(&mut *out, &a.to_cof())?;
                    Ok(out.write_all(b"\n")?)
                })
            })
        } else if args.json {
            dns::for_each_pair::<anyhow::Error>(&mut client, q, |p| {
                show(&mut |out| {
                    serde_json::to_writer(&mut *out, &p.to_json())?;
                    Ok(out.write_all(b"\n")?)
                })
            })
        } else {
            dns::for_each_pair::<anyhow::Error>(&mut client, q, |p| {
                show(&mut |out| Ok(p.write_text(out)?))
            })
        };
        match res {
            Ok(_) => {}
            Err(e) if e.is::<Enough>() => {}
            Err(e) => return Err(e),
        }
        if seen == 0 && log::log_enabled!(log::Level::Warn) {
            eprintln!("{}: no record found for {value:?}", crate::program_name());
        }
    }
    if args.count {
        writeln!(out, "{shown}")?;
    }
    out.flush()?;
    log::info!("{shown} result(s)");
    Ok(ExitCode::SUCCESS)
}
