//! The common parameters of the record routes (IVRE's `get_base`): `q`
//! (the filter language, with its meta tokens), `f` (the structured
//! filter, whitelisted), `format`, `ipsasnumbers`, `datesasstrings`.

use crate::error::ApiError;
use ivre_model::filter::query::{Query, Tree};

/// Output format of a listing (IVRE: any unknown value means `txt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON array, one record per line.
    Json,
    /// One record per line.
    Ndjson,
    /// The array's lines without the brackets.
    Txt,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Txt => "txt",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
            Format::Txt => "text/plain; charset=utf-8",
        }
    }
}

/// The query-string (or form) parameters, in order.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Present and non-empty (IVRE's boolean parameters; "0" counts as true).
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| !v.is_empty())
    }

    pub fn format(&self) -> Format {
        match self.get("format") {
            None | Some("json") => Format::Json,
            Some("ndjson") => Format::Ndjson,
            Some(_) => Format::Txt,
        }
    }

    /// The parsed `q=` and `f=` (400 naming the token when they cannot
    /// be read).
    pub fn query(&self) -> Result<Query, ApiError> {
        let mut q = Query::parse(self.get("q").unwrap_or_default())?;
        if let Some(f) = self.get("f").filter(|f| !f.trim().is_empty()) {
            q.tree = Tree::parse(f)?;
        }
        Ok(q)
    }

    /// Record options of the post-processing.
    pub fn render(&self, fields: Vec<String>) -> crate::render::RenderOpts {
        crate::render::RenderOpts {
            ips_as_numbers: self.flag("ipsasnumbers"),
            dates_as_strings: self.flag("datesasstrings"),
            fields,
        }
    }
}
