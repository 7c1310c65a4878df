//! The filter flags only `ivre-ipinfo` has, and their translation into a
//! [`PassiveFilter`] (all flags are ANDed; positional addresses are ORed).
//! The flags every query tool shares are [`FilterArgs`].

use crate::args::FilterArgs;
use anyhow::{bail, Context, Result};
use clap::Args;
use ivre_model::filter::passive::{self as p, Ja4Query, PassiveFilter};
use ivre_model::filter::time::parse_duration;
use ivre_model::filter::value::{optional_regexp, str2list, str2regexp, Match};
use ivre_model::filter::Filter;

/// The filter flags of `ivre-ipinfo` (IVRE's names): the shared ones and
/// the passive ones.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Filters")]
pub struct PassiveFilterArgs {
    #[command(flatten)]
    pub common: FilterArgs,
    /// Sensor (exact, A,B list, or /regex/; repeat to AND).
    #[arg(long, value_name = "SENSOR")]
    pub sensor: Vec<String>,
    /// Not this sensor.
    #[arg(long = "no-sensor", value_name = "SENSOR")]
    pub no_sensor: Vec<String>,
    /// Record type (DNS_ANSWER, SSL_SERVER, ...; A,B list or /regex/).
    #[arg(long, value_name = "RECONTYPE")]
    pub recontype: Vec<String>,
    /// Source (sub-type: header name, cert, ja3, ...; A,B list or /regex/).
    #[arg(long, value_name = "SOURCE")]
    pub source: Vec<String>,
    /// Java user agents.
    #[arg(long)]
    pub java: bool,
    /// MAC addresses (optionally this one, or /regex/).
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "MAC")]
    pub mac: Option<String>,
    /// DNS answers for exactly this name (/regex/ allowed).
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// DNS answers for names in this domain (/regex/ allowed).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// DNS answers for this name (exact, or /regex/).
    #[arg(long, value_name = "NAME")]
    pub dns: Option<String>,
    /// DNS answers for this name or its subdomains.
    #[arg(long, value_name = "NAME")]
    pub dnssub: Option<String>,
    /// DNS answers of this type (A, AAAA, PTR, CNAME, NS, MX).
    #[arg(long, value_name = "TYPE")]
    pub dnstype: Option<String>,
    /// HTTP Basic credentials.
    #[arg(long)]
    pub basicauth: bool,
    /// HTTP authorization headers.
    #[arg(long)]
    pub auth: bool,
    /// FTP credentials.
    #[arg(long)]
    pub ftp: bool,
    /// POP credentials.
    #[arg(long)]
    pub pop: bool,
    /// JA3 of a TLS client (value, hash or /regex/).
    #[arg(long = "ssl-ja3-client", num_args = 0..=1, default_missing_value = "", value_name = "JA3")]
    pub ja3_client: Option<String>,
    /// JA3S of a TLS server, optionally with the client's JA3: S[:C].
    #[arg(long = "ssl-ja3-server", num_args = 0..=1, default_missing_value = "", value_name = "S[:C]")]
    pub ja3_server: Option<String>,
    /// JA4 of a TLS client (a_b_c, or /regex/).
    #[arg(long = "ssl-ja4-client", num_args = 0..=1, default_missing_value = "", value_name = "JA4")]
    pub ja4_client: Option<String>,
    /// JA4 of a TLS client given in raw form (a_<ciphers>_<extensions>[_<algorithms>]).
    #[arg(long = "ssl-ja4-client-raw", value_name = "RAW")]
    pub ja4_client_raw: Option<String>,
    /// An infos value: KEY:VALUE (KEY dotted; VALUE exact, - for absent, or /regex/).
    #[arg(long, value_name = "KEY:VALUE")]
    pub infos: Vec<String>,
    /// First seen less than this long ago.
    #[arg(long, value_name = "TIME")]
    pub timeagonew: Option<String>,
    /// First seen more than this long ago.
    #[arg(long = "no-timeagonew", value_name = "TIME")]
    pub no_timeagonew: Option<String>,
}

/// Splits `S[:C]` on the first `:` outside a `/regex/`.
pub(crate) fn split_server_client(s: &str) -> (&str, Option<&str>) {
    let mut in_re = false;
    for (i, c) in s.char_indices() {
        match c {
            '/' if i == 0 => in_re = true,
            '/' if in_re => in_re = false,
            ':' if !in_re => return (&s[..i], Some(&s[i + 1..])),
            _ => {}
        }
    }
    (s, None)
}

