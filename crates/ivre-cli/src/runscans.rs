//! `ivre-runscans`: runs Nmap over a set of targets (`ivre_model::targets`)
//! with N processes at once, one process per address, each result written
//! as `<output-dir>/<address>.xml` (renamed into place once Nmap is done,
//! so that a half-written file never looks finished) and, with `--import`,
//! stored at once by `ivre-scan2db`. Dry runs (`--output`) list the
//! addresses, their networks, or the Nmap command line.

use crate::UsageError;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use ivre_model::ipcalc::Range;
use ivre_model::targets::{Targets, XorShift};
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

/// IVRE's `default` Nmap template: SYN scan, echo ping, OS detection,
/// traceroute, the default / discovery / auth scripts minus the intrusive
/// categories, 15 minutes per host.
pub const DEFAULT_TEMPLATE: &[&str] = &[
    "-PE",
    "-sS",
    "-O",
    "--traceroute",
    "-vv",
    "--host-timeout",
    "15m",
    "--script-timeout",
    "2m",
    "--script",
    "(default or discovery or auth) and not (broadcast or brute or dos or exploit or external or fuzzer or intrusive)",
];

/// What to do with the targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Run Nmap (default)
    #[value(name = "XMLFork")]
    XmlFork,
    /// Print every address, one per line
    #[value(name = "ListAll")]
    ListAll,
    /// Print the networks (CIDR) covering the targets
    #[value(name = "ListCIDRs")]
    ListCidrs,
    /// Print the Nmap command line that would run for each address
    #[value(name = "CommandLine")]
    CommandLine,
    /// Print the number of addresses
    #[value(name = "Count")]
    Count,
}

