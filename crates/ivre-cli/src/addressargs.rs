//! The address flags every query tool shares (`IP|A-B|CIDR...`, `--host`,
//! `--range`, `--net`, `--ipv4`, `--ipv6`), flattened into each tool's
//! filter flags.

use anyhow::Result;
use clap::Args;
use ivre_model::filter::addr::{address, AddrCond};
use ivre_model::filter::Filter;

#[derive(Debug, Args, Clone, Default)]
pub struct AddressArgs {
    /// Hosts, ranges (A-B), networks (CIDR) or integer addresses, ORed together.
    #[arg(value_name = "IP|A-B|CIDR")]
    pub ips: Vec<String>,
    /// This address.
    #[arg(long, value_name = "IP")]
    pub host: Vec<String>,
    /// Addresses from A to B (inclusive).
    #[arg(long, num_args = 2, value_names = ["START", "STOP"])]
    pub range: Vec<String>,
    /// Addresses in this network.
    #[arg(long, value_name = "CIDR")]
    pub net: Vec<String>,
    /// IPv4 addresses only.
    #[arg(long)]
    pub ipv4: bool,
    /// IPv6 addresses only.
    #[arg(long)]
    pub ipv6: bool,
}

impl AddressArgs {
    /// The address conditions, as a tree of neutral address leaves that
    /// every purpose embeds (`Filter::map` with its `Addr` variant).
    pub fn to_filter(&self) -> Result<Filter<AddrCond>> {
        let mut parts = Vec::new();
        if !self.ips.is_empty() {
            let any: Result<Vec<Filter<AddrCond>>, _> = self
                .ips
                .iter()
                .map(|a| AddrCond::parse_arg(a).map(Filter::Leaf))
                .collect();
            parts.push(Filter::any(any?));
        }
        for h in &self.host {
            parts.push(Filter::Leaf(AddrCond::Host(address(h)?)));
        }
        for pair in self.range.chunks(2) {
            parts.push(Filter::Leaf(AddrCond::Range(
                address(&pair[0])?,
                address(&pair[1])?,
            )));
        }
        for n in &self.net {
            parts.push(Filter::Leaf(AddrCond::net(n)?));
        }
        if self.ipv4 {
            parts.push(Filter::Leaf(AddrCond::Ipv4));
        }
        if self.ipv6 {
            parts.push(Filter::Leaf(AddrCond::Ipv6));
        }
        Ok(Filter::all(parts))
    }
}
