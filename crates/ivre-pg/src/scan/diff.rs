//! IVRE's `diffcats` (`/scans/diffcats`, `/view/diffcats`): the open ports
//! of two categories of host records compared, address by address, over
//! the addresses that have records in both categories (the targets both
//! scanned). A port open in a record of the first category only is -1, in
//! the second only 1, in both 0 (left out when only differences are
//! asked for). One statement; rows stream, sorted by address, protocol and
//! port, so that a caller groups an address's ports without holding more
//! than one address.

use super::tables::HostLeaf;
use crate::query::for_each_row;
use crate::sql::SqlBuilder;
use crate::{Error, Result};
use ivre_model::filter::Filter;
use postgres::Client;

/// One open port of an address in the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortDiff {
    pub protocol: String,
    pub port: i32,
    /// -1: open in the first category only; 0: in both; 1: in the second only.
    pub value: i32,
}

/// Calls `each(addr, ports)` for every address of the matching records
/// that has records in both categories and an open port in either, in
/// address order (`include_both`: also the ports open in both).
pub fn diff_categories<L: HostLeaf, E: From<Error>>(
    client: &mut Client,
    flt: &Filter<L>,
    cat1: &str,
    cat2: &str,
    include_both: bool,
    mut each: impl FnMut(String, Vec<PortDiff>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let (sql, b) = statement(flt, cat1, cat2, include_both);
    let mut current: Option<(String, Vec<PortDiff>)> = None;
    for_each_row(client, &sql, &b.refs(), |row| {
        let addr: String = row.get(0);
        let diff = PortDiff {
            protocol: row.get::<_, Option<String>>(1).unwrap_or_default(),
            port: row.get(2),
            value: row.get(3),
        };
        match &mut current {
            Some((a, ports)) if *a == addr => ports.push(diff),
            _ => {
                if let Some((a, ports)) = current.replace((addr, vec![diff])) {
                    each(a, ports)?;
                }
            }
        }
        Ok::<(), E>(())
    })?;
    if let Some((a, ports)) = current {
        each(a, ports)?;
    }
    Ok(())
}

fn statement<L: HostLeaf>(
    flt: &Filter<L>,
    cat1: &str,
    cat2: &str,
    include_both: bool,
) -> (String, SqlBuilder) {
    let mut b = SqlBuilder::new();
    let w = b.filter(flt);
    let c1 = b.param(cat1.to_string(), "text");
    let c2 = b.param(cat2.to_string(), "text");
    let both = b.param(include_both, "boolean");
    let hosts = L::TABLES.hosts();
    let port = L::TABLES.port();
    let sql = format!(
        "WITH sel AS (
             SELECT h.id, h.addr, {c1} = ANY (h.categories) AS in1, {c2} = ANY (h.categories) AS in2
             FROM {hosts} WHERE ({w}) AND h.categories && ARRAY[{c1}, {c2}]
         ),
         targets AS (
             SELECT addr FROM sel GROUP BY addr HAVING bool_or(in1) AND bool_or(in2)
         ),
         open AS (
             SELECT s.addr, p.protocol, p.port, bool_or(s.in1) AS in1, bool_or(s.in2) AS in2
             FROM sel s JOIN targets t ON t.addr = s.addr
             JOIN {port} p ON p.host_id = s.id
             WHERE p.state = 'open'
             GROUP BY s.addr, p.protocol, p.port
         )
         SELECT host(addr), protocol, port,
                CASE WHEN in1 AND in2 THEN 0 WHEN in1 THEN -1 ELSE 1 END
         FROM open WHERE {both} OR NOT (in1 AND in2)
         ORDER BY addr, protocol, port"
    );
    (sql, b)
}

/// Whether a category name can be compared (not empty).
pub fn check_category(name: &str, what: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::BadFilter(format!(
            "{what}: a category name is needed"
        )));
    }
    Ok(())
}
