//! IVRE's `q=` text filter language (the web API's), as a typed tree:
//! [`Query::parse`] splits the text shell-style into tokens, reads each as
//! an optionally negated [`Keyword`] with its value, and keeps the meta
//! tokens (`skip:`, `limit:`, `sortby:`, `fields:`) apart; then
//! [`Query::scan_filter`] / [`Query::passive_filter`] build the purpose's
//! filter with the value parsers the command-line flags use.
//!
//! Unlike IVRE, nothing is dropped silently: an unknown keyword, a keyword
//! the purpose does not answer, a negated meta token or a bad value is a
//! [`QueryError`] naming the token. A negated filter keyword (`!` or `-`)
//! means exactly "no record matches the clause" (the filter trees negate
//! whole-record predicates; IVRE applies some negated tokens positively,
//! `!httptitle:`, or ignores them); negation is refused, with an error, on
//! the meta tokens and on `open:` / `closed:` / `filtered:` /
//! `otheropenport:`, whose negation IVRE does not define.

use super::addr::{address, parse_port, AddrCond};
use super::passive::{self as p, Ja4Query, PassiveFilter, PassiveLeaf};
use super::scan::{self as s, args as sargs, named, ScanFilter, ScanLeaf};
use super::search::CommonSearch;
use super::service::ServiceQuery;
use super::time::{parse_duration, parse_time};
use super::value::{optional_regexp, split_colons, str2list, str2regexp, str2regexpnone, Match};
use super::{Filter, FilterError};
use std::fmt;
use std::net::IpAddr;

/// Longest `/regex/` accepted in a value (IVRE's `WEB_REGEX_MAX_LENGTH`).
pub const MAX_REGEX_LEN: usize = 1000;

/// A `q=` that cannot be used, naming the offending token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("unbalanced quote in the query")]
    UnbalancedQuote,
    #[error("unknown keyword in {token:?}")]
    UnknownKeyword { token: String },
    #[error("{token:?} cannot be negated")]
    Negation { token: String },
    #[error("{token:?} is not supported for {purpose} records")]
    Unsupported {
        token: String,
        purpose: &'static str,
    },
    #[error("invalid {token:?}: {reason}")]
    Value { token: String, reason: String },
}

impl QueryError {
    /// The token the error is about (none for a quoting error).
    pub fn token(&self) -> Option<&str> {
        match self {
            QueryError::UnbalancedQuote => None,
            QueryError::UnknownKeyword { token }
            | QueryError::Negation { token }
            | QueryError::Unsupported { token, .. }
            | QueryError::Value { token, .. } => Some(token),
        }
    }
}

/// Splits `q` shell-style: whitespace separates tokens, single or double
/// quotes group text and are removed, adjacent parts concatenate,
/// backslashes are literal.
pub fn tokenize(q: &str) -> Result<Vec<String>, QueryError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_token = false;
    let mut quote: Option<char> = None;
    for c in q.chars() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_token = true;
            }
            None if c.is_whitespace() => {
                if in_token {
                    out.push(std::mem::take(&mut cur));
                    in_token = false;
                }
            }
            None => {
                cur.push(c);
                in_token = true;
            }
        }
    }
    if quote.is_some() {
        return Err(QueryError::UnbalancedQuote);
    }
    if in_token {
        out.push(cur);
    }
    Ok(out)
}

/// The keywords of the language (IVRE's names; aliases map to one variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    // meta
    Skip,
    Limit,
    Fields,
    Sortby,
    Display,
    // address and identity
    Id,
    Host,
    Net,
    Range,
    Ipv4,
    Ipv6,
    Hostname,
    Domain,
    Category,
    Source,
    Country,
    City,
    Asnum,
    Asname,
    Recontype,
    Sensor,
    Tag,
    Timerange,
    Timeago,
    Search,
    Notes,
    // ports and services
    Openport,
    Open,
    Filtered,
    Closed,
    Otheropenport,
    Countports,
    Service,
    Product,
    Version,
    Banner,
    Script,
    Cpe,
    Os,
    Devicetype,
    Netdev,
    Phonedev,
    Hop,
    Hopname,
    Hopdomain,
    // findings
    Anonftp,
    Anonldap,
    Authbypassvnc,
    Authhttp,
    Geovision,
    Nfs,
    Nis,
    Mssqlemptypwd,
    Mysqlemptypwd,
    Owa,
    Torcert,
    Webfiles,
    Webmin,
    X11srv,
    X11open,
    Xp445,
    Phpmyadmin,
    Httptitle,
    Cookie,
    File,
    Vuln,
    Sshkey,
    Cert,
    Cacert,
    Httphdr,
    Httpapp,
    Smb,
    Ntlm,
    Smbshare,
    Ja3Client,
    Ja4Client,
    Ja3Server,
    Jarm,
    Hassh,
    HasshClient,
    HasshServer,
    Useragent,
    Ike,
    Screenshot,
    Screenwords,
}

