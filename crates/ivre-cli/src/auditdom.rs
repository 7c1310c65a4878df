//! `ivre-auditdom`: audits DNS domains through their name servers and
//! writes the findings as Nmap-like XML (scanner `ivre auditdom`) or IVRE
//! JSON, for `ivre-scan2db`. The questions go through `ivre-dns`; the
//! records are built by `ivre_model::scan::auditdom`.

use crate::{CommonArgs, UsageError};
use anyhow::Context;
use chrono::{NaiveDateTime, Utc};
use clap::Args;
use ivre_dns::{Client, DnsError, Rr};
use ivre_model::scan::auditdom::{self as audit, Server, Window, ZoneRecord};
use ivre_model::scan::Host;
use std::collections::BTreeSet;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct AuditdomArgs {
    /// Domains to check.
    #[arg(value_name = "DOMAIN", required = true)]
    pub domains: Vec<String>,

    /// Output IVRE JSON (one host record a line) rather than XML.
    #[arg(short = 'j', long)]
    pub json: bool,

    /// Use only IPv4 (the name servers' and mail exchangers' A records).
    #[arg(short = '4', long, conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use only IPv6 (their AAAA records).
    #[arg(short = '6', long)]
    pub ipv6: bool,

    /// The resolver that finds the name servers and the addresses
    /// (ADDR, ADDR:PORT or [IPv6]:PORT). Default: the first nameserver of
    /// /etc/resolv.conf.
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_server)]
    pub nameserver: Option<SocketAddr>,

    /// The port asked on the domains' name servers.
    #[arg(long, value_name = "PORT", default_value_t = 53)]
    pub ns_port: u16,

    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_timeout)]
    pub timeout: f64,

    /// Most records a zone transfer may hold (a larger one is reported as
    /// an error and not kept).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_records: usize,

    /// More messages on stderr (-v: each zone transfer and refusal).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
}

fn parse_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bare = s.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{s:?} is not ADDR, ADDR:PORT or [IPv6]:PORT"))
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t > 0.0 && t <= 3600.0 => Ok(t),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 3600]")),
    }
}

/// The first usable `nameserver` line of /etc/resolv.conf.
fn system_resolver() -> anyhow::Result<SocketAddr> {
    let path = "/etc/resolv.conf";
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{path}: cannot read it (use --nameserver)"))?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .next()
        .with_context(|| format!("{path}: no nameserver line (use --nameserver)"))
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn to_model(r: Rr) -> ZoneRecord {
    ZoneRecord {
        name: r.name,
        ttl: r.ttl,
        class: r.class,
        rtype: r.rtype,
        data: r.data,
    }
}

/// The output, XML or JSON, counting the records written.
struct Out<W: Write> {
    w: W,
    json: bool,
    count: u64,
}

impl<W: Write> Out<W> {
    fn hosts(&mut self, hosts: Vec<Host>) -> io::Result<()> {
        for h in hosts {
            if self.json {
                audit::json_host(&mut self.w, &h)?;
            } else {
                audit::xml_host(&mut self.w, &h)?;
            }
            self.count += 1;
        }
        Ok(())
    }
}

struct Auditor<'a> {
    client: Client,
    resolver: SocketAddr,
    args: &'a AuditdomArgs,
}