impl PassiveFilterArgs {
    /// The filter the flags describe.
    pub fn to_filter(&self) -> Result<PassiveFilter> {
        let mut f = Filter::True;
        let mut add = |x: PassiveFilter| {
            let cur = std::mem::take(&mut f);
            f = cur.and(x);
        };
        add(self.common.to_filter()?);
        for s in &self.sensor {
            add(p::sensor(str2list(s)?));
        }
        for s in &self.no_sensor {
            add(p::sensor(str2list(s)?).not());
        }
        for r in &self.recontype {
            add(p::recontype(Some(str2list(r)?), None));
        }
        for s in &self.source {
            add(p::source(str2list(s)?));
        }
        if self.java {
            add(p::javaua());
        }
        if let Some(v) = &self.mac {
            add(p::mac(optional_regexp(v)?));
        }
        if let Some(v) = &self.hostname {
            add(p::hostname(str2regexp(v)?));
        }
        if let Some(v) = &self.domain {
            add(p::domain(str2regexp(v)?));
        }
        let dnstype = self.dnstype.as_deref();
        if let Some(t) = dnstype {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
                bail!("invalid DNS type {t:?} (A, AAAA, PTR, CNAME, NS, MX)");
            }
        }
        let mut typed = false;
        if let Some(v) = &self.dns {
            add(p::dns(Some(str2regexp(v)?), false, dnstype, false, false));
            typed = true;
        }
        if let Some(v) = &self.dnssub {
            add(p::dns(Some(str2regexp(v)?), false, dnstype, true, false));
            typed = true;
        }
        if !typed && dnstype.is_some() {
            add(p::dns(None, false, dnstype, false, false));
        }
        if self.basicauth {
            add(p::basicauth());
        }
        if self.auth {
            add(p::httpauth());
        }
        if self.ftp {
            add(p::ftpauth());
        }
        if self.pop {
            add(p::popauth());
        }
        if let Some(v) = &self.ja3_client {
            add(p::ja3client(optional_regexp(v)?));
        }
        if let Some(v) = &self.ja3_server {
            let (s, c) = split_server_client(v);
            add(p::ja3server(
                optional_regexp(s)?,
                c.map(optional_regexp).transpose()?.flatten(),
            ));
        }
        if let Some(v) = &self.ja4_client {
            add(p::ja4client(Ja4Query {
                value: optional_regexp(v)?,
                ..Default::default()
            }));
        }
        if let Some(v) = &self.ja4_client_raw {
            add(p::ja4client_raw(v)?);
        }
        for v in &self.infos {
            let Some((k, val)) = v.split_once(':') else {
                bail!("expected KEY:VALUE, got {v:?}");
            };
            let keys: Vec<&str> = k.split('.').collect();
            if keys.iter().any(|k| k.is_empty()) {
                bail!("invalid infos key {k:?}");
            }
            let m = if val == "-" {
                Match::Absent
            } else {
                str2regexp(val)?
            };
            add(p::infos(&keys, m));
        }
        for (v, neg) in [(&self.timeagonew, false), (&self.no_timeagonew, true)] {
            if let Some(v) = v {
                add(p::timeago(parse_duration(v)?, true).neg_if(neg));
            }
        }
        Ok(f)
    }
}

/// Used by the tests: builds the filter from a command line of flags.
pub fn filter_from_args(args: &[&str]) -> Result<PassiveFilter> {
    #[derive(clap::Parser)]
    struct P {
        #[command(flatten)]
        f: PassiveFilterArgs,
    }
    use clap::Parser;
    let p = P::try_parse_from(std::iter::once("ipinfo").chain(args.iter().copied()))
        .context("invalid filter arguments")?;
    p.f.to_filter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_filters() {
        assert_eq!(filter_from_args(&[]).unwrap(), Filter::True);
        assert!(filter_from_args(&["10.0.0.1", "10.0.0.0/8"]).is_ok());
        assert!(filter_from_args(&["--port", "udp/53"]).is_err());
        assert!(filter_from_args(&["--dnstype", "A'"]).is_err());
        assert!(filter_from_args(&["--timeago", "x"]).is_err());
        assert!(filter_from_args(&["--sensor", "/a/q"]).is_err());
        assert_eq!(split_server_client("/a:b/:c"), ("/a:b/", Some("c")));
        assert_eq!(split_server_client("abc"), ("abc", None));
    }
}