impl Keyword {
    /// The keyword of a token's key. Dotted keys (`cert.sha256`,
    /// `smb.os`, `sshkey.bits`) name their family; the rest of the key is
    /// read by the family.
    pub fn from_key(key: &str) -> Option<Keyword> {
        use Keyword::*;
        let base = key.split('.').next().unwrap_or(key);
        let dotted = base.len() != key.len();
        let kw = match base {
            "skip" => Skip,
            "limit" => Limit,
            "fields" => Fields,
            "sortby" => Sortby,
            "display" => Display,
            "id" => Id,
            "host" => Host,
            "net" => Net,
            "range" => Range,
            "ipv4" => Ipv4,
            "ipv6" => Ipv6,
            "hostname" => Hostname,
            "domain" => Domain,
            "category" => Category,
            "source" => Source,
            "country" => Country,
            "city" => City,
            "asnum" => Asnum,
            "asname" => Asname,
            "recontype" => Recontype,
            "sensor" => Sensor,
            "tag" => Tag,
            "timerange" => Timerange,
            "timeago" => Timeago,
            "search" => Search,
            "notes" => Notes,
            "openport" => Openport,
            "open" => Open,
            "filtered" => Filtered,
            "closed" => Closed,
            "otheropenport" => Otheropenport,
            "countports" => Countports,
            "service" => Service,
            "product" => Product,
            "version" => Version,
            "banner" => Banner,
            "script" => Script,
            "cpe" => Cpe,
            "os" => Os,
            "devicetype" | "devtype" => Devicetype,
            "netdev" | "networkdevice" => Netdev,
            "phonedev" => Phonedev,
            "hop" => Hop,
            "hopname" => Hopname,
            "hopdomain" => Hopdomain,
            "anonftp" => Anonftp,
            "anonldap" => Anonldap,
            "authbypassvnc" => Authbypassvnc,
            "authhttp" => Authhttp,
            "geovision" => Geovision,
            "nfs" => Nfs,
            "nis" | "yp" => Nis,
            "mssqlemptypwd" => Mssqlemptypwd,
            "mysqlemptypwd" => Mysqlemptypwd,
            "owa" => Owa,
            "torcert" => Torcert,
            "webfiles" => Webfiles,
            "webmin" => Webmin,
            "x11srv" => X11srv,
            "x11open" => X11open,
            "xp445" => Xp445,
            "phpmyadmin" => Phpmyadmin,
            "httptitle" => Httptitle,
            "cookie" => Cookie,
            "file" => File,
            "vuln" => Vuln,
            "sshkey" => Sshkey,
            "cert" => Cert,
            "cacert" => Cacert,
            "httphdr" => Httphdr,
            "httpapp" => Httpapp,
            "smb" => Smb,
            "ntlm" => Ntlm,
            "smbshare" => Smbshare,
            "ssl-ja3-client" => Ja3Client,
            "ssl-ja4-client" => Ja4Client,
            "ssl-ja3-server" => Ja3Server,
            "ssl-jarm" => Jarm,
            "hassh" => Hassh,
            "hassh-client" => HasshClient,
            "hassh-server" => HasshServer,
            "useragent" => Useragent,
            "ike" => Ike,
            "screenshot" => Screenshot,
            "screenwords" => Screenwords,
            _ => return None,
        };
        // Only these families take a sub-key.
        if dotted && !matches!(kw, Sshkey | Cert | Cacert | Smb | Ntlm | Ike) {
            return None;
        }
        Some(kw)
    }
}

/// One filter token: negated or not, its keyword (None for the bare
/// forms: an address, a network, ports), the sub-key of a dotted
/// keyword, its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The token as written (after unquoting), for messages.
    pub token: String,
    pub neg: bool,
    pub term: Term,
}

/// What a clause asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A bare address or network (`192.0.2.1`, `2001:db8::/32`).
    Addr(AddrCond),
    /// A bare port or comma list of ports (`80`, `udp/53,tcp/443`): all open.
    Ports(Vec<String>),
    /// A keyword, its sub-key (`sha256` of `cert.sha256`) and value.
    Keyword {
        keyword: Keyword,
        sub: Option<String>,
        value: Option<String>,
    },
}

/// A parsed `q=`: the filter clauses (ANDed) and the meta tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub clauses: Vec<Clause>,
    pub skip: Option<u64>,
    /// `limit:N`; `Some(0)` means no limit; a negative one counts as unset.
    pub limit: Option<u64>,
    /// `sortby:F` (ascending) and `-sortby:F` / `!sortby:F` (descending), in order.
    pub sort: Vec<(String, bool)>,
    /// `fields:a,b`: the record paths to return.
    pub fields: Vec<String>,
    /// The structured filter (`f=`), ANDed with the clauses.
    pub tree: Option<Tree>,
}

fn value_error(token: &str, e: impl fmt::Display) -> QueryError {
    QueryError::Value {
        token: token.to_string(),
        reason: e.to_string(),
    }
}

/// A full address or CIDR (kept whole, IPv6 colons included).
fn bare_addr(s: &str) -> Option<AddrCond> {
    if s.parse::<IpAddr>().is_ok() {
        return AddrCond::parse_arg(s).ok();
    }
    let (a, len) = s.split_once('/')?;
    if a.parse::<IpAddr>().is_ok() && !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) {
        return AddrCond::net(s).ok();
    }
    None
}

/// `80`, `tcp/80`, `udp_53`, or a comma list of them.
fn bare_ports(s: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = s.split(',').collect();
    let ok = parts.iter().all(|p| {
        let num = p
            .strip_prefix("tcp/")
            .or_else(|| p.strip_prefix("udp/"))
            .or_else(|| p.strip_prefix("tcp_"))
            .or_else(|| p.strip_prefix("udp_"))
            .or_else(|| p.strip_prefix("sctp/"))
            .unwrap_or(p);
        !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit())
    });
    ok.then(|| parts.into_iter().map(str::to_string).collect())
}

