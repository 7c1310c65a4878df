//! In-memory pre-aggregation of observations into flows, by flow key, with
//! the update rules of spec 1.3: an importer adds observations until the
//! batch is large enough, then writes the flows (one upsert per flow
//! instead of one per observation) and starts again.

use std::collections::HashMap;

use super::record::{Flow, FlowKey, Observation, ObservationKind};
use super::slots::SlotConfig;

/// Flows being aggregated, by key.
#[derive(Debug, Clone, Default)]
pub struct FlowAggregator {
    slots: SlotConfig,
    flows: HashMap<FlowKey, Flow>,
    observations: u64,
    /// Set elements (source ports, codes, slots, metadata values) held by
    /// the flows: with the flows, what the batch's memory is made of.
    elements: usize,
}

impl FlowAggregator {
    /// An empty batch whose flows get slots as `slots` says.
    pub fn new(slots: SlotConfig) -> FlowAggregator {
        FlowAggregator {
            slots,
            flows: HashMap::new(),
            observations: 0,
            elements: 0,
        }
    }

    pub fn slot_config(&self) -> &SlotConfig {
        &self.slots
    }

    /// Adds one observation to its flow (created when new).
    pub fn add(&mut self, obs: Observation) {
        self.observations += 1;
        // Metadata values are counted as if all were new (an upper bound).
        let meta_values = match &obs.kind {
            ObservationKind::Meta(m) => m.keys.len(),
            ObservationKind::Traffic(_) => 0,
        };
        let key = obs.key();
        let added = match self.flows.get_mut(&key) {
            Some(flow) => {
                let before = flow.sets_len();
                flow.absorb(obs, &self.slots);
                flow.sets_len().saturating_sub(before)
            }
            None => {
                let mut flow = Flow::empty(key.clone(), obs.start, obs.end);
                flow.absorb(obs, &self.slots);
                let added = flow.sets_len();
                self.flows.insert(key, flow);
                added
            }
        };
        self.elements += added + meta_values;
    }

    /// Merges a whole flow into the batch (the same rules as
    /// [`FlowAggregator::add`]).
    pub fn add_flow(&mut self, flow: Flow) {
        self.elements += flow.sets_len()
            + flow
                .meta
                .values()
                .map(|m| m.keys.values().map(|v| v.len()).sum::<usize>())
                .sum::<usize>();
        match self.flows.get_mut(&flow.key) {
            Some(existing) => existing.merge(flow),
            None => {
                self.flows.insert(flow.key.clone(), flow);
            }
        }
    }

    /// Removes these flows from the batch.
    pub fn remove_all(&mut self, keys: &[FlowKey]) {
        for key in keys {
            self.flows.remove(key);
        }
    }

    /// Distinct flows in the batch (what bounds its memory).
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Set elements held (an upper bound: elements of flows removed or
    /// merged are still counted until the batch is drained).
    pub fn elements(&self) -> usize {
        self.elements
    }

    /// Observations added since the batch was created or last drained.
    pub fn observations(&self) -> u64 {
        self.observations
    }

    /// The flow of a key, if the batch has it.
    pub fn get(&self, key: &FlowKey) -> Option<&Flow> {
        self.flows.get(key)
    }

    /// The flows, in no particular order.
    pub fn flows(&self) -> impl Iterator<Item = &Flow> {
        self.flows.values()
    }

    /// Takes the flows out (sorted by key, so that writes are
    /// deterministic), leaving the batch empty.
    pub fn drain(&mut self) -> Vec<Flow> {
        self.observations = 0;
        self.elements = 0;
        let mut flows: Vec<Flow> = self.flows.drain().map(|(_, f)| f).collect();
        flows.sort_by(|a, b| a.key.cmp(&b.key));
        flows
    }

    /// The flows, sorted by key.
    pub fn into_flows(mut self) -> Vec<Flow> {
        self.drain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::meta::{log_desc, MetaObservation, MetaValue};
    use crate::flow::record::{Counters, Endpoints, ObservationKind};
    use chrono::{DateTime, Utc};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn conn(sport: u16, start: &str, end: &str, bytes: u64) -> Observation {
        Observation {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: "tcp".into(),
            endpoints: Endpoints::Ports {
                sport: Some(sport),
                dport: 80,
            },
            start: t(start),
            end: t(end),
            kind: ObservationKind::Traffic(Counters::observed(2, 1, bytes, 10)),
        }
    }

    #[test]
    fn update_semantics() {
        let mut agg = FlowAggregator::new(SlotConfig::default());
        agg.add(conn(
            1000,
            "2020-01-01T10:30:00Z",
            "2020-01-01T10:31:00Z",
            100,
        ));
        agg.add(conn(
            1001,
            "2020-01-01T09:59:00Z",
            "2020-01-01T10:00:00Z",
            50,
        ));
        agg.add(conn(
            1000,
            "2020-01-01T12:00:00Z",
            "2020-01-01T12:00:01Z",
            1,
        ));
        let mut http = conn(1002, "2020-01-01T13:00:00Z", "2020-01-01T13:00:00Z", 0);
        http.kind = ObservationKind::Meta(MetaObservation::from_columns(
            log_desc("http").unwrap(),
            |c| (c == "method").then(|| MetaValue::Str("GET".into())),
        ));
        agg.add(http);
        // Another protocol: another flow, which only metadata touched.
        let mut dns = conn(53, "2020-01-01T13:00:00Z", "2020-01-01T13:00:00Z", 0);
        dns.proto = "udp".into();
        dns.kind = ObservationKind::Meta(MetaObservation {
            log: "dns".into(),
            ..Default::default()
        });
        agg.add(dns);
        assert_eq!(agg.len(), 2);
        assert_eq!(agg.observations(), 5);
        // Ports 1000 and 1001 and slots 9h, 10h, 12h, 13h of the tcp
        // flow, slot 13h of the udp one, the http entry's method.
        assert_eq!(agg.elements(), 2 + 4 + 1 + 1);
        let flows = agg.drain();
        assert!(agg.is_empty());
        let f = &flows[0];
        assert_eq!(f.key.proto, "tcp");
        assert_eq!(f.key.dport, Some(80));
        assert_eq!(f.name(), "tcp/80");
        assert_eq!(f.sports.iter().copied().collect::<Vec<_>>(), [1000, 1001]);
        assert_eq!(
            f.counters,
            Some(Counters {
                count: 3,
                cspkts: 6,
                scpkts: 3,
                csbytes: 151,
                scbytes: 30
            })
        );
        assert_eq!(f.firstseen, t("2020-01-01T09:59:00Z"));
        assert_eq!(f.lastseen, t("2020-01-01T13:00:00Z"));
        let slots: Vec<_> = f.times.iter().map(|s| s.start).collect();
        assert_eq!(
            slots,
            [
                t("2020-01-01T09:00:00Z"),
                t("2020-01-01T10:00:00Z"),
                t("2020-01-01T12:00:00Z"),
                t("2020-01-01T13:00:00Z")
            ]
        );
        assert_eq!(f.meta["http"].count, 1);
        let udp = &flows[1];
        assert_eq!(udp.counters, None);
        assert!(udp.sports.is_empty());
        assert_eq!(udp.meta["dns"].count, 1);
    }
}
