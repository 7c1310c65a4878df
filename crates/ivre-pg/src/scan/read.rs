//! Reading host records back: counts, and record streams that never hold a
//! whole result set in memory.

use anyhow::Result;
use fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::Client;
use serde_json::Value;

/// Number of host records.
pub fn count(client: &mut Client) -> Result<i64> {
    Ok(client
        .query_one("SELECT count(*) FROM scan_host", &[])?
        .get(0))
}

/// Number of distinct addresses (what `scancli --short` lists).
pub fn count_addresses(client: &mut Client) -> Result<i64> {
    Ok(client
        .query_one("SELECT count(DISTINCT addr) FROM scan_host", &[])?
        .get(0))
}

/// Calls `each` with every record, in storage order, streaming from the server.
pub fn for_each_doc(client: &mut Client, mut each: impl FnMut(Value) -> Result<()>) -> Result<()> {
    let params: [&(dyn ToSql + Sync); 0] = [];
    let mut rows = client.query_raw("SELECT doc FROM scan_host ORDER BY id", params)?;
    while let Some(row) = rows.next()? {
        each(row.get(0))?;
    }
    Ok(())
}

/// Calls `each` with every distinct address, sorted.
pub fn for_each_address(
    client: &mut Client,
    mut each: impl FnMut(String) -> Result<()>,
) -> Result<()> {
    let params: [&(dyn ToSql + Sync); 0] = [];
    let mut rows = client.query_raw(
        "SELECT DISTINCT host(addr), addr FROM scan_host ORDER BY addr",
        params,
    )?;
    while let Some(row) = rows.next()? {
        each(row.get(0))?;
    }
    Ok(())
}
