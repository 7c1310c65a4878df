//! The flags every query tool shares, each declared once: the filter flags
//! ([`FilterArgs`]: addresses, ids, categories, ports, services, times, ...)
//! built into any purpose's filter through [`CommonSearch`], and the output
//! modes ([`OutputArgs`], one [`Mode`], mutually exclusive by clap). A tool
//! flattens both and adds only the flags of its own purpose.

use crate::UsageError;
use anyhow::Result;
use clap::Args;
use ivre_model::filter::addr::{address, AddrCond};
use ivre_model::filter::search::CommonSearch;
use ivre_model::filter::service::ServiceQuery;
use ivre_model::filter::time::parse_duration;
use ivre_model::filter::value::{optional_regexp, str2list, str2regexp};
use ivre_model::filter::Filter;
use ivre_pg::query::QueryOpts;

/// The clap group of the output modes: at most one of them.
pub const MODE_GROUP: &str = "mode";

/// Positional addresses and `--host`, `--range`, `--net`, `--ipv4`, `--ipv6`.
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

/// The filter flags shared by every query tool (IVRE's names); all ANDed.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Filters")]
pub struct FilterArgs {
    #[command(flatten)]
    pub addresses: AddressArgs,
    /// Records with these ids.
    #[arg(long, num_args = 1.., value_name = "ID")]
    pub id: Vec<i64>,
    /// Records without these ids.
    #[arg(long = "no-id", num_args = 1.., value_name = "ID")]
    pub no_id: Vec<i64>,
    /// Records of this schema version.
    #[arg(long = "schema-version", value_name = "N")]
    pub schema_version: Option<i64>,
    /// Category (CAT, CAT1,CAT2 or CAT1|CAT2 for any of them, /regex/; passive: the sensor).
    #[arg(long, value_name = "CAT")]
    pub category: Vec<String>,
    /// This port is open (scan: [proto/]PORT, proto_PORT; passive: the TCP server port).
    #[arg(long, value_name = "[PROTO/]PORT")]
    pub port: Vec<String>,
    /// Service name: SVC[:PORT] (- for none, /regex/).
    #[arg(long, value_name = "SVC[:PORT]")]
    pub service: Vec<String>,
    /// Product: [SVC:]PROD[:PORT].
    #[arg(long, value_name = "[SVC:]PROD[:PORT]")]
    pub product: Vec<String>,
    /// Version: VERSION, PROD:VERSION or SVC:PROD:VERSION[:PORT].
    #[arg(
        long = "prodversion",
        alias = "product-version",
        value_name = "[[SVC:]PROD:]VERSION"
    )]
    pub prodversion: Vec<String>,
    /// Host name given by a service (/regex/ allowed).
    #[arg(long, value_name = "NAME")]
    pub svchostname: Option<String>,
    /// HTTP user agents (optionally this one, or /regex/).
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "UA")]
    pub useragent: Option<String>,
    /// Certificate hash (MD5, SHA-1 or SHA-256; colons and spaces ignored).
    #[arg(long, value_name = "HASH")]
    pub cert: Option<String>,
    /// CA certificate hash.
    #[arg(long, value_name = "HASH")]
    pub cacert: Option<String>,
    /// TOR-like certificates.
    #[arg(long)]
    pub torcert: bool,
    /// SSH host key fingerprint (MD5, colons allowed).
    #[arg(long, value_name = "FINGERPRINT")]
    pub sshkey: Option<String>,
    /// HASSH, client or server (value, MD5/SHA-1/SHA-256, or /regex/ on the raw string).
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "HASSH")]
    pub hassh: Option<String>,
    /// HASSH of a server.
    #[arg(long = "hassh-server", num_args = 0..=1, default_missing_value = "", value_name = "HASSH")]
    pub hassh_server: Option<String>,
    /// HASSH of a client.
    #[arg(long = "hassh-client", num_args = 0..=1, default_missing_value = "", value_name = "HASSH")]
    pub hassh_client: Option<String>,
    /// Banner (/regex/ allowed).
    #[arg(long, value_name = "BANNER")]
    pub banner: Option<String>,
    /// Seen (scanned, last seen) less than this long ago (seconds, or Ns/m/h/d/y).
    #[arg(long, value_name = "TIME")]
    pub timeago: Option<String>,
    /// Seen more than this long ago.
    #[arg(long = "no-timeago", value_name = "TIME")]
    pub no_timeago: Option<String>,
}