impl Query {
    /// Parses a `q=` value. Values are checked when the filter is built
    /// (they depend on the purpose), except the meta tokens' here.
    pub fn parse(q: &str) -> Result<Query, QueryError> {
        let mut query = Query::default();
        for token in tokenize(q)? {
            let (neg, body) = match token.strip_prefix(['!', '-']) {
                Some(rest) => (true, rest),
                None => (false, token.as_str()),
            };
            if body.is_empty() {
                return Err(QueryError::UnknownKeyword { token });
            }
            if let Some(a) = bare_addr(body) {
                query.clauses.push(Clause {
                    token: token.clone(),
                    neg,
                    term: Term::Addr(a),
                });
                continue;
            }
            let (key, value) = match body.split_once(':') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (body, None),
            };
            if value.is_none() {
                if let Some(ports) = bare_ports(key) {
                    query.clauses.push(Clause {
                        token: token.clone(),
                        neg,
                        term: Term::Ports(ports),
                    });
                    continue;
                }
            }
            let keyword = Keyword::from_key(key).ok_or_else(|| QueryError::UnknownKeyword {
                token: token.clone(),
            })?;
            let sub = key.split_once('.').map(|(_, s)| s.to_string());
            match keyword {
                Keyword::Skip | Keyword::Limit | Keyword::Fields | Keyword::Display if neg => {
                    return Err(QueryError::Negation { token });
                }
                Keyword::Skip | Keyword::Limit => {
                    let v = value.unwrap_or_default();
                    let n: i64 = v.trim().parse().map_err(|_| {
                        value_error(&token, format_args!("{v:?} is not an integer"))
                    })?;
                    // IVRE: a negative skip is 0, a negative limit is unset.
                    if keyword == Keyword::Skip {
                        query.skip = Some(n.max(0) as u64);
                    } else {
                        query.limit = u64::try_from(n).ok();
                    }
                }
                Keyword::Fields => {
                    let v = value.unwrap_or_default();
                    query
                        .fields
                        .extend(v.split(',').filter(|f| !f.is_empty()).map(str::to_string));
                }
                Keyword::Sortby => match value.filter(|v| !v.is_empty()) {
                    Some(v) => query.sort.push((v, neg)),
                    None => return Err(value_error(&token, "sortby:FIELD needs a field")),
                },
                Keyword::Display => {}
                _ => query.clauses.push(Clause {
                    token: token.clone(),
                    neg,
                    term: Term::Keyword {
                        keyword,
                        sub,
                        value,
                    },
                }),
            }
        }
        Ok(query)
    }

    /// The scan ("nmap" purpose) filter of the clauses, ANDed.
    pub fn scan_filter(&self) -> Result<ScanFilter, QueryError> {
        self.build("scan", scan_clause)
    }

    /// The passive filter of the clauses, ANDed.
    pub fn passive_filter(&self) -> Result<PassiveFilter, QueryError> {
        self.build("passive", passive_clause)
    }

    fn build<L>(
        &self,
        purpose: &'static str,
        one: fn(&Clause) -> Result<Option<Filter<L>>, Fail>,
    ) -> Result<Filter<L>, QueryError> {
        let tree = match &self.tree {
            Some(t) => t.build(purpose, one)?,
            None => Filter::True,
        };
        Ok(tree.and(build_clauses(&self.clauses, purpose, one)?))
    }
}

fn build_clauses<L>(
    clauses: &[Clause],
    purpose: &'static str,
    one: fn(&Clause) -> Result<Option<Filter<L>>, Fail>,
) -> Result<Filter<L>, QueryError> {
    let mut parts = Vec::with_capacity(clauses.len());
    for c in clauses {
        match one(c) {
            Ok(Some(f)) => parts.push(f.neg_if(c.neg)),
            Ok(None) => {
                return Err(QueryError::Unsupported {
                    token: c.token.clone(),
                    purpose,
                })
            }
            Err(Fail::Value(e)) => return Err(value_error(&c.token, e)),
            Err(Fail::Negation) => {
                return Err(QueryError::Negation {
                    token: c.token.clone(),
                })
            }
        }
    }
    Ok(Filter::all(parts))
}

/// IVRE's structured filter (`f=`, the JSON tree of its `http://` client
/// backend), limited to a whitelist: `and` / `or` nodes, and searches that
/// map to a `q=` keyword, read with the same value parsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tree {
    And(Vec<Tree>),
    Or(Vec<Tree>),
    Clause(Clause),
}

/// Nodes of a tree, at most (a bound on the work one request can ask for).
const MAX_TREE_NODES: usize = 256;

