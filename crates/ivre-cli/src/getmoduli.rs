//! `ivre-getmoduli`: the RSA moduli of the TLS certificates and SSH host
//! keys stored by the scan and passive purposes, with the servers using
//! each, for shared-factor (batch GCD) analysis.
//!
//! Keys stream from the database ([`ivre_pg::moduli`]); they are grouped
//! by modulus in memory (one entry per distinct key, a few hundred bytes
//! each, not per record), then printed in modulus order.

use crate::CommonArgs;
use clap::Args;
use ivre_model::moduli::{decimal_to_hex, ssh_rsa_modulus_hex};
use ivre_pg::moduli::{for_each_key, KeySource};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

/// The flags of `ivre-getmoduli`.
#[derive(Debug, Args)]
pub struct GetmoduliArgs {
    /// Keys of TLS certificates seen by passive sensors
    #[arg(short = 'p', long)]
    pub passive_ssl: bool,
    /// Keys of TLS certificates found by scans (ssl-cert)
    #[arg(short = 'a', long)]
    pub active_ssl: bool,
    /// SSH host keys seen by passive sensors
    #[arg(short = 's', long)]
    pub passive_ssh: bool,
    /// SSH host keys found by scans (ssh-hostkey)
    #[arg(short = 'A', long)]
    pub active_ssh: bool,
    /// Moduli only, one per line (the input of batch GCD tools)
    #[arg(long, conflicts_with = "json")]
    pub moduli_only: bool,
    /// One JSON object per modulus: {modulus, count, servers: [{addr, port, source}]}
    #[arg(short = 'j', long)]
    pub json: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

fn source_name(s: KeySource) -> &'static str {
    match s {
        KeySource::ActiveSsl => "active-ssl",
        KeySource::PassiveSsl => "passive-ssl",
        KeySource::ActiveSsh => "active-ssh",
        KeySource::PassiveSsh => "passive-ssh",
    }
}

type Server = (std::net::IpAddr, Option<u16>, &'static str);

fn server_text(s: &Server) -> String {
    match (s.0, s.1) {
        (std::net::IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (a, Some(p)) => format!("{a}:{p}"),
        (a, None) => a.to_string(),
    }
}

/// Runs `ivre-getmoduli`.
pub fn run(cli: &GetmoduliArgs) -> ExitCode {
    cli.common.init_logging();
    crate::run("ivre-getmoduli", || {
        let all = !(cli.passive_ssl || cli.active_ssl || cli.passive_ssh || cli.active_ssh);
        let sources: Vec<KeySource> = [
            (cli.active_ssl, KeySource::ActiveSsl),
            (cli.passive_ssl, KeySource::PassiveSsl),
            (cli.active_ssh, KeySource::ActiveSsh),
            (cli.passive_ssh, KeySource::PassiveSsh),
        ]
        .into_iter()
        .filter(|(on, _)| all || *on)
        .map(|(_, s)| s)
        .collect();
        let mut client = cli.common.connect()?;
        let mut moduli: BTreeMap<String, BTreeSet<Server>> = BTreeMap::new();
        let mut bad = 0u64;
        for source in sources {
            for_each_key::<anyhow::Error>(&mut client, source, |k| {
                let hex = match source {
                    KeySource::ActiveSsh => ssh_rsa_modulus_hex(&k.data),
                    _ => decimal_to_hex(&k.data),
                };
                match hex {
                    Some(h) => {
                        moduli
                            .entry(h)
                            .or_default()
                            .insert((k.addr, k.port, source_name(source)));
                    }
                    None => {
                        bad += 1;
                        log::warn!(
                            "{} ({}): stored RSA key without a readable modulus, skipped",
                            server_text(&(k.addr, k.port, "")),
                            source_name(source)
                        );
                    }
                }
                Ok(())
            })?;
        }
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        for (modulus, servers) in &moduli {
            if cli.moduli_only {
                writeln!(out, "{modulus}")?;
            } else if cli.json {
                let list: Vec<_> = servers
                    .iter()
                    .map(|s| serde_json::json!({"addr": s.0.to_string(), "port": s.1, "source": s.2}))
                    .collect();
                let j = serde_json::json!({"modulus": modulus, "count": servers.len(), "servers": list});
                writeln!(out, "{j}")?;
            } else {
                // A server using the key in several ways is listed once.
                let names: BTreeSet<String> = servers.iter().map(server_text).collect();
                let names: Vec<String> = names.into_iter().collect();
                writeln!(out, "{modulus} {} {}", names.len(), names.join(","))?;
            }
        }
        out.flush()?;
        Ok(if bad > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
}
