//! What a record route needs of a purpose (scan, view, passive): its
//! filter from `q=`, and the shared query layer's count, top values,
//! distinct values and record stream. The generic handlers of
//! [`crate::routes`] are written once over this trait, so that adding a
//! purpose to the API is one implementation and its route lines.

use crate::access::Access;
use crate::error::ApiError;
use crate::render::{self, RenderOpts};
use crate::stream::Halt;
use ivre_model::filter::query::{Query, QueryError};
use ivre_model::filter::scan::ScanLeaf;
use ivre_model::filter::view::ViewLeaf;
use ivre_model::filter::Filter;
use ivre_pg::query::{QueryOpts, TopValue};
use ivre_pg::scan::HostLeaf;
use postgres::Client;
use serde_json::Value;
use std::marker::PhantomData;

pub trait Purpose: Send + Sync + 'static {
    /// For messages and `Content-Disposition`.
    const NAME: &'static str;
    type Leaf: Clone + Send + Sync + 'static;

    fn filter(q: &Query) -> Result<Filter<Self::Leaf>, QueryError>;
    /// The caller's base filter in this purpose's leaves.
    fn base(access: &Access) -> Result<Filter<Self::Leaf>, ApiError>;
    fn count(c: &mut Client, f: &Filter<Self::Leaf>) -> ivre_pg::Result<i64>;
    fn top(
        c: &mut Client,
        f: &Filter<Self::Leaf>,
        field: &str,
        n: u64,
        least: bool,
    ) -> ivre_pg::Result<Vec<TopValue>>;
    fn distinct(
        c: &mut Client,
        f: &Filter<Self::Leaf>,
        field: &str,
        each: &mut dyn FnMut(Value) -> Result<(), Halt>,
    ) -> Result<(), Halt>;
    /// The records, rendered for the web.
    fn records(
        c: &mut Client,
        f: &Filter<Self::Leaf>,
        opts: &QueryOpts,
        render: &RenderOpts,
        each: &mut dyn FnMut(Value) -> Result<(), Halt>,
    ) -> Result<(), Halt>;

    /// The request's filter ANDed with the caller's base filter.
    fn scoped(q: &Query, access: &Access) -> Result<Filter<Self::Leaf>, ApiError> {
        Ok(Self::base(access)?.and(Self::filter(q)?))
    }
}

/// A purpose over a host table set (`/scans`, `/view`): the same queries,
/// on the tables the leaf type names.
pub struct Hosts<L>(PhantomData<L>);

/// The scan ("nmap") purpose: `/scans`.
pub type Scans = Hosts<ScanLeaf>;
/// The view: `/view`, the scan record shape over the view's tables. `q=`
/// takes the keywords of `/scans` plus the enrichment ones (`country:`,
/// `city:`, `asnum:`, `asname:`; see [`crate::viewq`]).
pub type View = Hosts<ViewLeaf>;

/// A leaf of a host table set, built from `q=`.
pub trait HostPurposeLeaf: HostLeaf + Clone + Send + Sync + 'static {
    const NAME: &'static str;
    fn from_query(q: &Query) -> Result<Filter<Self>, QueryError>;
    fn base(access: &Access) -> Result<Filter<Self>, ApiError>;
}

impl HostPurposeLeaf for ScanLeaf {
    const NAME: &'static str = "scans";
    fn from_query(q: &Query) -> Result<Filter<Self>, QueryError> {
        q.scan_filter()
    }
    fn base(access: &Access) -> Result<Filter<Self>, ApiError> {
        access.scan_base()
    }
}

impl HostPurposeLeaf for ViewLeaf {
    const NAME: &'static str = "view";
    fn from_query(q: &Query) -> Result<Filter<Self>, QueryError> {
        crate::viewq::view_filter(q)
    }
    fn base(access: &Access) -> Result<Filter<Self>, ApiError> {
        access.view_base()
    }
}

impl<L: HostPurposeLeaf> Purpose for Hosts<L> {
    const NAME: &'static str = L::NAME;
    type Leaf = L;

    fn filter(q: &Query) -> Result<Filter<Self::Leaf>, QueryError> {
        L::from_query(q)
    }
    fn base(access: &Access) -> Result<Filter<Self::Leaf>, ApiError> {
        L::base(access)
    }
    fn count(c: &mut Client, f: &Filter<Self::Leaf>) -> ivre_pg::Result<i64> {
        ivre_pg::scan::query::count(c, f)
    }
    fn top(
        c: &mut Client,
        f: &Filter<Self::Leaf>,
        field: &str,
        n: u64,
        least: bool,
    ) -> ivre_pg::Result<Vec<TopValue>> {
        ivre_pg::scan::query::topvalues(c, f, field, n, least)
    }
    fn distinct(
        c: &mut Client,
        f: &Filter<Self::Leaf>,
        field: &str,
        each: &mut dyn FnMut(Value) -> Result<(), Halt>,
    ) -> Result<(), Halt> {
        ivre_pg::scan::query::distinct(c, f, field, each)
    }
    fn records(
        c: &mut Client,
        f: &Filter<Self::Leaf>,
        opts: &QueryOpts,
        r: &RenderOpts,
        each: &mut dyn FnMut(Value) -> Result<(), Halt>,
    ) -> Result<(), Halt> {
        ivre_pg::scan::query::get(c, f, opts, |doc| each(render::scan_record(doc, r)))
    }
}

/// The passive purpose: `/passive`.
pub struct Passive;

impl Purpose for Passive {
    const NAME: &'static str = "passive";
    type Leaf = ivre_model::filter::passive::PassiveLeaf;

    fn filter(q: &Query) -> Result<Filter<Self::Leaf>, QueryError> {
        q.passive_filter()
    }
    fn base(access: &Access) -> Result<Filter<Self::Leaf>, ApiError> {
        access.passive_base()
    }
    fn count(c: &mut Client, f: &Filter<Self::Leaf>) -> ivre_pg::Result<i64> {
        ivre_pg::passive::query::count(c, f)
    }
    fn top(
        c: &mut Client,
        f: &Filter<Self::Leaf>,
        field: &str,
        n: u64,
        least: bool,
    ) -> ivre_pg::Result<Vec<TopValue>> {
        // IVRE counts records (distinct), not observations.
        ivre_pg::passive::query::topvalues(c, f, field, n, least, true)
    }
    fn distinct(
        c: &mut Client,
        f: &Filter<Self::Leaf>,
        field: &str,
        each: &mut dyn FnMut(Value) -> Result<(), Halt>,
    ) -> Result<(), Halt> {
        ivre_pg::passive::query::distinct(c, f, field, each)
    }
    fn records(
        c: &mut Client,
        f: &Filter<Self::Leaf>,
        opts: &QueryOpts,
        r: &RenderOpts,
        each: &mut dyn FnMut(Value) -> Result<(), Halt>,
    ) -> Result<(), Halt> {
        ivre_pg::passive::query::get(c, f, opts, |rec| {
            let doc = serde_json::to_value(&rec)
                .map_err(|e| Halt::Error(ApiError::internal(e.to_string())))?;
            each(render::passive_record(doc, r))
        })
    }
}
