//! The heuristic that turns back flows recorded in the wrong direction
//! (spec 1.7): a long-lived connection whose start was missed shows its
//! server as the client, with the server's port as the only source port and
//! the client's ephemeral ports as destination ports.
//!
//! 1. Candidates: flows with exactly one source port and a destination port
//!    above 128.
//! 2. Candidates are grouped by (src, dst, proto, that source port).
//! 3. A group is reversed when it has more than 5 distinct destination
//!    ports and, for TCP, the mean over both directions (those with
//!    packets) of the bytes per packet is at least 50 (fewer looks like a
//!    port scan, which must stay as it is).
//! 4. A reversed group becomes one flow: client and server swapped, the old
//!    source port as destination port, the old destination ports as source
//!    ports, counters crossed (client → server bytes become server → client
//!    bytes), times widened, slots and metadata united. Its flows are
//!    removed.
//!
//! Unlike IVRE, slots are united, never multiplied into the counters, and
//! flows without slots take part.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::aggregate::FlowAggregator;
use super::record::{Counters, Flow, FlowKey};

/// A group needs more distinct destination ports than this.
pub const MIN_DPORTS: usize = 5;
/// Destination ports up to this are never taken for client ports.
pub const MAX_SERVER_DPORT: u16 = 128;
/// Mean bytes per packet under which a TCP group looks like a scan.
pub const MIN_TCP_BYTES_PER_PACKET: f64 = 50.0;

/// Whether a flow may be a reversed one (step 1).
pub fn is_candidate(flow: &Flow) -> bool {
    flow.sports.len() == 1 && flow.key.dport.is_some_and(|p| p > MAX_SERVER_DPORT)
}

/// One group to reverse: the flows it replaces (by the caller's id) and the
/// flow that replaces them.
#[derive(Debug, Clone, PartialEq)]
pub struct Reversal<Id> {
    pub replaced: Vec<Id>,
    pub flow: Flow,
}

struct Group<Id> {
    ids: Vec<Id>,
    dports: BTreeSet<u16>,
    merged: Option<Flow>,
}

/// The reversals among `flows` (`(id, flow)` pairs; non-candidates are
/// ignored), in the order of their keys.
pub fn plan<Id>(flows: impl IntoIterator<Item = (Id, Flow)>) -> Vec<Reversal<Id>> {
    let mut groups: BTreeMap<(IpAddr, IpAddr, String, u16), Group<Id>> = BTreeMap::new();
    for (id, flow) in flows {
        if !is_candidate(&flow) {
            continue;
        }
        let (Some(&sport), Some(dport)) = (flow.sports.first(), flow.key.dport) else {
            continue;
        };
        let group = groups
            .entry((flow.key.src, flow.key.dst, flow.key.proto.clone(), sport))
            .or_insert_with(|| Group {
                ids: Vec::new(),
                dports: BTreeSet::new(),
                merged: None,
            });
        group.ids.push(id);
        group.dports.insert(dport);
        let reversed = reverse(flow, sport, dport);
        match &mut group.merged {
            Some(m) => m.merge(reversed),
            None => group.merged = Some(reversed),
        }
    }
    groups
        .into_values()
        .filter_map(|g| {
            let flow = g.merged?;
            (g.dports.len() > MIN_DPORTS && !looks_like_scan(&flow)).then_some(Reversal {
                replaced: g.ids,
                flow,
            })
        })
        .collect()
}

/// The flow seen from the other side: `sport` becomes the destination port,
/// `dport` the one source port.
fn reverse(flow: Flow, sport: u16, dport: u16) -> Flow {
    let key = FlowKey {
        src: flow.key.dst,
        dst: flow.key.src,
        proto: flow.key.proto,
        dport: Some(sport),
        icmp_type: None,
    };
    Flow {
        key,
        sports: BTreeSet::from([dport]),
        codes: BTreeSet::new(),
        counters: flow.counters.as_ref().map(Counters::reversed),
        firstseen: flow.firstseen,
        lastseen: flow.lastseen,
        times: flow.times,
        meta: flow.meta,
    }
}

/// A TCP group whose packets carry few bytes (step 3).
fn looks_like_scan(flow: &Flow) -> bool {
    if flow.key.proto != "tcp" {
        return false;
    }
    let c = flow.counters.unwrap_or_default();
    let per_packet: Vec<f64> = [(c.csbytes, c.cspkts), (c.scbytes, c.scpkts)]
        .into_iter()
        .filter(|(_, pkts)| *pkts > 0)
        .map(|(bytes, pkts)| bytes as f64 / pkts as f64)
        .collect();
    if per_packet.is_empty() {
        return true;
    }
    per_packet.iter().sum::<f64>() / (per_packet.len() as f64) < MIN_TCP_BYTES_PER_PACKET
}

impl FlowAggregator {
    /// Applies the cleanup to the flows of the batch; returns how many
    /// flows were reversed into others.
    pub fn cleanup(&mut self) -> usize {
        let candidates: Vec<(FlowKey, Flow)> = self
            .flows()
            .filter(|f| is_candidate(f))
            .map(|f| (f.key.clone(), f.clone()))
            .collect();
        let mut removed = 0;
        for reversal in plan(candidates) {
            removed += reversal.replaced.len();
            self.remove_all(&reversal.replaced);
            self.add_flow(reversal.flow);
        }
        removed
    }
}