impl Auditor<'_> {
    /// The addresses of `name`, from the resolver (A then AAAA as allowed).
    fn addresses(&self, domain: &str, name: &str) -> Vec<IpAddr> {
        let mut out = Vec::new();
        let kinds = match (self.args.ipv4, self.args.ipv6) {
            (true, _) => &["A"][..],
            (_, true) => &["AAAA"][..],
            _ => &["A", "AAAA"][..],
        };
        for kind in kinds {
            match self.client.query(self.resolver, name, kind) {
                Ok(rrs) => out.extend(rrs.iter().filter_map(|r| r.data.parse::<IpAddr>().ok())),
                Err(e) => log::warn!(
                    "{domain}: {name} {kind} from the resolver {}: {e}",
                    self.resolver
                ),
            }
        }
        out
    }

    /// The answer of every server to `name rtype` (a failure: no answer).
    fn ask(
        &self,
        domain: &str,
        servers: &[Server],
        name: &str,
        rtype: &str,
    ) -> Vec<(Server, BTreeSet<String>)> {
        servers
            .iter()
            .map(|s| {
                let sa = SocketAddr::new(s.addr, s.port);
                let set = match self.client.query(sa, name, rtype) {
                    Ok(rrs) => {
                        audit::answer_set(&rrs.into_iter().map(to_model).collect::<Vec<_>>())
                    }
                    Err(e) => {
                        log::warn!("{domain}: {name} {rtype} from {} ({sa}): {e}", s.name);
                        BTreeSet::new()
                    }
                };
                (s.clone(), set)
            })
            .collect()
    }

    /// Every check of one domain; false when it could not be audited.
    fn audit<W: Write>(&self, domain: &str, out: &mut Out<W>) -> anyhow::Result<bool> {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let ns = match self.client.query(self.resolver, &domain, "NS") {
            Ok(rrs) => rrs,
            Err(e) => {
                log::error!("{domain}: NS from the resolver {}: {e}", self.resolver);
                return Ok(false);
            }
        };
        let names: BTreeSet<String> = ns
            .iter()
            .map(|r| r.data.trim_end_matches('.').to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            log::error!(
                "{domain}: no name server (no NS record from the resolver {})",
                self.resolver
            );
            return Ok(false);
        }
        let mut servers = Vec::new();
        for name in &names {
            for addr in self.addresses(&domain, name) {
                servers.push(Server {
                    name: name.clone(),
                    addr,
                    port: self.args.ns_port,
                });
            }
        }
        if servers.is_empty() {
            log::error!(
                "{domain}: no address for its name servers ({})",
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            return Ok(false);
        }
        // zone transfers
        for s in &servers {
            let sa = SocketAddr::new(s.addr, s.port);
            let start = now();
            match self.client.axfr(sa, &domain) {
                Ok(rrs) => {
                    log::info!(
                        "{domain}: zone transfer from {} ({sa}): {} records",
                        s.name,
                        rrs.len()
                    );
                    let recs: Vec<ZoneRecord> = rrs.into_iter().map(to_model).collect();
                    out.hosts(audit::zone_transfer(
                        &domain,
                        s,
                        &recs,
                        Window { start, end: now() },
                    ))?;
                }
                Err(DnsError::Rcode(c)) => {
                    log::info!(
                        "{domain}: zone transfer from {} ({sa}): refused ({c})",
                        s.name
                    )
                }
                Err(e) => log::warn!("{domain}: zone transfer from {} ({sa}): {e}", s.name),
            }
        }
        // name servers
        let start = now();
        let answers = self.ask(&domain, &servers, &domain, "NS");
        let w = Window { start, end: now() };
        out.hosts(audit::consistency(&domain, &domain, "NS", &answers, w))?;
        out.hosts(audit::domains(&domain, &servers, w))?;
        // mail exchangers
        let start = now();
        let answers = self.ask(&domain, &servers, &domain, "MX");
        let exchangers: Vec<audit::Exchanger> = audit::exchangers_named(&answers)
            .into_iter()
            .map(|(prio, name)| {
                let addrs = self.addresses(&domain, &name);
                (prio, name, addrs)
            })
            .collect();
        let w = Window { start, end: now() };
        out.hosts(audit::consistency(&domain, &domain, "MX", &answers, w))?;
        out.hosts(audit::mail_exchangers(&domain, &exchangers, w))?;
        // TLS-RPT
        let start = now();
        let name = format!("_smtp._tls.{domain}");
        let answers = self.ask(&domain, &servers, &name, "TXT");
        let w = Window { start, end: now() };
        out.hosts(audit::consistency(&domain, &name, "TXT", &answers, w))?;
        out.hosts(audit::tls_rpt(&domain, &answers, w))?;
        out.w.flush()?;
        Ok(true)
    }
}

/// The command line, quoted as a shell would need it.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,[]".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn run(args: &AuditdomArgs) -> ExitCode {
    CommonArgs {
        db: None,
        verbose: args.verbose,
        quiet: args.quiet,
    }
    .init_logging();
    crate::run("ivre-auditdom", || {
        for d in &args.domains {
            ivre_dns::parse_name(d).map_err(|e| UsageError(e.to_string()))?;
        }
        let resolver = match args.nameserver {
            Some(r) => r,
            None => system_resolver()?,
        };
        let auditor = Auditor {
            client: Client {
                timeout: Duration::from_secs_f64(args.timeout),
                max_records: args.max_records,
                ..Client::default()
            },
            resolver,
            args,
        };
        let stdout = io::stdout();
        let mut out = Out {
            w: BufWriter::new(stdout.lock()),
            json: args.json,
            count: 0,
        };
        let start = now();
        if !args.json {
            audit::xml_header(
                &mut out.w,
                &command_line(),
                start,
                env!("CARGO_PKG_VERSION"),
            )?;
        }
        let mut failed = 0;
        for d in &args.domains {
            if !auditor.audit(d, &mut out)? {
                failed += 1;
            }
        }
        let end = now();
        if !args.json {
            let elapsed = (end - start).num_milliseconds() as f64 / 1000.0;
            audit::xml_footer(&mut out.w, end, elapsed, out.count)?;
        }
        out.w.flush()?;
        Ok(if failed > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
}