impl FilterArgs {
    /// The filter the shared flags describe, in the leaves of purpose `L`.
    pub fn to_filter<L: CommonSearch>(&self) -> Result<Filter<L>> {
        let mut parts = vec![self.addresses.to_filter()?.map(&mut L::addr)];
        if !self.id.is_empty() {
            parts.push(L::id(self.id.clone()));
        }
        if !self.no_id.is_empty() {
            parts.push(L::id(self.no_id.clone()).not());
        }
        if let Some(v) = self.schema_version {
            parts.push(L::schema_version(v));
        }
        for c in &self.category {
            parts.push(L::category(str2list(c)?));
        }
        for p in &self.port {
            parts.push(L::port(p)?);
        }
        for v in &self.service {
            parts.push(L::service(ServiceQuery::service_arg(v)?)?);
        }
        for v in &self.product {
            parts.push(L::service(ServiceQuery::product_arg(v)?)?);
        }
        for v in &self.prodversion {
            parts.push(L::service(ServiceQuery::version_arg(v)?)?);
        }
        if let Some(v) = &self.svchostname {
            parts.push(L::svchostname(str2regexp(v)?));
        }
        if let Some(v) = &self.useragent {
            parts.push(L::useragent(optional_regexp(v)?));
        }
        if let Some(v) = &self.cert {
            parts.push(L::cert_hash(v, false)?);
        }
        if let Some(v) = &self.cacert {
            parts.push(L::cert_hash(v, true)?);
        }
        if self.torcert {
            parts.push(L::torcert());
        }
        if let Some(v) = &self.sshkey {
            parts.push(L::sshkey(str2regexp(v)?));
        }
        for (v, server) in [
            (&self.hassh, None),
            (&self.hassh_server, Some(true)),
            (&self.hassh_client, Some(false)),
        ] {
            if let Some(v) = v {
                parts.push(L::hassh(optional_regexp(v)?, server));
            }
        }
        if let Some(v) = &self.banner {
            parts.push(L::banner(str2regexp(v)?));
        }
        for (v, neg) in [(&self.timeago, false), (&self.no_timeago, true)] {
            if let Some(v) = v {
                parts.push(L::timeago(parse_duration(v)?).neg_if(neg));
            }
        }
        Ok(Filter::all(parts))
    }
}

/// The output modes and record options shared by every query tool. A tool
/// adds its own modes to the same clap group ([`MODE_GROUP`]), so that two
/// modes on one command line are a usage error.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Print the number of matching records.
    #[arg(long, group = MODE_GROUP)]
    pub count: bool,
    /// Print the distinct addresses, one per line.
    #[arg(long, group = MODE_GROUP)]
    pub short: bool,
    /// Print the records as JSON, one per line (indented on a terminal).
    #[arg(short = 'j', long, group = MODE_GROUP)]
    pub json: bool,
    /// Print the distinct values of a field (same fields as --top).
    #[arg(long, value_name = "FIELD", group = MODE_GROUP)]
    pub distinct: Option<String>,
    /// Print the most common values of a field (~FIELD, !FIELD, -FIELD: the least common).
    #[arg(long, value_name = "FIELD", allow_hyphen_values = true, group = MODE_GROUP)]
    pub top: Option<String>,
    /// Print the query plan of the filter.
    #[arg(long, group = MODE_GROUP)]
    pub explain: bool,
    /// Delete the matching records (one transaction; asks on a terminal,
    /// needs --yes without one) and say how many.
    #[arg(long, group = MODE_GROUP, help_heading = "Actions")]
    pub delete: bool,
    /// Do not ask for confirmation (required by --delete and --init when
    /// stdin is not a terminal).
    #[arg(long, short = 'y', help_heading = "Actions")]
    pub yes: bool,
    /// Sort the records by these fields (~FIELD or -FIELD: descending).
    #[arg(long, value_name = "FIELD", allow_hyphen_values = true)]
    pub sort: Vec<String>,
    /// Skip this many records (--short: addresses, --distinct and --top:
    /// values; --count counts what is left).
    #[arg(long, default_value_t = 0, value_parser = sql_count())]
    pub skip: u64,
    /// At most this many records (--short: addresses, --distinct: values,
    /// --top: values, default 10; --count counts at most this many; 0: no limit).
    #[arg(long, value_parser = sql_count())]
    pub limit: Option<u64>,
}

/// A record count as SQL takes it (`LIMIT` / `OFFSET` are signed 64-bit):
/// a larger number is a usage error rather than a negative value.
fn sql_count() -> clap::builder::RangedU64ValueParser {
    clap::value_parser!(u64).range(..=i64::MAX as u64)
}

/// The output mode the shared flags chose; a tool's own modes (same clap
/// group) leave it at `Records` and are read from the tool's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The records, in the tool's own format (or the tool's own mode).
    Records,
    Json,
    Count,
    Short,
    Top {
        field: String,
        least: bool,
    },
    Distinct(String),
    Explain,
    Delete,
}

impl OutputArgs {
    /// The mode the flags chose (clap lets at most one through).
    pub fn mode(&self) -> Mode {
        if self.count {
            Mode::Count
        } else if self.short {
            Mode::Short
        } else if self.json {
            Mode::Json
        } else if let Some(field) = &self.distinct {
            Mode::Distinct(field.clone())
        } else if let Some(top) = &self.top {
            let (field, least) = parse_top(top);
            Mode::Top { field, least }
        } else if self.explain {
            Mode::Explain
        } else if self.delete {
            Mode::Delete
        } else {
            Mode::Records
        }
    }

