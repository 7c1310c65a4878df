//! The request of `GET /cgi/flows?q=<JSON>` (spec 1.11) and its answer, so
//! that the web route only decodes `q` and writes the result: `nodes` and
//! `edges` (filter strings, all ANDed), `limit` (default 1000), `skip`,
//! `mode`, `count`, `orderby`, `timeline`, `before` / `after`
//! (`YYYY-MM-DD HH:MM`; an invalid one is logged and ignored, as IVRE does).

use super::query::{self, FlowQuery, GraphMode, ListOpts, OrderBy};
use crate::Result;
use ivre_model::flow::filter::parse_time_literal;
use ivre_model::flow::{parse_filters, SlotWindow};
use postgres::Client;
use serde::Deserialize;
use serde_json::{json, Value};

/// IVRE's `WEB_GRAPH_LIMIT`.
pub const DEFAULT_LIMIT: u64 = 1000;

/// The `q` object of `/cgi/flows`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FlowRequest {
    pub nodes: Vec<String>,
    pub edges: Vec<String>,
    pub limit: Option<u64>,
    pub skip: u64,
    pub mode: Option<String>,
    pub count: bool,
    pub orderby: Option<String>,
    pub timeline: bool,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl FlowRequest {
    /// The flows the request is about.
    pub fn query(&self) -> Result<FlowQuery> {
        let filters: Vec<&String> = self.nodes.iter().chain(&self.edges).collect();
        let date = |name: &str, v: &Option<String>| {
            v.as_deref().and_then(|s| match parse_time_literal(s) {
                Ok(t) => Some(t),
                Err(e) => {
                    log::warn!("/cgi/flows: invalid {name} {s:?} ignored: {e}");
                    None
                }
            })
        };
        Ok(FlowQuery {
            filter: parse_filters(&filters)?,
            window: SlotWindow {
                after: date("after", &self.after),
                before: date("before", &self.before),
                precision: None,
            },
        })
    }

    /// The answer: `{clients, servers, flows}` with `count`, else the
    /// graph `{nodes, edges}`.
    pub fn answer(&self, client: &mut Client) -> Result<Value> {
        let q = self.query()?;
        if self.count {
            let c = query::count(client, &q)?;
            return Ok(json!({"clients": c.clients, "servers": c.servers, "flows": c.flows}));
        }
        let opts = ListOpts {
            skip: self.skip,
            limit: self.limit.unwrap_or(DEFAULT_LIMIT),
            orderby: match &self.orderby {
                Some(o) => OrderBy::parse(o)?,
                None => OrderBy::default(),
            },
        };
        let mode = match &self.mode {
            Some(m) => GraphMode::parse(m)?,
            None => GraphMode::default(),
        };
        query::graph(client, &q, &opts, mode, self.timeline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_decode_and_bad_dates_are_ignored() {
        let r: FlowRequest = serde_json::from_value(json!({
            "nodes": ["addr = 10.0.0.1"], "edges": ["dport = 80"],
            "count": true, "after": "not a date", "before": "2020-01-01 10:00"
        }))
        .unwrap();
        let q = r.query().unwrap();
        assert!(q.window.after.is_none());
        assert!(q.window.before.is_some());
        let bad: FlowRequest = serde_json::from_value(json!({"edges": ["nothing = 1"]})).unwrap();
        assert!(bad.query().is_err());
        assert_eq!(FlowRequest::default().limit.unwrap_or(DEFAULT_LIMIT), 1000);
    }
}
