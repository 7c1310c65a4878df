//! The searches every query purpose answers, so that a flag shared by
//! several purposes is parsed once (in the CLI, the web API, ...) and each
//! purpose only says which leaves it means.

use super::addr::AddrCond;
use super::service::ServiceQuery;
use super::value::Match;
use super::{Filter, FilterError};

/// Builds one purpose's filters for the searches all purposes share;
/// implemented by each purpose's leaf enum.
pub trait CommonSearch: Sized {
    /// The leaf of a condition on the record's address.
    fn addr(c: AddrCond) -> Self;
    /// Records with these ids.
    fn id(ids: Vec<i64>) -> Filter<Self>;
    /// Records of this schema version.
    fn schema_version(v: i64) -> Filter<Self>;
    /// IVRE's generic category (the passive sensor).
    fn category(m: Match) -> Filter<Self>;
    /// `--port SPEC` (the purpose says which port syntax it accepts).
    fn port(spec: &str) -> Result<Filter<Self>, FilterError>;
    /// Service, product, version and port of one service.
    fn service(q: ServiceQuery) -> Result<Filter<Self>, FilterError>;
    /// A host name a service gave.
    fn svchostname(m: Match) -> Filter<Self>;
    /// An HTTP user agent (None: any).
    fn useragent(m: Option<Match>) -> Filter<Self>;
    /// A certificate (or CA certificate) by hash.
    fn cert_hash(hash: &str, cacert: bool) -> Result<Filter<Self>, FilterError>;
    /// Certificates like those TOR generates.
    fn torcert() -> Filter<Self>;
    /// An SSH host key by fingerprint.
    fn sshkey(fingerprint: Match) -> Filter<Self>;
    /// A HASSH (None: any); `server`: Some(true) servers, Some(false) clients.
    fn hassh(m: Option<Match>, server: Option<bool>) -> Filter<Self>;
    /// A service banner.
    fn banner(m: Match) -> Filter<Self>;
    /// Seen (scanned, last seen) less than this many seconds ago.
    fn timeago(seconds: f64) -> Filter<Self>;
}