impl Tree {
    /// Parses `f=` (`{}` is the empty filter: `None`).
    pub fn parse(text: &str) -> Result<Option<Tree>, QueryError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| QueryError::Value {
            token: "f".into(),
            reason: format!("not JSON: {e}"),
        })?;
        if v.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(None);
        }
        let mut nodes = 0;
        Tree::node(&v, &mut nodes).map(Some)
    }

    fn node(v: &serde_json::Value, nodes: &mut usize) -> Result<Tree, QueryError> {
        use serde_json::Value;
        *nodes += 1;
        let token = {
            let t = v.to_string();
            match t.char_indices().nth(80) {
                Some((i, _)) => format!("{}...", &t[..i]),
                None => t,
            }
        };
        let err = |reason: &str| QueryError::Value {
            token: token.clone(),
            reason: reason.to_string(),
        };
        if *nodes > MAX_TREE_NODES {
            return Err(err("too many nodes in f="));
        }
        let obj = v.as_object().ok_or_else(|| err("a node is an object"))?;
        if obj.keys().any(|k| !matches!(k.as_str(), "f" | "a" | "k")) {
            return Err(err("a node has only the keys f, a and k"));
        }
        let name = obj
            .get("f")
            .and_then(Value::as_str)
            .ok_or_else(|| err("a node needs \"f\": NAME"))?;
        let args: &[Value] = match obj.get("a") {
            None => &[],
            Some(Value::Array(a)) => a,
            Some(_) => return Err(err("\"a\" is a list")),
        };
        let mut neg = false;
        if let Some(k) = obj.get("k") {
            let k = k.as_object().ok_or_else(|| err("\"k\" is an object"))?;
            for (key, val) in k {
                match (key.as_str(), val) {
                    ("neg", Value::Bool(b)) => neg = *b,
                    ("protocol", Value::String(_)) if name == "port" => {}
                    _ => return Err(err(&format!("unsupported argument {key:?}"))),
                }
            }
        }
        if name == "and" || name == "or" {
            let subs = args
                .iter()
                .map(|a| Tree::node(a, nodes))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if name == "and" {
                Tree::And(subs)
            } else {
                Tree::Or(subs)
            });
        }
        // An argument: a string, a number, or a regexp / datetime wrapper.
        let arg = |a: &Value| -> Result<String, QueryError> {
            match a {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Object(o) => match (o.get("f").and_then(Value::as_str), o.get("a")) {
                    (Some("regexp") | Some("datetime"), Some(Value::Array(inner)))
                        if inner.len() == 1 && o.len() == 2 =>
                    {
                        match &inner[0] {
                            Value::String(s) => Ok(s.clone()),
                            Value::Number(n) => Ok(n.to_string()),
                            _ => Err(err("invalid wrapped value")),
                        }
                    }
                    _ => Err(err("unsupported value (string, number, regexp, datetime)")),
                },
                _ => Err(err("unsupported value (string, number, regexp, datetime)")),
            }
        };
        let values = args.iter().map(arg).collect::<Result<Vec<_>, _>>()?;
        let term = if name == "port" {
            let [port] = values.as_slice() else {
                return Err(err("port takes one argument"));
            };
            let proto = obj
                .get("k")
                .and_then(|k| k.get("protocol"))
                .and_then(Value::as_str)
                .unwrap_or("tcp");
            Term::Ports(vec![format!("{proto}/{port}")])
        } else {
            let keyword = match name {
                "host" => Keyword::Host,
                "net" => Keyword::Net,
                "range" => Keyword::Range,
                "hostname" => Keyword::Hostname,
                "domain" => Keyword::Domain,
                "category" => Keyword::Category,
                "source" => Keyword::Source,
                "service" => Keyword::Service,
                "script" => Keyword::Script,
                "tag" => Keyword::Tag,
                "sensor" => Keyword::Sensor,
                "recontype" => Keyword::Recontype,
                "timeago" => Keyword::Timeago,
                "openport" => Keyword::Openport,
                "countports" => Keyword::Countports,
                "os" => Keyword::Os,
                "devicetype" => Keyword::Devicetype,
                "useragent" => Keyword::Useragent,
                "torcert" => Keyword::Torcert,
                "anonftp" => Keyword::Anonftp,
                _ => {
                    return Err(QueryError::UnknownKeyword {
                        token: format!("f={name}"),
                    })
                }
            };
            let value = match (keyword, values.as_slice()) {
                (_, []) => None,
                (Keyword::Range | Keyword::Countports, [a, b]) => Some(format!("{a}-{b}")),
                (Keyword::Script, [a, b]) => Some(format!("{a}:{b}")),
                (_, [a]) => Some(a.clone()),
                _ => return Err(err("too many arguments")),
            };
            Term::Keyword {
                keyword,
                sub: None,
                value,
            }
        };
        Ok(Tree::Clause(Clause { token, neg, term }))
    }

    fn build<L>(
        &self,
        purpose: &'static str,
        one: fn(&Clause) -> Result<Option<Filter<L>>, Fail>,
    ) -> Result<Filter<L>, QueryError> {
        Ok(match self {
            Tree::And(v) => Filter::all(
                v.iter()
                    .map(|t| t.build(purpose, one))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Tree::Or(v) => Filter::any(
                v.iter()
                    .map(|t| t.build(purpose, one))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Tree::Clause(c) => build_clauses(std::slice::from_ref(c), purpose, one)?,
        })
    }
}

/// Why a clause gives no filter (besides "not for this purpose": `Ok(None)`).
enum Fail {
    Value(String),
    Negation,
}

impl From<FilterError> for Fail {
    fn from(e: FilterError) -> Fail {
        Fail::Value(e.0)
    }
}

fn bad(reason: impl Into<String>) -> Fail {
    Fail::Value(reason.into())
}

/// A value that must be there.
fn need<'a>(value: &'a Option<String>, form: &str) -> Result<&'a str, Fail> {
    match value.as_deref() {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(bad(format!("expected {form}"))),
    }
}

/// A value that must not be there (bare keywords).
fn none(value: &Option<String>) -> Result<(), Fail> {
    match value {
        None => Ok(()),
        Some(_) => Err(bad("this keyword takes no value")),
    }
}

/// str2regexp with IVRE's length guard on regular expressions.
fn re_value(v: &str) -> Result<Match, Fail> {
    guard(v)?;
    Ok(str2regexp(v)?)
}

fn guard(v: &str) -> Result<(), Fail> {
    if v.starts_with('/') && v.len() > MAX_REGEX_LEN + 2 {
        return Err(bad(format!(
            "regular expression longer than {MAX_REGEX_LEN} characters"
        )));
    }
    Ok(())
}

fn opt_re(v: &Option<String>) -> Result<Option<Match>, Fail> {
    match v {
        None => Ok(None),
        Some(v) => {
            guard(v)?;
            Ok(optional_regexp(v)?)
        }
    }
}

/// `timerange:T1-T2` (or `T1,T2`): two times (epoch seconds or dates).
fn time_pair(
    v: &str,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), Fail> {
    // Dates contain '-': split on ',' first, else on the '-' between two numbers.
    let (a, b) = v
        .split_once(',')
        .or_else(|| {
            v.split_once('-')
                .filter(|(a, b)| a.parse::<f64>().is_ok() && b.parse::<f64>().is_ok())
        })
        .ok_or_else(|| bad("expected timerange:START-STOP (epoch seconds) or START,STOP"))?;
    Ok((parse_time(a)?, parse_time(b)?))
}

/// `id:1,2` or `id:1-2` (IVRE joins object ids with either).
fn ids(v: &str) -> Result<Vec<i64>, Fail> {
    v.split([',', '-'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| bad(format!("invalid record id {s:?}")))
        })
        .collect()
}

/// `range:A-B` or `range:A,B`.
fn addr_range(v: &str) -> Result<AddrCond, Fail> {
    let (a, b) = v
        .split_once(',')
        .or_else(|| v.split_once('-'))
        .ok_or_else(|| bad("expected range:START-STOP"))?;
    Ok(AddrCond::Range(address(a)?, address(b)?))
}

