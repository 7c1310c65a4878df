//! The certificate search (IVRE's `searchcert`), one shape for every purpose:
//! scan looks in `ssl-cert` script data, passive in `SSL_SERVER` records.

use super::value::Match;
use super::FilterError;

/// `--cert HASH` (md5, sha1 or sha256 chosen by length; `:` and spaces dropped)
/// and the other `searchcert` fields.
#[derive(Debug, Clone, Default)]
pub struct CertQuery {
    pub keytype: Option<Match>,
    pub md5: Option<Match>,
    pub sha1: Option<Match>,
    pub sha256: Option<Match>,
    pub subject: Option<Match>,
    pub issuer: Option<Match>,
    pub self_signed: Option<bool>,
    pub pkmd5: Option<Match>,
    pub pksha1: Option<Match>,
    pub pksha256: Option<Match>,
    pub cacert: bool,
}

impl CertQuery {
    /// A certificate hash, the kind chosen by its length (MD5, SHA-1 or
    /// SHA-256; `:` and spaces dropped, case ignored).
    pub fn for_hash(h: &str, cacert: bool) -> Result<CertQuery, FilterError> {
        let h: String = h
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let m = Some(Match::Exact(h.clone()));
        let mut q = CertQuery {
            cacert,
            ..Default::default()
        };
        match h.len() {
            32 => q.md5 = m,
            40 => q.sha1 = m,
            64 => q.sha256 = m,
            _ => {
                return Err(FilterError(format!(
                    "invalid certificate hash {h:?}: expected an MD5, SHA-1 or SHA-256 (32, 40 or 64 hex digits)"
                )))
            }
        }
        Ok(q)
    }

    /// The `(path, condition)` pairs on the certificate's JSON, in the
    /// order every purpose compiles them.
    pub fn conditions(self) -> Vec<(&'static [&'static str], super::value::ValueCond)> {
        use super::value::ValueCond;
        let mut conds: Vec<(&'static [&'static str], ValueCond)> = Vec::new();
        let mut add = |p: &'static [&'static str], m: Option<Match>| {
            if let Some(m) = m {
                conds.push((p, ValueCond::Str(m)));
            }
        };
        add(&["pubkey", "type"], self.keytype);
        add(&["md5"], self.md5.map(Match::lowercase));
        add(&["sha1"], self.sha1.map(Match::lowercase));
        add(&["sha256"], self.sha256.map(Match::lowercase));
        add(&["subject_text"], self.subject);
        add(&["issuer_text"], self.issuer);
        add(&["pubkey", "md5"], self.pkmd5.map(Match::lowercase));
        add(&["pubkey", "sha1"], self.pksha1.map(Match::lowercase));
        add(&["pubkey", "sha256"], self.pksha256.map(Match::lowercase));
        if let Some(b) = self.self_signed {
            conds.push((&["self_signed"], ValueCond::Bool(b)));
        }
        conds
    }
}
