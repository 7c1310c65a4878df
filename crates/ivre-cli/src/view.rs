//! `ivre-view`: query the view (one record per address, built by
//! `ivre-db2view`). Every `ivre-scancli` filter and output, through the
//! same code over the view's tables, plus the enrichment filters.

use crate::args::{confirm_destructive, report_deleted, OutputArgs, MODE_GROUP};
use crate::passivefilter::split_server_client;
use crate::scancli::{run_query, HostFormatArgs};
use crate::scanfilter::ScanFilterArgs;
use crate::CommonArgs;
use anyhow::{Context, Result};
use clap::Args;
use ivre_model::filter::value::{optional_regexp, str2regexp};
use ivre_model::filter::view::{self as v, ViewFilter, ViewLeaf};
use ivre_model::filter::Filter;
use std::process::ExitCode;

/// The flags of `ivre-view`.
#[derive(Debug, Args)]
pub struct ViewArgs {
    #[command(flatten)]
    pub filter: ScanFilterArgs,
    #[command(flatten)]
    pub view_filter: ViewFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub formats: HostFormatArgs,
    /// Remove every view record (asks on a terminal); the next
    /// ivre-db2view rebuilds the whole view.
    #[arg(long, alias = "purgedb", group = MODE_GROUP, help_heading = "Actions")]
    pub init: bool,
}

/// The filters on what enrichment added (`infos`, from the MaxMind files
/// ivre-db2view found). A leading `!` or `-` negates.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "View filters")]
pub struct ViewFilterArgs {
    /// Country codes, comma-separated (UK stands for GB, EU for the member states; /regex/).
    #[arg(long, value_name = "CODES", allow_hyphen_values = true)]
    pub country: Vec<String>,
    /// AS numbers, comma-separated (AS3215 or 3215).
    #[arg(long, value_name = "N[,N]", allow_hyphen_values = true)]
    pub asnum: Vec<String>,
    /// AS name (/regex/ allowed).
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub asname: Vec<String>,
    /// City name (/regex/ allowed).
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub city: Vec<String>,
    /// Full-text search: hosts with any of the words (all "quoted phrases",
    /// none of the -words) in a host name, script output, service product,
    /// version or extra information, tag or OS name, whatever the case.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub search: Vec<String>,
    /// TLS clients with this JA3 (raw, MD5/SHA-1/SHA-256 or /regex/; any without a value).
    #[arg(long = "ssl-ja3-client", num_args = 0..=1, default_missing_value = "", value_name = "JA3")]
    pub ja3_client: Option<String>,
    /// TLS servers with this JA3S, optionally answering the client JA3 C: S[:C].
    #[arg(long = "ssl-ja3-server", num_args = 0..=1, default_missing_value = "", value_name = "S[:C]")]
    pub ja3_server: Option<String>,
    /// TLS clients with this JA4 (a_b_c or /regex/; any without a value).
    #[arg(long = "ssl-ja4-client", num_args = 0..=1, default_missing_value = "", value_name = "JA4")]
    pub ja4_client: Option<String>,
    /// TLS clients with this JA4 given in raw form (a_<ciphers>_<extensions>[_<algorithms>]).
    #[arg(long = "ssl-ja4-client-raw", value_name = "RAW")]
    pub ja4_client_raw: Option<String>,
}

/// `!X` or `-X`: (X, negated).
fn negation(arg: &str) -> (&str, bool) {
    match arg.strip_prefix(['!', '-']) {
        Some(rest) => (rest, true),
        None => (arg, false),
    }
}

impl ViewFilterArgs {
    pub fn to_filter(&self) -> Result<ViewFilter> {
        let mut parts = Vec::new();
        for arg in &self.country {
            let (codes, neg) = negation(arg);
            parts.push(v::country(codes).context("--country")?.neg_if(neg));
        }
        for arg in &self.asnum {
            let (nums, neg) = negation(arg);
            parts.push(v::asnum(nums).context("--asnum")?.neg_if(neg));
        }
        for arg in &self.asname {
            let (name, neg) = negation(arg);
            let leaf = ViewLeaf::AsName(str2regexp(name).context("--asname")?);
            parts.push(Filter::leaf(leaf).neg_if(neg));
        }
        for arg in &self.city {
            let (name, neg) = negation(arg);
            let leaf = ViewLeaf::City(str2regexp(name).context("--city")?);
            parts.push(Filter::leaf(leaf).neg_if(neg));
        }
        for text in &self.search {
            parts.push(v::search(text).context("--search")?);
        }
        if let Some(v) = &self.ja3_client {
            parts.push(v::ja3_client(optional_regexp(v)?));
        }
        if let Some(arg) = &self.ja3_server {
            let (s, c) = split_server_client(arg);
            let client = c.map(optional_regexp).transpose()?.flatten();
            parts.push(v::ja3_server(optional_regexp(s)?, client));
        }
        if let Some(arg) = &self.ja4_client {
            parts.push(v::ja4_client(optional_regexp(arg)?));
        }
        if let Some(raw) = &self.ja4_client_raw {
            parts.push(v::ja4_client_raw(raw).context("--ssl-ja4-client-raw")?);
        }
        Ok(Filter::all(parts))
    }
}

impl ViewArgs {
    /// The filter of every flag: the scan ones on the view, and the view's.
    pub fn to_filter(&self) -> Result<ViewFilter> {
        Ok(v::from_scan(self.filter.to_filter()?).and(self.view_filter.to_filter()?))
    }
}

/// Runs `ivre-view`.
pub fn run(common: &CommonArgs, cli: &ViewArgs) -> Result<ExitCode> {
    let flt = cli.to_filter()?;
    let mut client = common.connect()?;
    if cli.init {
        if confirm_destructive(cli.output.yes, "--init removes every view record")? {
            report_deleted(ivre_pg::view::purge(&mut client)?, "view record");
        }
        return Ok(ExitCode::SUCCESS);
    }
    run_query(&mut client, &flt, &cli.output, &cli.formats)?;
    Ok(ExitCode::SUCCESS)
}
