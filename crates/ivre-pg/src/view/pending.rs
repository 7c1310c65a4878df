//! Change tracking for the view: `view_pending` holds the addresses whose
//! scan or passive records changed since the last build. Every writer of
//! those records marks the addresses it touched in its own transaction, so
//! that a change and its mark commit (or vanish) together.
//!
//! Marks are inserted in address order with `ON CONFLICT DO NOTHING`: two
//! transactions marking the same addresses wait for each other in the same
//! order (no deadlock), and a build that is removing a mark makes a writer
//! marking it again wait until the build commits, after which the mark is
//! inserted anew (the change is built next time, never lost).

use crate::Result;
use postgres::GenericClient;
use std::net::IpAddr;

/// `INSERT` of the addresses of the query `select` (one column `addr`) into
/// `view_pending`.
fn insert(select: &str) -> String {
    format!(
        "INSERT INTO view_pending (addr) SELECT DISTINCT addr FROM ({select}) m \
         WHERE addr IS NOT NULL ORDER BY addr ON CONFLICT DO NOTHING"
    )
}

/// Marks the addresses of the hosts of one scan import.
pub(crate) fn mark_scan_file(tx: &mut impl GenericClient, file_id: i64) -> Result<()> {
    let sql = insert("SELECT addr FROM scan_host WHERE file_id = $1");
    tx.execute(sql.as_str(), &[&file_id])?;
    Ok(())
}

/// Marks the addresses of every scan record (before they are all removed).
pub(crate) fn mark_all_scan(tx: &mut impl GenericClient) -> Result<()> {
    tx.execute(insert("SELECT addr FROM scan_host").as_str(), &[])?;
    Ok(())
}

/// Marks the addresses of every passive record (before they are all removed).
pub(crate) fn mark_all_passive(tx: &mut impl GenericClient) -> Result<()> {
    tx.execute(insert("SELECT addr FROM passive").as_str(), &[])?;
    Ok(())
}

/// Marks the addresses of the staged passive observations of a batch.
pub(crate) fn mark_passive_staging(tx: &mut impl GenericClient) -> Result<()> {
    tx.execute(insert("SELECT addr FROM passive_staging").as_str(), &[])?;
    Ok(())
}

/// A statement that runs `delete` (a `DELETE ... RETURNING` of a column
/// `addr`), marks the deleted addresses and returns the number of deleted
/// rows (one row, one `int8` column).
pub(crate) fn mark_deleted(delete: &str) -> String {
    format!(
        "WITH deleted AS ({delete}), marked AS ({}) SELECT count(*) FROM deleted",
        insert("SELECT addr FROM deleted")
    )
}

/// Marks the given addresses.
pub(crate) fn mark_addrs(tx: &mut impl GenericClient, addrs: &[IpAddr]) -> Result<()> {
    if !addrs.is_empty() {
        let sql = insert("SELECT unnest($1::inet[]) AS addr");
        tx.execute(sql.as_str(), &[&addrs])?;
    }
    Ok(())
}