/// The keywords every purpose answers the same way, through
/// [`CommonSearch`]; `None` when the keyword is not one of them.
fn common<L: CommonSearch>(
    keyword: Keyword,
    sub: Option<&str>,
    value: &Option<String>,
) -> Result<Option<Filter<L>>, Fail> {
    use Keyword::*;
    let addr = |c: AddrCond| Filter::Leaf(L::addr(c));
    Ok(Some(match keyword {
        Id => L::id(ids(need(value, "id:ID[,ID...]")?)?),
        Host => addr(AddrCond::Host(address(need(value, "host:IP")?)?)),
        Net => addr(AddrCond::net(need(value, "net:CIDR")?)?),
        Range => addr(addr_range(need(value, "range:START-STOP")?)?),
        Ipv4 => {
            none(value)?;
            addr(AddrCond::Ipv4)
        }
        Ipv6 => {
            none(value)?;
            addr(AddrCond::Ipv6)
        }
        Category => {
            let v = need(value, "category:NAME")?;
            guard(v)?;
            L::category(str2list(v)?)
        }
        Service => L::service(ServiceQuery::service_arg(need(
            value,
            "service:NAME[:PORT]",
        )?)?)?,
        Product => {
            let v = need(value, "product:SERVICE:PRODUCT[:PORT]")?;
            guard(v)?;
            if split_colons(v).len() < 2 {
                return Err(bad("expected product:SERVICE:PRODUCT[:PORT]"));
            }
            L::service(ServiceQuery::product_arg(v)?)?
        }
        Version => {
            let v = need(value, "version:SERVICE:PRODUCT:VERSION[:PORT]")?;
            guard(v)?;
            if split_colons(v).len() < 3 {
                return Err(bad("expected version:SERVICE:PRODUCT:VERSION[:PORT]"));
            }
            L::service(ServiceQuery::version_arg(v)?)?
        }
        Useragent => L::useragent(opt_re(value)?),
        Cert | Cacert if sub.is_none() && value.is_some() => {
            L::cert_hash(need(value, "cert:HASH")?, keyword == Cacert)?
        }
        Torcert => {
            none(value)?;
            L::torcert()
        }
        Hassh => L::hassh(opt_re(value)?, None),
        HasshServer => L::hassh(opt_re(value)?, Some(true)),
        HasshClient => L::hassh(opt_re(value)?, Some(false)),
        Banner => L::banner(re_value(need(value, "banner:BANNER")?)?),
        Timeago => L::timeago(parse_duration(need(value, "timeago:N[s|m|h|d|y]")?)?),
        _ => return Ok(None),
    }))
}