/// The flags of `ivre-runscans`.
#[derive(Debug, Args)]
pub struct RunscansArgs {
    /// Targets: a network (A.B.C.D/N)
    #[arg(long, value_name = "CIDR")]
    pub network: Vec<String>,
    /// Targets: a range of addresses
    #[arg(long, num_args = 2, value_names = ["START", "STOP"])]
    pub range: Vec<String>,
    /// Targets: a file of addresses, networks or A-B ranges, one per line (# comments; - for stdin)
    #[arg(long, value_name = "FILE")]
    pub file: Vec<String>,
    /// Targets: the routable IPv4 space (use with --limit)
    #[arg(long)]
    pub routable: bool,
    /// Scan only N addresses of the targets, drawn at random
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Seed of the random draw of --limit (the same seed draws the same addresses)
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Nmap template (only IVRE's `default` is built in)
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub nmap_template: String,
    /// Nmap options replacing the template's (one string, split on blanks)
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub nmap_args: Option<String>,
    /// The nmap program
    #[arg(long, default_value = "nmap", value_name = "PATH")]
    pub nmap: String,
    /// What to do: run Nmap, or a dry run
    #[arg(long, value_enum, default_value = "XMLFork", ignore_case = true)]
    pub output: Output,
    /// Nmap processes run at once
    #[arg(long, default_value_t = 30, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub processes: u32,
    /// Where the results go (one XML file per address)
    #[arg(long, default_value = "scans", value_name = "DIR")]
    pub output_dir: PathBuf,
    /// Store each result as it completes (ivre-scan2db -c CATEGORY -s SOURCE FILE)
    #[arg(long)]
    pub import: bool,
    /// Category of the imported results
    #[arg(short, long, default_value = "RUNSCANS", value_name = "CATEGORY")]
    pub categories: String,
    /// Source of the imported results
    #[arg(short, long, value_name = "NAME")]
    pub source: Option<String>,
    /// Database for --import (passed to ivre-scan2db)
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

fn targets(args: &RunscansArgs) -> Result<Targets> {
    let mut ranges = Vec::new();
    for n in &args.network {
        ranges.push(Range::from_cidr(n).map_err(|e| usage(e.to_string()))?);
    }
    for pair in args.range.chunks(2) {
        ranges.push(Range::parse(&pair[0], &pair[1]).map_err(|e| usage(e.to_string()))?);
    }
    for f in &args.file {
        ranges.extend(crate::iprange::read_targets(f)?);
    }
    let mut t = Targets::new(ranges);
    if args.routable {
        let mut all = t.ranges().to_vec();
        all.extend_from_slice(Targets::routable_v4().ranges());
        t = Targets::new(all);
    }
    if t.is_empty() {
        return Err(usage(
            "no targets: give --network, --range, --file or --routable",
        ));
    }
    Ok(t)
}

fn nmap_options(args: &RunscansArgs) -> Result<Vec<String>> {
    if let Some(a) = &args.nmap_args {
        return Ok(a.split_whitespace().map(str::to_owned).collect());
    }
    match args.nmap_template.as_str() {
        "default" => Ok(DEFAULT_TEMPLATE.iter().map(|s| s.to_string()).collect()),
        other => Err(usage(format!(
            "unknown Nmap template {other:?} (built in: default; or give --nmap-args)"
        ))),
    }
}

/// The file name of an address's result (`:` of IPv6 become `_`).
fn result_path(dir: &Path, addr: IpAddr) -> PathBuf {
    dir.join(format!("{}.xml", addr.to_string().replace(':', "_")))
}

/// Shell-like quoting for the CommandLine output.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Runs `ivre-runscans`.
pub fn run(args: &RunscansArgs) -> ExitCode {
    crate::run("ivre-runscans", || {
        let targets = targets(args)?;
        let options = nmap_options(args)?;
        let addrs: Box<dyn Iterator<Item = IpAddr> + '_> = match args.limit {
            Some(n) => {
                let seed = args.seed.unwrap_or_else(|| {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
                        .unwrap_or(0)
                });
                let mut g = XorShift::new(seed);
                Box::new(targets.sample(n as u128, &mut || g.next_u128()).into_iter())
            }
            None => Box::new(targets.iter()),
        };
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        match args.output {
            Output::Count => {
                let n = match args.limit {
                    Some(l) => targets.len().min(l as u128),
                    None => targets.len(),
                };
                writeln!(out, "{n}")?;
            }
            Output::ListCidrs if args.limit.is_none() => {
                for r in targets.ranges() {
                    for c in r.cidrs() {
                        writeln!(out, "{c}")?;
                    }
                }
            }
            Output::ListCidrs => {
                for a in addrs {
                    let bits = if a.is_ipv4() { 32 } else { 128 };
                    writeln!(out, "{a}/{bits}")?;
                }
            }
            Output::ListAll => {
                for a in addrs {
                    writeln!(out, "{a}")?;
                }
            }
            Output::CommandLine => {
                for a in addrs {
                    let mut words = vec![quote(&args.nmap)];
                    words.extend(options.iter().map(|o| quote(o)));
                    let path = result_path(&args.output_dir, a);
                    words.extend(["-oX".into(), quote(&path.to_string_lossy()), a.to_string()]);
                    writeln!(out, "{}", words.join(" "))?;
                }
            }
            Output::XmlFork => {
                drop(out);
                return run_nmap(args, &options, addrs);
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}

struct Job {
    addr: IpAddr,
    child: Child,
    partial: PathBuf,
    done: PathBuf,
}

fn run_nmap(
    args: &RunscansArgs,
    options: &[String],
    addrs: Box<dyn Iterator<Item = IpAddr> + '_>,
) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.output_dir)
        .with_context(|| format!("cannot create {}", args.output_dir.display()))?;
    let scan2db = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("ivre-scan2db")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("ivre-scan2db"));
    let mut addrs = addrs.peekable();
    let mut running: Vec<Job> = Vec::new();
    let (mut ok, mut failed) = (0u64, 0u64);
    loop {
        while running.len() < args.processes as usize {
            let Some(addr) = addrs.next() else { break };
            let done = result_path(&args.output_dir, addr);
            let partial = done.with_extension("xml.part");
            let child = Command::new(&args.nmap)
                .args(options)
                .arg("-oX")
                .arg(&partial)
                .arg(addr.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("cannot run {} (is Nmap installed?)", args.nmap))?;
            running.push(Job {
                addr,
                child,
                partial,
                done,
            });
        }
        if running.is_empty() {
            break;
        }
        let mut i = 0;
        let mut progressed = false;
        while i < running.len() {
            let status = running[i].child.try_wait()?;
            let Some(status) = status else {
                i += 1;
                continue;
            };
            progressed = true;
            let job = running.swap_remove(i);
            if !status.success() {
                log::error!("nmap on {}: {status}", job.addr);
                let _ = std::fs::remove_file(&job.partial);
                failed += 1;
                continue;
            }
            std::fs::rename(&job.partial, &job.done)
                .with_context(|| format!("cannot write {}", job.done.display()))?;
            log::info!("{}: {}", job.addr, job.done.display());
            if args.import {
                let mut cmd = Command::new(&scan2db);
                cmd.arg("-q").arg("-c").arg(&args.categories);
                if let Some(s) = &args.source {
                    cmd.arg("-s").arg(s);
                }
                if let Some(db) = &args.db {
                    cmd.arg("--db").arg(db);
                }
                let st = cmd
                    .arg(&job.done)
                    .status()
                    .with_context(|| format!("cannot run {}", scan2db.display()))?;
                if !st.success() {
                    log::error!("{}: ivre-scan2db failed ({st})", job.done.display());
                    failed += 1;
                    continue;
                }
            }
            ok += 1;
        }
        if !progressed {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    if let Some(a) = addrs.peek() {
        log::error!("stopped before {a}");
    }
    eprintln!(
        "{ok} address{} scanned{}, {failed} failed",
        if ok == 1 { "" } else { "es" },
        if args.import { " and imported" } else { "" }
    );
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
