//! Loading host records with COPY, one transaction per file: a file is
//! stored whole or not at all.
//!
//! The loader takes records as IVRE JSON values (what the parsers produce and
//! what `scancli --json` prints), stores the whole value in `scan_host.doc`
//! and spreads the fields people filter on into the typed child tables.

use crate::copy::CopyBuffer;
use anyhow::{anyhow, bail, Context, Result};
use postgres::{Client, Transaction};
use serde_json::{Map, Value};
use std::net::IpAddr;

/// Flush the buffered rows to the server past this many bytes (bounds memory).
const FLUSH_BYTES: usize = 8 << 20;

/// What is known about a file before and after reading it.
#[derive(Debug, Clone, Default)]
pub struct ScanFileMeta {
    pub sha256: String,
    pub name: String,
    pub format: String,
    pub scanner: Option<String>,
    pub scanner_version: Option<String>,
    pub args: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` UTC, as in the records.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub categories: Vec<String>,
    pub source: Option<String>,
    pub info: Option<Value>,
}

/// Whether a file with this content was imported before.
pub fn already_imported(client: &mut Client, sha256: &str) -> Result<bool> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM scan_file WHERE sha256 = $1 LIMIT 1",
            &[&sha256],
        )?
        .is_some())
}

/// Loads the records of one file inside one transaction.
pub struct ScanLoader<'a> {
    tx: Transaction<'a>,
    file_id: i64,
    next_id: i64,
    id_block_end: i64,
    hosts: u64,
    tables: Tables,
}

struct Tables {
    host: CopyBuffer,
    port: CopyBuffer,
    script: CopyBuffer,
    hostname: CopyBuffer,
    hop: CopyBuffer,
    osmatch: CopyBuffer,
    osclass: CopyBuffer,
    cpe: CopyBuffer,
    tag: CopyBuffer,
}

impl Tables {
    fn new() -> Self {
        Tables {
            host: CopyBuffer::new(
                "scan_host",
                &[
                    "id",
                    "file_id",
                    "addr",
                    "source",
                    "categories",
                    "state",
                    "state_reason",
                    "state_reason_ttl",
                    "start_time",
                    "end_time",
                    "open_port_count",
                    "schema_version",
                    "doc",
                ],
            ),
            port: CopyBuffer::new(
                "scan_port",
                &[
                    "host_id",
                    "idx",
                    "protocol",
                    "port",
                    "state",
                    "state_reason",
                    "state_reason_ttl",
                    "service_name",
                    "service_product",
                    "service_version",
                    "service_extrainfo",
                    "service_tunnel",
                    "service_ostype",
                    "service_devicetype",
                    "service_hostname",
                    "service_conf",
                ],
            ),
            script: CopyBuffer::new(
                "scan_script",
                &[
                    "host_id", "port_idx", "idx", "port", "name", "output", "data",
                ],
            ),
            hostname: CopyBuffer::new(
                "scan_hostname",
                &["host_id", "idx", "name", "type", "domains"],
            ),
            hop: CopyBuffer::new(
                "scan_hop",
                &[
                    "host_id",
                    "trace_idx",
                    "idx",
                    "protocol",
                    "port",
                    "ttl",
                    "ipaddr",
                    "rtt",
                    "host",
                    "domains",
                ],
            ),
            osmatch: CopyBuffer::new("scan_osmatch", &["host_id", "idx", "name", "accuracy"]),
            osclass: CopyBuffer::new(
                "scan_osclass",
                &[
                    "host_id", "idx", "type", "vendor", "osfamily", "osgen", "accuracy",
                ],
            ),
            cpe: CopyBuffer::new(
                "scan_cpe",
                &[
                    "host_id", "idx", "type", "vendor", "product", "version", "origins",
                ],
            ),
            tag: CopyBuffer::new("scan_tag", &["host_id", "idx", "value", "type", "info"]),
        }
    }

    fn bytes(&self) -> usize {
        self.all().iter().map(|t| t.bytes()).sum()
    }

    fn all(&self) -> [&CopyBuffer; 9] {
        [
            &self.host,
            &self.port,
            &self.script,
            &self.hostname,
            &self.hop,
            &self.osmatch,
            &self.osclass,
            &self.cpe,
            &self.tag,
        ]
    }

    /// Parents first, for the foreign keys.
    fn flush(&mut self, tx: &mut Transaction) -> Result<()> {
        for t in [
            &mut self.host,
            &mut self.port,
            &mut self.script,
            &mut self.hostname,
            &mut self.hop,
            &mut self.osmatch,
            &mut self.osclass,
            &mut self.cpe,
            &mut self.tag,
        ] {
            t.flush(tx)?;
        }
        Ok(())
    }
}

impl<'a> ScanLoader<'a> {
    /// Opens the transaction and records the file.
    pub fn begin(client: &'a mut Client, meta: &ScanFileMeta) -> Result<Self> {
        let mut tx = client.transaction()?;
        let file_id: i64 = tx
            .query_one(
                "INSERT INTO scan_file (sha256, name, format, categories, source)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &meta.sha256,
                    &meta.name,
                    &meta.format,
                    &meta.categories,
                    &meta.source,
                ],
            )?
            .get(0);
        Ok(ScanLoader {
            tx,
            file_id,
            next_id: 0,
            id_block_end: 0,
            hosts: 0,
            tables: Tables::new(),
        })
    }

    /// Queues one record (an IVRE JSON object).
    pub fn add(&mut self, doc: &Value) -> Result<()> {
        let rec = doc
            .as_object()
            .ok_or_else(|| anyhow!("a host record must be a JSON object"))?;
        let addr = str_field(rec, "addr").ok_or_else(|| anyhow!("host record without addr"))?;
        addr.parse::<IpAddr>()
            .map_err(|_| anyhow!("invalid host address {addr:?}"))?;
        if self.next_id == self.id_block_end {
            let start: i64 = self
                .tx
                .query_one("SELECT nextval('scan_host_id_block')", &[])?
                .get(0);
            self.next_id = start;
            self.id_block_end = start + 1024;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.hosts += 1;
        self.queue(id, rec, doc)
            .with_context(|| format!("host {addr}"))?;
        if self.tables.bytes() > FLUSH_BYTES {
            self.tables.flush(&mut self.tx)?;
        }
        Ok(())
    }

    fn queue(&mut self, id: i64, rec: &Map<String, Value>, doc: &Value) -> Result<()> {
        let t = &mut self.tables;
        let categories = str_list(rec.get("categories"));
        t.host
            .int(id)
            .int(self.file_id)
            .text(str_field(rec, "addr").unwrap_or_default())
            .opt_text(str_field(rec, "source"))
            .text_array(categories)
            .opt_text(str_field(rec, "state"))
            .opt_text(str_field(rec, "state_reason"))
            .opt_int(int_field(rec.get("state_reason_ttl")))
            .opt_text(utc_time(rec.get("starttime")).as_deref())
            .opt_text(utc_time(rec.get("endtime")).as_deref())
            .int(
                rec.get("openports")
                    .and_then(|o| int_field(o.get("count")))
                    .unwrap_or(0),
            )
            .opt_int(int_field(rec.get("schema_version")))
            .json(doc);
        t.host.end_row();

        for (idx, port) in list(rec.get("ports")).enumerate() {
            let Some(p) = port.as_object() else {
                bail!("port {idx} is not an object")
            };
            let number =
                int_field(p.get("port")).ok_or_else(|| anyhow!("port {idx} without a number"))?;
            t.port
                .int(id)
                .int(idx as i64)
                .opt_text(str_field(p, "protocol"))
                .int(number);
            t.port
                .opt_text(str_field(p, "state_state"))
                .opt_text(str_field(p, "state_reason"))
                .opt_int(int_field(p.get("state_reason_ttl")));
            for f in [
                "service_name",
                "service_product",
                "service_version",
                "service_extrainfo",
                "service_tunnel",
                "service_ostype",
                "service_devicetype",
                "service_hostname",
            ] {
                t.port.opt_text(str_field(p, f));
            }
            t.port.opt_int(int_field(p.get("service_conf")));
            t.port.end_row();
            for (sidx, script) in list(p.get("scripts")).enumerate() {
                let Some(s) = script.as_object() else {
                    bail!("script {sidx} of port {number} is not an object")
                };
                let name = str_field(s, "id")
                    .ok_or_else(|| anyhow!("script without id on port {number}"))?;
                let data: Map<String, Value> = s
                    .iter()
                    .filter(|(k, _)| *k != "id" && *k != "output")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                t.script
                    .int(id)
                    .int(idx as i64)
                    .int(sidx as i64)
                    .int(number)
                    .text(name)
                    .text(str_field(s, "output").unwrap_or_default());
                if data.is_empty() {
                    t.script.null();
                } else {
                    t.script.json(&data);
                }
                t.script.end_row();
            }
        }

        for (idx, h) in list(rec.get("hostnames")).enumerate() {
            let Some(h) = h.as_object() else { continue };
            let Some(name) = str_field(h, "name") else {
                continue;
            };
            t.hostname
                .int(id)
                .int(idx as i64)
                .text(name)
                .opt_text(str_field(h, "type"))
                .text_array(str_list(h.get("domains")));
            t.hostname.end_row();
        }

        for (tidx, trace) in list(rec.get("traces")).enumerate() {
            let Some(trace) = trace.as_object() else {
                continue;
            };
            for (hidx, hop) in list(trace.get("hops")).enumerate() {
                let Some(hop) = hop.as_object() else { continue };
                let ipaddr = str_field(hop, "ipaddr").filter(|a| a.parse::<IpAddr>().is_ok());
                t.hop
                    .int(id)
                    .int(tidx as i64)
                    .int(hidx as i64)
                    .opt_text(str_field(trace, "protocol"))
                    .opt_int(int_field(trace.get("port")))
                    .opt_int(int_field(hop.get("ttl")))
                    .opt_text(ipaddr)
                    .opt_float(hop.get("rtt").and_then(float_field))
                    .opt_text(str_field(hop, "host"));
                match hop.get("domains") {
                    Some(d) => t.hop.text_array(str_list(Some(d))),
                    None => t.hop.null(),
                };
                t.hop.end_row();
            }
        }

        if let Some(os) = rec.get("os").and_then(Value::as_object) {
            for (idx, m) in list(os.get("osmatch")).enumerate() {
                let Some(m) = m.as_object() else { continue };
                t.osmatch
                    .int(id)
                    .int(idx as i64)
                    .text(str_field(m, "name").unwrap_or_default())
                    .opt_int(int_field(m.get("accuracy")));
                t.osmatch.end_row();
            }
            for (idx, c) in list(os.get("osclass")).enumerate() {
                let Some(c) = c.as_object() else { continue };
                t.osclass.int(id).int(idx as i64);
                for f in ["type", "vendor", "osfamily", "osgen"] {
                    t.osclass.opt_text(str_field(c, f));
                }
                t.osclass.opt_int(int_field(c.get("accuracy")));
                t.osclass.end_row();
            }
        }

        for (idx, c) in list(rec.get("cpes")).enumerate() {
            let Some(c) = c.as_object() else { continue };
            t.cpe.int(id).int(idx as i64);
            for f in ["type", "vendor", "product", "version"] {
                t.cpe.opt_text(str_field(c, f));
            }
            t.cpe.text_array(str_list(c.get("origins")));
            t.cpe.end_row();
        }

        for (idx, tag) in list(rec.get("tags")).enumerate() {
            let Some(tag) = tag.as_object() else { continue };
            let Some(value) = str_field(tag, "value") else {
                continue;
            };
            t.tag
                .int(id)
                .int(idx as i64)
                .text(value)
                .opt_text(str_field(tag, "type"))
                .text_array(str_list(tag.get("info")));
            t.tag.end_row();
        }
        Ok(())
    }

    /// Whether another import has this content (for inputs hashed while read).
    pub fn file_already_imported(&mut self, sha256: &str) -> Result<bool> {
        Ok(self
            .tx
            .query_opt(
                "SELECT 1 FROM scan_file WHERE sha256 = $1 AND id <> $2 LIMIT 1",
                &[&sha256, &self.file_id],
            )?
            .is_some())
    }

    /// Records the file's final metadata and commits. Returns the host count.
    pub fn finish(mut self, meta: &ScanFileMeta) -> Result<u64> {
        self.tables.flush(&mut self.tx)?;
        let hosts = self.hosts as i64;
        self.tx.execute(
            "UPDATE scan_file SET sha256 = $9, scanner = $2, scanner_version = $3, args = $4,
                 start_time = $5::text::timestamptz, end_time = $6::text::timestamptz,
                 host_count = $7, info = $8, imported_at = now()
             WHERE id = $1",
            &[
                &self.file_id,
                &meta.scanner,
                &meta.scanner_version,
                &meta.args,
                &meta.start_time.as_deref().map(|t| format!("{t}+00")),
                &meta.end_time.as_deref().map(|t| format!("{t}+00")),
                &hosts,
                &meta.info,
                &meta.sha256,
            ],
        )?;
        self.tx.commit()?;
        Ok(self.hosts)
    }
}

fn str_field<'v>(m: &'v Map<String, Value>, k: &str) -> Option<&'v str> {
    m.get(k).and_then(Value::as_str)
}

/// Integers may come as JSON numbers or numeric strings (Nmap's accuracy).
fn int_field(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn float_field(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn list(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten()
}

fn str_list(v: Option<&Value>) -> impl Iterator<Item = &str> {
    list(v).filter_map(Value::as_str)
}

/// IVRE's naive UTC `YYYY-MM-DD HH:MM:SS[.ffffff]` as a timestamptz literal.
fn utc_time(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?;
    let ok = s.len() >= 19
        && s.as_bytes()[4] == b'-'
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b" -:.".contains(&b));
    ok.then(|| format!("{s}+00"))
}