fn scan_clause(c: &Clause) -> Result<Option<ScanFilter>, Fail> {
    use Keyword::*;
    let (keyword, sub, value) = match &c.term {
        Term::Addr(a) => return Ok(Some(s::addr_cond(*a))),
        Term::Ports(ports) => {
            let specs: Vec<&str> = ports.iter().map(String::as_str).collect();
            return Ok(Some(s::ports(&specs, false)?));
        }
        Term::Keyword {
            keyword,
            sub,
            value,
        } => (*keyword, sub.as_deref(), value),
    };
    if let Some(f) = common::<ScanLeaf>(keyword, sub, value)? {
        return Ok(Some(f));
    }
    let bare = |f: fn() -> ScanFilter| -> Result<Option<ScanFilter>, Fail> {
        none(value)?;
        Ok(Some(f()))
    };
    Ok(Some(match keyword {
        Hostname => s::hostname(Some(re_value(need(value, "hostname:NAME")?)?)),
        Domain => s::domain(re_value(need(value, "domain:NAME")?)?),
        Source => s::source(re_value(need(value, "source:NAME")?)?),
        Tag => match value.as_deref() {
            None | Some("") => s::tag(None, None),
            Some(v) => {
                let (val, info) = match v.split_once(':') {
                    Some((a, b)) => (opt_re(&Some(a.to_string()))?, opt_re(&Some(b.to_string()))?),
                    None => (opt_re(&Some(v.to_string()))?, None),
                };
                s::tag(val, info)
            }
        },
        Timerange => {
            let (a, b) = time_pair(need(value, "timerange:START-STOP")?)?;
            s::timerange(Some(a), Some(b))
        }
        Openport => return bare(s::openport),
        Open | Filtered | Closed => {
            let state = match keyword {
                Open => "open",
                Filtered => "filtered",
                _ => "closed",
            };
            if c.neg {
                return Err(Fail::Negation);
            }
            let v = need(value, "STATE:[PROTO/]PORT[,...]")?;
            let mut parts = Vec::new();
            for spec in v.split(',') {
                let (proto, port) = parse_port(spec)?;
                parts.push(s::port_state(&proto, port, Some(state)));
            }
            Filter::all(parts)
        }
        Otheropenport => {
            if c.neg {
                return Err(Fail::Negation);
            }
            let v = need(value, "otheropenport:PORT[,PORT...]")?;
            let specs: Vec<&str> = v.split(',').collect();
            s::other_open_port(&specs)?
        }
        Countports => {
            let v = need(value, "countports:N or countports:N-M")?;
            let num = |x: &str| {
                x.trim()
                    .parse::<i64>()
                    .map_err(|_| bad(format!("invalid number {x:?}")))
            };
            match v.split_once('-') {
                Some((a, b)) => s::countports(num(a)?, num(b)?),
                None => {
                    let n = num(v)?;
                    s::countports(n, n)
                }
            }
        }
        Script => sargs::script_arg(need(value, "script:ID[:OUTPUT]")?)?,
        Cpe => match value.as_deref() {
            None | Some("") => s::cpe(Default::default()),
            Some(v) => sargs::cpe_arg(v)?,
        },
        Os => s::os(re_value(need(value, "os:OS")?)?),
        Devicetype => {
            let v = need(value, "devicetype:TYPE")?;
            guard(v)?;
            s::devicetype(str2regexpnone(v)?)
        }
        Netdev => return bare(named::netdev),
        Phonedev => return bare(named::phonedev),
        Hop => {
            let v = need(value, "hop:IP[:TTL]")?;
            // An IPv6 address has colons: the TTL is what follows the last
            // one only when the rest is not an address itself.
            match v.parse::<IpAddr>() {
                Ok(a) => s::hop(a, None),
                Err(_) => {
                    let (a, ttl) = v
                        .rsplit_once(':')
                        .ok_or_else(|| bad("expected hop:IP[:TTL]"))?;
                    let ttl = ttl
                        .parse::<i64>()
                        .map_err(|_| bad(format!("invalid TTL {ttl:?}")))?;
                    s::hop(address(a)?, Some(ttl))
                }
            }
        }
        Hopname => s::hopname(re_value(need(value, "hopname:NAME")?)?),
        Hopdomain => s::hopdomain(Match::Exact(need(value, "hopdomain:DOMAIN")?.to_string())),
        Anonftp => return bare(named::anonftp),
        Anonldap => return bare(named::anonldap),
        Authbypassvnc => return bare(named::authbypassvnc),
        Authhttp => return bare(named::authhttp),
        Geovision => return bare(named::geovision),
        Nfs => return bare(named::nfs),
        Nis => return bare(named::nis),
        Mssqlemptypwd => return bare(named::mssqlemptypwd),
        Mysqlemptypwd => return bare(named::mysqlemptypwd),
        Owa => return bare(named::owa),
        Webfiles => return bare(named::webfiles),
        Webmin => return bare(named::webmin),
        X11srv => return bare(named::x11),
        X11open => return bare(named::x11access),
        Xp445 => return bare(named::xp445),
        Phpmyadmin => return bare(named::phpmyadmin),
        Httptitle => named::httptitle(re_value(need(value, "httptitle:TITLE")?)?),
        Cookie => named::cookie(need(value, "cookie:NAME")?),
        File => match value.as_deref() {
            None | Some("") => named::file(None, None),
            Some(v) => {
                guard(v)?;
                sargs::file_arg(v)?
            }
        },
        Vuln => match value.as_deref() {
            None | Some("") => named::vuln(None, None),
            Some(v) => {
                let (id, state) = match v.split_once(':') {
                    Some((i, st)) => (opt_re(&Some(i.into()))?, opt_re(&Some(st.into()))?),
                    None => (opt_re(&Some(v.into()))?, None),
                };
                named::vuln(id, state)
            }
        },
        Sshkey => {
            let v = opt_re(value)?;
            match sub {
                // sshkey[:OUTPUT]: the script (and its output).
                None => s::script(Some(Match::Exact("ssh-hostkey".into())), v),
                Some("fingerprint") => named::sshkey(v, None, None, None),
                Some("key") => named::sshkey(None, v, None, None),
                Some("type") => named::sshkey(None, None, v, None),
                Some("bits") => {
                    let b = need(value, "sshkey.bits:N")?;
                    let b = b
                        .parse::<i64>()
                        .map_err(|_| bad(format!("invalid number of bits {b:?}")))?;
                    named::sshkey(None, None, None, Some(b))
                }
                Some(_) => return Ok(None),
            }
        }
        Cert | Cacert => named::cert(cert_query(keyword == Cacert, sub, value)?),
        Httphdr => {
            guard(value.as_deref().unwrap_or_default())?;
            sargs::httphdr_arg(value.as_deref())?
        }
        Httpapp => match value.as_deref() {
            None | Some("") => named::httpapp(None, None),
            Some(v) => match v.split_once(':') {
                Some((n, ver)) => {
                    named::httpapp(opt_re(&Some(n.into()))?, opt_re(&Some(ver.into()))?)
                }
                None => named::httpapp(opt_re(&Some(v.into()))?, None),
            },
        },
        Smb | Ntlm => {
            let Some(key) = sub.filter(|k| !k.is_empty()) else {
                return Err(bad("expected smb.KEY:VALUE or ntlm.KEY:VALUE"));
            };
            let m = re_value(need(value, "KEY:VALUE")?)?;
            if keyword == Smb {
                named::smb(key, m)
            } else {
                named::ntlm(ntlm_key(key), m)
            }
        }
        Jarm => named::jarm(opt_re(value)?),
        _ => return Ok(None),
    }))
}

/// IVRE's short names of the NTLM info keys.
fn ntlm_key(alias: &str) -> &str {
    match alias {
        "name" => "Target_Name",
        "server" => "NetBIOS_Computer_Name",
        "domain" => "NetBIOS_Domain_Name",
        "workgroup" => "Workgroup",
        "domain_dns" => "DNS_Domain_Name",
        "forest" => "DNS_Tree_Name",
        "fqdn" => "DNS_Computer_Name",
        "os" => "Product_Version",
        "version" => "NTLM_Version",
        other => other,
    }
}

/// `cert`, `cert.self_signed`, `cert.sha256:HASH`, `cert.subject:/re/`, ...
fn cert_query(
    cacert: bool,
    sub: Option<&str>,
    value: &Option<String>,
) -> Result<super::cert::CertQuery, Fail> {
    let mut q = super::cert::CertQuery {
        cacert,
        ..Default::default()
    };
    let m =
        || -> Result<Option<Match>, Fail> { Ok(Some(re_value(need(value, "cert.FIELD:VALUE")?)?)) };
    match sub {
        None => none(value)?,
        Some("self_signed") => {
            none(value)?;
            q.self_signed = Some(true);
        }
        Some("md5") => q.md5 = m()?,
        Some("sha1") => q.sha1 = m()?,
        Some("sha256") => q.sha256 = m()?,
        Some("subject") => q.subject = m()?,
        Some("issuer") => q.issuer = m()?,
        Some("pkmd5") | Some("pubkey.md5") => q.pkmd5 = m()?,
        Some("pksha1") | Some("pubkey.sha1") => q.pksha1 = m()?,
        Some("pksha256") | Some("pubkey.sha256") => q.pksha256 = m()?,
        Some(other) => return Err(bad(format!("unknown certificate field {other:?}"))),
    }
    Ok(q)
}

