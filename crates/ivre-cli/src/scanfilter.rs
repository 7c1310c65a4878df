//! The filter flags only `ivre-scancli` has, and their translation into a
//! [`ScanFilter`] (all flags are ANDed; positional addresses are ORed
//! together). The flags every query tool shares are [`FilterArgs`].

use crate::args::FilterArgs;
use anyhow::{anyhow, Context, Result};
use clap::Args;
use ivre_model::filter::addr::address;
use ivre_model::filter::scan::{self as s, args, named, ScanFilter};
use ivre_model::filter::time::parse_time;
use ivre_model::filter::value::{optional_regexp, str2regexp, str2regexpnone};
use ivre_model::filter::Filter;

/// The filter flags of `ivre-scancli` (IVRE's names): the shared ones and
/// the scan ones.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Filters")]
pub struct ScanFilterArgs {
    #[command(flatten)]
    pub common: FilterArgs,
    /// Hosts with this MAC address (or /regex/).
    #[arg(long, value_name = "MAC")]
    pub mac: Option<String>,
    /// Source (exact, or /regex/).
    #[arg(long, value_name = "SRC")]
    pub source: Vec<String>,
    /// This port is not open.
    #[arg(long = "not-port", value_name = "[PROTO/]PORT")]
    pub not_port: Vec<String>,
    /// Some port is open.
    #[arg(long)]
    pub openport: bool,
    /// No port is open.
    #[arg(long = "no-openport")]
    pub no_openport: bool,
    /// Some open port is not in this list (comma-separated).
    #[arg(long = "otheropenport", value_name = "PORTS")]
    pub otheropenport: Option<String>,
    /// Between MIN and MAX open ports.
    #[arg(long, num_args = 2, value_names = ["MIN", "MAX"])]
    pub countports: Vec<i64>,
    /// Not between MIN and MAX open ports.
    #[arg(long = "no-countports", num_args = 2, value_names = ["MIN", "MAX"])]
    pub no_countports: Vec<i64>,
    /// Device type of a service (/regex/ allowed).
    #[arg(long, value_name = "TYPE")]
    pub devicetype: Option<String>,
    /// Network devices (routers, switches, firewalls, WAPs, ...).
    #[arg(long)]
    pub netdev: bool,
    /// Phones and PBXs.
    #[arg(long)]
    pub phonedev: bool,
    /// Webcams.
    #[arg(long)]
    pub webcam: bool,
    /// Host name (/regex/ allowed).
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Without this host name.
    #[arg(long = "no-hostname", value_name = "NAME")]
    pub no_hostname: Option<String>,
    /// Host name in this domain (the domain itself or a subdomain; /regex/ allowed).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Vec<String>,
    /// No host name in this domain.
    #[arg(long = "no-domain", value_name = "DOMAIN")]
    pub no_domain: Vec<String>,
    /// A traceroute hop with this address.
    #[arg(long, value_name = "IP")]
    pub hop: Option<String>,
    /// A traceroute hop with this name (/regex/ allowed).
    #[arg(long, value_name = "NAME")]
    pub hopname: Option<String>,
    /// A traceroute hop in this domain (/regex/ allowed).
    #[arg(long, value_name = "DOMAIN")]
    pub hopdomain: Option<String>,
    /// Scanned between START and STOP (epoch seconds or YYYY-MM-DD[ HH:MM:SS]).
    #[arg(long, num_args = 2, value_names = ["START", "STOP"])]
    pub timerange: Vec<String>,
    /// Script ID[:OUTPUT] (both parts accept /regex/).
    #[arg(long, value_name = "ID[:OUTPUT]")]
    pub script: Vec<String>,
    /// No script ID[:OUTPUT].
    #[arg(long = "no-script", value_name = "ID[:OUTPUT]")]
    pub no_script: Vec<String>,
    /// OS (vendor, family, generation or type; /regex/ allowed).
    #[arg(long, value_name = "OS")]
    pub os: Option<String>,
    /// CPE: [TYPE[:VENDOR[:PRODUCT[:VERSION]]]] (each /regex/ allowed).
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "CPE")]
    pub cpe: Option<String>,
    /// HTTP header [NAME[:VALUE]].
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "NAME[:VALUE]")]
    pub httphdr: Option<String>,
    /// HTTP application [NAME[:VERSION]].
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "NAME[:VERSION]")]
    pub httpapp: Option<String>,
    /// HTTP title (/regex/ allowed).
    #[arg(long, value_name = "TITLE")]
    pub httptitle: Option<String>,
    /// A Set-Cookie of this name.
    #[arg(long, value_name = "NAME")]
    pub cookie: Option<String>,
    /// JARM fingerprint.
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "JARM")]
    pub jarm: Option<String>,
    /// A file in a listing (ftp-anon, http-ls, smb-ls, nfs-ls, afp-ls): [SCRIPTS:]NAME.
    #[arg(long, value_name = "[SCRIPTS:]NAME")]
    pub file: Option<String>,
    /// A vulnerability: ID[:STATE] (/regex/ allowed).
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "ID[:STATE]")]
    pub vuln: Option<String>,
    /// A tag: [!|-]VALUE[:INFO].
    #[arg(long, value_name = "VALUE[:INFO]")]
    pub tag: Vec<String>,
    /// SMB OS discovery value: KEY:VALUE.
    #[arg(long, value_name = "KEY:VALUE")]
    pub smb: Vec<String>,
    /// NTLM info value: KEY:VALUE.
    #[arg(long, value_name = "KEY:VALUE")]
    pub ntlm: Vec<String>,
    /// Anonymous FTP.
    #[arg(long)]
    pub anonftp: bool,
    /// Anonymous LDAP bind.
    #[arg(long)]
    pub anonldap: bool,
    /// HTTP default credentials found.
    #[arg(long)]
    pub authhttp: bool,
    /// VNC authentication bypass.
    #[arg(long)]
    pub authbypassvnc: bool,
    /// NIS (ypserv) servers.
    #[arg(long, alias = "nis")]
    pub ypserv: bool,
    /// NFS servers.
    #[arg(long)]
    pub nfs: bool,
    /// Open X11 servers.
    #[arg(long)]
    pub x11: bool,
    /// X11 servers granting access (x11-access).
    #[arg(long)]
    pub x11access: bool,
    /// Windows XP with 445/tcp open.
    #[arg(long)]
    pub xp445: bool,
    /// Outlook Web Access.
    #[arg(long)]
    pub owa: bool,
    /// Web files in listings.
    #[arg(long)]
    pub webfiles: bool,
    /// phpMyAdmin.
    #[arg(long)]
    pub phpmyadmin: bool,
    /// Webmin.
    #[arg(long)]
    pub webmin: bool,
    /// vsftpd 2.3.4 backdoor.
    #[arg(long = "vsftpd-backdoor")]
    pub vsftpd_backdoor: bool,
    /// Boa web server 0.93 - 0.94.11 (Intersil).
    #[arg(long = "vuln-boa", alias = "vuln-intersil")]
    pub vuln_boa: bool,
    /// GeoVision devices.
    #[arg(long)]
    pub geovision: bool,
    /// MS-SQL with an empty password.
    #[arg(long = "mssql-empty-pwd")]
    pub mssql_empty_pwd: bool,
    /// MySQL with an empty password.
    #[arg(long = "mysql-empty-pwd")]
    pub mysql_empty_pwd: bool,
}

