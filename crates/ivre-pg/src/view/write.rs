//! Writing view records with COPY: the `view_host` row (its own columns:
//! `source` as a list, the `infos` columns) and the child rows, which are
//! the scan tables' twins (written by the scan loader's [`Tables`]).

use crate::copy::copy_table;
use crate::scan::load::tables::{open_port_count, open_ports, port_values, stored_doc, utc_time};
use crate::scan::load::{HostIds, Tables};
use crate::scan::HostTables;
use crate::{Error, Result};
use ivre_model::scan::record::Source;
use ivre_model::scan::Host;
use postgres::Transaction;
use serde_json::Value;

/// Flush the buffered rows past this many bytes (bounds memory).
const FLUSH_BYTES: usize = 8 << 20;

/// A `view_host` row.
pub struct ViewRow<'r> {
    pub id: i64,
    pub host: &'r Host,
    /// The document to store (the scan loader's `stored_doc`).
    pub doc: &'r Value,
}

impl ViewRow<'_> {
    fn info(&self, key: &str) -> Option<&Value> {
        self.host.infos.as_ref()?.get(key)
    }

    fn info_text(&self, key: &str) -> Option<&str> {
        self.info(key)?.as_str()
    }

    fn sources(&self) -> &[String] {
        match &self.host.source {
            Some(Source::Many(list)) => list,
            Some(Source::One(one)) => std::slice::from_ref(one),
            None => &[],
        }
    }
}

copy_table! {
    ViewHost = "view_host" for ViewRow<'r> {
        "id" => |b, r| b.int(r.id),
        "addr" => |b, r| b.text(&r.host.addr),
        "source" => |b, r| b.text_array(r.sources()),
        "categories" => |b, r| b.text_array(r.host.categories.iter().flatten()),
        "state" => |b, r| b.opt_text(r.host.state.as_deref()),
        "state_reason" => |b, r| b.opt_text(r.host.state_reason.as_deref()),
        "state_reason_ttl" => |b, r| b.opt_int(r.host.state_reason_ttl),
        "start_time" => |b, r| b.opt_text(utc_time(&r.host.starttime).as_deref()),
        "end_time" => |b, r| b.opt_text(utc_time(&r.host.endtime).as_deref()),
        "open_port_count" => |b, r| b.int(open_port_count(r.host)),
        "schema_version" => |b, r| b.opt_int(r.host.schema_version.map(i64::from)),
        "country_code" => |b, r| b.opt_text(r.info_text("country_code")),
        "city" => |b, r| b.opt_text(r.info_text("city")),
        "as_num" => |b, r| b.opt_int(r.info("as_num").and_then(Value::as_i64)),
        "as_name" => |b, r| b.opt_text(r.info_text("as_name")),
        "doc" => |b, r| b.json(r.doc),
        "open_ports" => |b, r| b.text_array(open_ports(r.host)),
        "services" => |b, r| b.text_array(port_values(r.host, |p| p.service_name.as_deref())),
        "products" => |b, r| b.text_array(port_values(r.host, |p| p.service_product.as_deref())),
    }
}

/// Queues view records and copies them within the caller's transaction.
pub(crate) struct ViewWriter {
    ids: HostIds,
    tables: Tables<ViewHost>,
    written: u64,
}

impl ViewWriter {
    pub(crate) fn new() -> Self {
        ViewWriter {
            ids: HostIds::new(HostTables::View),
            tables: Tables::new(HostTables::View),
            written: 0,
        }
    }

    /// Queues one record (its address must not be in `view_host` when the
    /// rows are flushed).
    pub(crate) fn add(&mut self, tx: &mut Transaction, host: &Host) -> Result<()> {
        if host.ip().is_none() {
            return Err(Error::InvalidRecord(format!(
                "invalid host address {:?}",
                host.addr
            )));
        }
        let doc = stored_doc(host, None)
            .map_err(|e| Error::InvalidRecord(format!("{}: {e}", host.addr)))?;
        let id = self.ids.next(tx)?;
        self.tables.queue(
            id,
            &ViewRow {
                id,
                host,
                doc: &doc,
            },
            host,
        );
        self.written += 1;
        if self.tables.bytes() > FLUSH_BYTES {
            self.tables.flush(tx)?;
        }
        Ok(())
    }

    /// Sends what is queued.
    pub(crate) fn flush(&mut self, tx: &mut Transaction) -> Result<()> {
        self.tables.flush(tx)
    }

    /// Sends what is queued; returns the number of records written.
    pub(crate) fn finish(mut self, tx: &mut Transaction) -> Result<u64> {
        self.tables.flush(tx)?;
        Ok(self.written)
    }
}
