//! Who is asking, and what they may see: the caller's base filters
//! (IVRE's `WEB_INIT_QUERIES`), ANDed to every query of every purpose.

use crate::error::ApiError;
use crate::App;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ivre_model::filter::passive::PassiveFilter;
use ivre_model::filter::query::Query;
use ivre_model::filter::scan::ScanFilter;
use ivre_model::filter::view::ViewFilter;
use ivre_model::filter::Filter;
use std::sync::Arc;

/// The caller's rights on the records.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// The API key used (None: anonymous).
    pub key_id: Option<i64>,
    pub key_name: Option<String>,
    /// Who the key belongs to (its keys are the ones it manages).
    pub owner: Option<String>,
    /// read, upload, admin (admin may do everything).
    pub permissions: Vec<String>,
    /// `q=` text ANDed to every query (None: everything).
    pub base: Option<String>,
}

impl Access {
    /// Whether the caller has this permission.
    pub fn may(&self, permission: &str) -> bool {
        self.permissions
            .iter()
            .any(|p| p == permission || p == "admin")
    }

    fn base_query(&self) -> Result<Option<Query>, ApiError> {
        match &self.base {
            None => Ok(None),
            Some(text) => Query::parse(text).map(Some).map_err(|e| {
                ApiError::internal(format!("the base filter of this API key is invalid: {e}"))
            }),
        }
    }

    pub fn scan_base(&self) -> Result<ScanFilter, ApiError> {
        match self.base_query()? {
            None => Ok(Filter::True),
            // A base filter a purpose cannot apply lets nothing through.
            Some(q) => Ok(q.scan_filter().unwrap_or(Filter::False)),
        }
    }

    /// On the view, the enrichment keywords (`country:`, ...) apply too.
    pub fn view_base(&self) -> Result<ViewFilter, ApiError> {
        match self.base_query()? {
            None => Ok(Filter::True),
            Some(q) => Ok(crate::viewq::view_filter(&q).unwrap_or(Filter::False)),
        }
    }

    pub fn passive_base(&self) -> Result<PassiveFilter, ApiError> {
        match self.base_query()? {
            None => Ok(Filter::True),
            Some(q) => Ok(q.passive_filter().unwrap_or(Filter::False)),
        }
    }
}

impl FromRequestParts<Arc<App>> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _app: &Arc<App>) -> Result<Access, ApiError> {
        Ok(parts
            .extensions
            .get::<Access>()
            .cloned()
            .unwrap_or_default())
    }
}