fn split_kv(s: &str) -> Result<(&str, &str)> {
    s.split_once(':')
        .ok_or_else(|| anyhow!("expected KEY:VALUE, got {s:?}"))
}

impl ScanFilterArgs {
    /// The filter the flags describe.
    pub fn to_filter(&self) -> Result<ScanFilter> {
        let mut f = Filter::True;
        let mut add = |x: ScanFilter| {
            let cur = std::mem::take(&mut f);
            f = cur.and(x);
        };
        add(self.common.to_filter()?);
        if let Some(m) = &self.mac {
            add(s::mac(optional_regexp(m)?));
        }
        for c in &self.source {
            add(s::source(str2regexp(c)?));
        }
        for p in &self.not_port {
            add(s::port(p)?.not());
        }
        if self.openport {
            add(s::openport());
        }
        if self.no_openport {
            add(s::openport().not());
        }
        if let Some(list) = &self.otheropenport {
            let specs: Vec<&str> = list.split(',').collect();
            add(s::other_open_port(&specs)?);
        }
        for pair in self.countports.chunks(2) {
            add(s::countports(pair[0], pair[1]));
        }
        for pair in self.no_countports.chunks(2) {
            add(s::countports(pair[0], pair[1]).not());
        }
        if let Some(v) = &self.devicetype {
            add(s::devicetype(str2regexpnone(v)?));
        }
        if self.netdev {
            add(named::netdev());
        }
        if self.phonedev {
            add(named::phonedev());
        }
        if self.webcam {
            add(named::webcam());
        }
        if let Some(v) = &self.hostname {
            add(s::hostname(optional_regexp(v)?));
        }
        if let Some(v) = &self.no_hostname {
            add(s::hostname(optional_regexp(v)?).not());
        }
        for v in &self.domain {
            add(s::domain(str2regexp(v)?));
        }
        for v in &self.no_domain {
            add(s::domain(str2regexp(v)?).not());
        }
        if let Some(v) = &self.hop {
            add(s::hop(address(v)?, None));
        }
        if let Some(v) = &self.hopname {
            add(s::hopname(str2regexp(v)?));
        }
        if let Some(v) = &self.hopdomain {
            add(s::hopdomain(str2regexp(v)?));
        }
        for pair in self.timerange.chunks(2) {
            add(s::timerange(
                Some(parse_time(&pair[0])?),
                Some(parse_time(&pair[1])?),
            ));
        }
        for v in &self.script {
            add(args::script_arg(v)?);
        }
        for v in &self.no_script {
            add(args::script_arg(v)?.not());
        }
        if let Some(v) = &self.os {
            add(s::os(str2regexp(v)?));
        }
        if let Some(v) = &self.cpe {
            add(args::cpe_arg(v)?);
        }
        if let Some(v) = &self.httphdr {
            add(args::httphdr_arg(Some(v))?);
        }
        if let Some(v) = &self.httpapp {
            let (name, version) = match v.split_once(':') {
                Some((n, ver)) => (optional_regexp(n)?, optional_regexp(ver)?),
                None => (optional_regexp(v)?, None),
            };
            add(named::httpapp(name, version));
        }
        if let Some(v) = &self.httptitle {
            add(named::httptitle(str2regexp(v)?));
        }
        if let Some(v) = &self.cookie {
            add(named::cookie(v));
        }
        if let Some(v) = &self.jarm {
            add(named::jarm(optional_regexp(v)?));
        }
        if let Some(v) = &self.file {
            add(args::file_arg(v)?);
        }
        if let Some(v) = &self.vuln {
            let (id, state) = match v.split_once(':') {
                Some((i, st)) => (optional_regexp(i)?, optional_regexp(st)?),
                None => (optional_regexp(v)?, None),
            };
            add(named::vuln(id, state));
        }
        for v in &self.tag {
            let (neg, v) = match v.strip_prefix(['!', '-']) {
                Some(rest) => (true, rest),
                None => (false, v.as_str()),
            };
            let (value, info) = match v.split_once(':') {
                Some((val, i)) => (optional_regexp(val)?, optional_regexp(i)?),
                None => (optional_regexp(v)?, None),
            };
            add(s::tag(value, info).neg_if(neg));
        }
        for v in &self.smb {
            let (k, val) = split_kv(v)?;
            add(named::smb(k, str2regexp(val)?));
        }
        for v in &self.ntlm {
            let (k, val) = split_kv(v)?;
            add(named::ntlm(k, str2regexp(val)?));
        }
        let shortcuts: [(bool, fn() -> ScanFilter); 17] = [
            (self.anonftp, named::anonftp),
            (self.anonldap, named::anonldap),
            (self.authhttp, named::authhttp),
            (self.authbypassvnc, named::authbypassvnc),
            (self.ypserv, named::nis),
            (self.nfs, named::nfs),
            (self.x11, named::x11),
            (self.x11access, named::x11access),
            (self.xp445, named::xp445),
            (self.owa, named::owa),
            (self.webfiles, named::webfiles),
            (self.phpmyadmin, named::phpmyadmin),
            (self.webmin, named::webmin),
            (self.vsftpd_backdoor, named::vsftpdbackdoor),
            (self.vuln_boa, named::vuln_boa),
            (self.geovision, named::geovision),
            (self.mssql_empty_pwd, named::mssqlemptypwd),
        ];
        for (on, make) in shortcuts {
            if on {
                add(make());
            }
        }
        if self.mysql_empty_pwd {
            add(named::mysqlemptypwd());
        }
        Ok(f)
    }
}

/// Used by the tests: builds the filter from a command line of flags.
pub fn filter_from_args(args: &[&str]) -> Result<ScanFilter> {
    #[derive(clap::Parser)]
    struct P {
        #[command(flatten)]
        f: ScanFilterArgs,
    }
    use clap::Parser;
    let p = P::try_parse_from(std::iter::once("scancli").chain(args.iter().copied()))
        .context("invalid filter arguments")?;
    p.f.to_filter()
}
