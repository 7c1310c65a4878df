//! Storage of the "view" purpose (tables `view_*`, see `sql/0005_view.sql`):
//! one record per address, the merge of its scan and passive records.
//!
//! The records have the scan hosts' shape: the queries are the scan
//! purpose's ([`crate::scan::query`]) over a [`ViewFilter`], whose leaves
//! compile against the view's tables ([`filter`]). [`build`] is
//! `ivre-db2view`'s engine; [`pending`] the change tracking the importers
//! write to.
//!
//! [`ViewFilter`]: ivre_model::filter::view::ViewFilter

pub mod build;
pub mod filter;
mod full;
pub(crate) mod pending;
mod write;

use crate::Result;
use postgres::Client;

/// Removes every view record and the build history (`ivre-view --init`):
/// the next `ivre-db2view` is a full build. Returns how many records there
/// were.
pub fn purge(client: &mut Client) -> Result<u64> {
    let mut tx = client.transaction()?;
    // Locked first, so that the count is what the TRUNCATE removes.
    tx.batch_execute("LOCK TABLE view_host IN ACCESS EXCLUSIVE MODE")?;
    let n: i64 = tx.query_one("SELECT count(*) FROM view_host", &[])?.get(0);
    tx.batch_execute(
        "TRUNCATE view_tag, view_cpe, view_osclass, view_osmatch, view_hop, view_hostname, \
         view_script, view_port, view_host, view_build RESTART IDENTITY",
    )?;
    tx.commit()?;
    Ok(n as u64)
}