fn passive_clause(c: &Clause) -> Result<Option<PassiveFilter>, Fail> {
    use Keyword::*;
    let (keyword, sub, value) = match &c.term {
        Term::Addr(a) => return Ok(Some(p::addr_cond(*a))),
        Term::Ports(ports) => {
            let mut parts = Vec::new();
            for spec in ports {
                parts.push(p::port_arg(spec)?);
            }
            return Ok(Some(Filter::all(parts)));
        }
        Term::Keyword {
            keyword,
            sub,
            value,
        } => (*keyword, sub.as_deref(), value),
    };
    if let Some(f) = common::<PassiveLeaf>(keyword, sub, value)? {
        return Ok(Some(f));
    }
    Ok(Some(match keyword {
        Hostname => p::hostname(re_value(need(value, "hostname:NAME")?)?),
        Domain => p::domain(re_value(need(value, "domain:NAME")?)?),
        Sensor => {
            let v = need(value, "sensor:NAME")?;
            guard(v)?;
            p::sensor(str2list(v)?)
        }
        Recontype => {
            let v = need(value, "recontype:TYPE")?;
            guard(v)?;
            p::recontype(Some(str2list(v)?), None)
        }
        // source:RECONTYPE:SOURCE or source:SOURCE.
        Source => {
            let v = need(value, "source:[RECONTYPE:]SOURCE")?;
            guard(v)?;
            match split_colons(v).as_slice() {
                [r, s] => p::recontype(Some(str2regexp(r)?), Some(str2regexp(s)?)),
                _ => p::source(str2regexp(v)?),
            }
        }
        Timerange => {
            let (a, b) = time_pair(need(value, "timerange:START-STOP")?)?;
            // Seen during the interval: last seen after its start, first
            // seen before its end.
            p::newer(a, false).and(p::newer(b, true).not())
        }
        Sshkey => {
            let v = opt_re(value)?;
            match sub {
                None | Some("fingerprint") => p::sshkey(v, None, None, None),
                Some("key") => p::sshkey(None, v, None, None),
                Some("type") => p::sshkey(None, None, v, None),
                Some("bits") => {
                    let b = need(value, "sshkey.bits:N")?;
                    let b = b
                        .parse::<i64>()
                        .map_err(|_| bad(format!("invalid number of bits {b:?}")))?;
                    p::sshkey(None, None, None, Some(b))
                }
                Some(_) => return Ok(None),
            }
        }
        Cert | Cacert => p::cert(cert_query(keyword == Cacert, sub, value)?),
        Ja3Client => p::ja3client(opt_re(value)?),
        Ja3Server => match value.as_deref() {
            None | Some("") => p::ja3server(None, None),
            Some(v) => match split_colons(v).as_slice() {
                [srv, cli] => p::ja3server(
                    opt_re(&Some(srv.to_string()))?,
                    opt_re(&Some(cli.to_string()))?,
                ),
                _ => p::ja3server(opt_re(&Some(v.to_string()))?, None),
            },
        },
        Ja4Client => p::ja4client(Ja4Query {
            value: opt_re(value)?,
            ..Default::default()
        }),
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::value::{ex, Regex};

    #[test]
    fn tokens_like_a_shell() {
        assert_eq!(
            tokenize(r#"a  "b c" 'd"e' f"g h"i \x"#).unwrap(),
            vec!["a", "b c", "d\"e", "fg hi", "\\x"]
        );
        assert_eq!(tokenize("").unwrap(), Vec::<String>::new());
        assert_eq!(tokenize("\"\"").unwrap(), vec![""]);
        assert_eq!(tokenize("a \"b").unwrap_err(), QueryError::UnbalancedQuote);
    }

    #[test]
    fn spec_example() {
        let q = Query::parse(
            r#"country:FR tcp/443 !tag:CDN "hostname:/\.example\.com$/" sortby:endtime limit:50"#,
        )
        .unwrap();
        assert_eq!(q.limit, Some(50));
        assert_eq!(q.sort, vec![("endtime".to_string(), false)]);
        assert_eq!(q.clauses.len(), 4);
        assert!(q.clauses[2].neg);
        assert_eq!(
            q.clauses[3].term,
            Term::Keyword {
                keyword: Keyword::Hostname,
                sub: None,
                value: Some("/\\.example\\.com$/".into())
            }
        );
        // country is not answered by scan records here: named, not dropped.
        assert_eq!(
            q.scan_filter().unwrap_err(),
            QueryError::Unsupported {
                token: "country:FR".into(),
                purpose: "scan"
            }
        );
    }

    #[test]
    fn addresses_stay_whole() {
        let q = Query::parse("2001:db8::/32 -192.0.2.1 ::1").unwrap();
        assert!(matches!(
            q.clauses[0].term,
            Term::Addr(AddrCond::Net(_, 32))
        ));
        assert!(q.clauses[1].neg);
        assert!(matches!(q.clauses[2].term, Term::Addr(AddrCond::Host(_))));
        let f = q.scan_filter().unwrap();
        assert!(matches!(f, Filter::And(ref v) if v.len() == 3));
    }

    #[test]
    fn unknown_keyword_named() {
        let e = Query::parse("service:http port:80").unwrap_err();
        assert_eq!(
            e,
            QueryError::UnknownKeyword {
                token: "port:80".into()
            }
        );
        assert_eq!(e.token(), Some("port:80"));
        assert!(Query::parse("cert.foo.bar").is_ok());
        assert!(Query::parse("hostname.x:y").is_err());
        assert!(Query::parse("!").is_err());
    }

    #[test]
    fn meta_tokens() {
        let q =
            Query::parse("skip:-3 limit:-1 fields:addr,ports sortby:addr -sortby:endtime").unwrap();
        assert_eq!(q.skip, Some(0));
        assert_eq!(q.limit, None);
        assert_eq!(q.fields, vec!["addr", "ports"]);
        assert_eq!(
            q.sort,
            vec![("addr".into(), false), ("endtime".into(), true)]
        );
        assert!(matches!(
            Query::parse("!limit:5").unwrap_err(),
            QueryError::Negation { .. }
        ));
        assert!(matches!(
            Query::parse("skip:x").unwrap_err(),
            QueryError::Value { .. }
        ));
        assert!(Query::parse("display:host").unwrap().clauses.is_empty());
    }

    #[test]
    fn values_through_the_flag_parsers() {
        let f = Query::parse("service:http").unwrap().scan_filter().unwrap();
        assert_eq!(f, s::service(ex("http"), None));
        let f = Query::parse("80").unwrap().scan_filter().unwrap();
        assert_eq!(f, s::port("80").unwrap());
        let f = Query::parse("-80").unwrap().scan_filter().unwrap();
        assert_eq!(f, s::port("80").unwrap().not());
        let f = Query::parse("hostname:/^www/i")
            .unwrap()
            .scan_filter()
            .unwrap();
        assert_eq!(
            f,
            s::hostname(Some(Match::Regex(Regex::new("^www", "i").unwrap())))
        );
        let f = Query::parse("\"product:http:Apache httpd\"")
            .unwrap()
            .scan_filter();
        assert!(f.is_ok());
        assert!(Query::parse("product:Apache")
            .unwrap()
            .scan_filter()
            .is_err());
        assert!(Query::parse("version:a:b").unwrap().scan_filter().is_err());
        assert!(Query::parse("version:a:b:c").unwrap().scan_filter().is_ok());
        assert!(Query::parse("udp/53,tcp/80").unwrap().scan_filter().is_ok());
        assert!(Query::parse("80,x").is_err());
        assert!(Query::parse("countports:2-x")
            .unwrap()
            .scan_filter()
            .is_err());
        assert!(Query::parse("!open:80").unwrap().scan_filter().is_err());
        assert!(Query::parse("hop:2001:db8::1")
            .unwrap()
            .scan_filter()
            .is_ok());
        assert!(Query::parse("hop:10.0.0.1:3")
            .unwrap()
            .scan_filter()
            .is_ok());
        assert!(Query::parse("timerange:0-1700000000")
            .unwrap()
            .scan_filter()
            .is_ok());
        assert!(Query::parse("hostname:/x/q")
            .unwrap()
            .scan_filter()
            .is_err());
        let long = format!("hostname:/{}/", "a".repeat(MAX_REGEX_LEN + 1));
        assert!(Query::parse(&long).unwrap().scan_filter().is_err());
        assert!(Query::parse("anonftp:x").unwrap().scan_filter().is_err());
        assert!(Query::parse("ntlm.domain:X").unwrap().scan_filter().is_ok());
        assert!(Query::parse("cert.sha256:00")
            .unwrap()
            .scan_filter()
            .is_ok());
        assert!(Query::parse("cert.bogus:00")
            .unwrap()
            .scan_filter()
            .is_err());
    }

    #[test]
    fn structured_filter_whitelist() {
        let t = Tree::parse(
            r#"{"f":"or","a":[{"f":"port","a":[443],"k":{"protocol":"tcp"}},
                {"f":"hostname","a":[{"f":"regexp","a":["/example/i"]}],"k":{"neg":true}}]}"#,
        )
        .unwrap()
        .unwrap();
        let q = Query {
            tree: Some(t),
            ..Query::default()
        };
        let f = q.scan_filter().unwrap();
        assert_eq!(
            f,
            s::port("443")
                .unwrap()
                .or(s::hostname(Some(Match::Regex(Regex::new("example", "i").unwrap()))).not())
        );
        assert_eq!(Tree::parse("{}").unwrap(), None);
        assert!(Tree::parse(r#"{"f":"eval","a":["x"]}"#).is_err());
        assert!(Tree::parse(r#"{"f":"host","a":["1.2.3.4"],"x":1}"#).is_err());
        assert!(Tree::parse(r#"{"f":"host","a":["1.2.3.4"],"k":{"evil":1}}"#).is_err());
        assert!(Tree::parse("[1]").is_err());
        assert!(Tree::parse("nope").is_err());
        let deep = format!(
            "{}{{}}{}",
            r#"{"f":"and","a":["#.repeat(300),
            "]}".repeat(300)
        );
        assert!(Tree::parse(&deep).is_err());
        let t = Tree::parse(r#"{"f":"range","a":["10.0.0.1","10.0.0.9"]}"#).unwrap();
        let q = Query {
            tree: t,
            ..Query::default()
        };
        assert!(q.scan_filter().is_ok() && q.passive_filter().is_ok());
    }

    #[test]
    fn passive_keywords() {
        let f = Query::parse("recontype:DNS_ANSWER sensor:S1,S2")
            .unwrap()
            .passive_filter()
            .unwrap();
        assert!(matches!(f, Filter::And(ref v) if v.len() == 2));
        let f = Query::parse("source:HTTP_CLIENT_HEADER:USER-AGENT")
            .unwrap()
            .passive_filter()
            .unwrap();
        assert_eq!(
            f,
            p::recontype(Some(ex("HTTP_CLIENT_HEADER")), Some(ex("USER-AGENT")))
        );
        assert!(Query::parse("udp/53").unwrap().passive_filter().is_err());
        assert!(matches!(
            Query::parse("anonftp")
                .unwrap()
                .passive_filter()
                .unwrap_err(),
            QueryError::Unsupported { .. }
        ));
        assert!(matches!(
            Query::parse("sensor:X").unwrap().scan_filter().unwrap_err(),
            QueryError::Unsupported { .. }
        ));
    }
}