    /// At most this many values for `--top` (10 unless `--limit`).
    pub fn top_limit(&self) -> u64 {
        self.limit.unwrap_or(10)
    }

    /// The sort, skip and limit of a record listing (`--sort`, `--skip`,
    /// `--limit`); also the page of `--short` and `--distinct`.
    pub fn query_opts(&self) -> QueryOpts {
        QueryOpts {
            sort: QueryOpts::parse_sort(&self.sort),
            skip: self.skip,
            limit: self.limit.unwrap_or(0),
        }
    }

    /// The page of `--top`: `--skip` values skipped, then `--limit` (10
    /// by default) of them.
    pub fn top_page(&self) -> QueryOpts {
        QueryOpts {
            sort: Vec::new(),
            skip: self.skip,
            limit: self.top_limit(),
        }
    }

    /// `--count` with `--skip` / `--limit`: what a listing of the `total`
    /// matching records would show.
    pub fn paged_count(&self, total: i64) -> u64 {
        let left = (total.max(0) as u64).saturating_sub(self.skip);
        match self.limit {
            Some(l) if l > 0 => left.min(l),
            _ => left,
        }
    }

    /// `--skip`, `--limit` or `--sort` given to a mode that cannot honour
    /// them (`--delete`, `--explain`): a usage error rather than being
    /// ignored.
    pub fn refuse_paging(&self, mode: &str) -> Result<()> {
        if self.skip > 0 || self.limit.is_some() || !self.sort.is_empty() {
            return Err(UsageError(format!(
                "{mode} applies to every matching record: --skip, --limit and --sort do not apply"
            ))
            .into());
        }
        Ok(())
    }
}

/// Asks before a destructive action (`--delete`, `--init`) on a terminal;
/// without one (scripts, cron), `--yes` is required: a usage error says so.
pub fn confirm_destructive(yes: bool, action: &str) -> Result<bool> {
    use std::io::IsTerminal;
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(format!(
            "{action}: confirm with --yes (stdin is not a terminal to ask on)"
        ))
        .into());
    }
    crate::confirm(&format!("{action}. Continue?"))
}

/// The closing line of a destructive action (`945 records deleted`), on
/// stderr unless `--quiet`.
pub fn report_deleted(n: u64, what: &str) {
    if log::log_enabled!(log::Level::Warn) {
        let s = if n == 1 { "" } else { "s" };
        eprintln!("{}: {n} {what}{s} deleted", crate::program_name());
    }
}

/// `--top` argument: `~FIELD` / `!FIELD` / `-FIELD` for the least common.
pub fn parse_top(arg: &str) -> (String, bool) {
    match arg.strip_prefix(['~', '!', '-']) {
        Some(rest) => (rest.to_string(), true),
        None => (arg.to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use ivre_model::filter::passive::PassiveLeaf;
    use ivre_model::filter::scan::ScanLeaf;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        output: OutputArgs,
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("tool").chain(args.iter().copied()))
    }

    #[test]
    fn one_flag_builds_every_purpose() {
        let cli = parse(&["10.0.0.0/8", "--port", "udp/53"]).unwrap();
        assert!(cli.filter.to_filter::<ScanLeaf>().is_ok());
        // Passive records only have TCP server ports.
        assert!(cli.filter.to_filter::<PassiveLeaf>().is_err());
        let cli = parse(&["--timeago", "1d", "--hassh-server"]).unwrap();
        assert!(cli.filter.to_filter::<ScanLeaf>().is_ok());
        assert!(cli.filter.to_filter::<PassiveLeaf>().is_ok());
    }

    #[test]
    fn output_modes_are_exclusive() {
        let err = parse(&["--count", "--top", "port"]).err().unwrap();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert_eq!(err.exit_code(), 2);
        let cli = parse(&["--top", "~port", "--limit", "3"]).unwrap();
        assert_eq!(
            cli.output.mode(),
            Mode::Top {
                field: "port".into(),
                least: true
            }
        );
        assert_eq!(cli.output.top_limit(), 3);
        assert_eq!(parse(&[]).unwrap().output.mode(), Mode::Records);
    }

    #[test]
    fn counts_beyond_sql_bigint_are_usage_errors() {
        let max = i64::MAX.to_string();
        let cli = parse(&["--limit", &max, "--skip", &max]).unwrap();
        assert_eq!(
            (cli.output.limit, cli.output.skip),
            (Some(i64::MAX as u64), i64::MAX as u64)
        );
        for flag in ["--limit", "--skip"] {
            for value in ["9223372036854775808", "18446744073709551615"] {
                let err = parse(&[flag, value]).err().unwrap();
                assert_eq!(
                    err.kind(),
                    clap::error::ErrorKind::ValueValidation,
                    "{flag} {value}"
                );
                assert_eq!(err.exit_code(), 2);
            }
        }
    }
}
