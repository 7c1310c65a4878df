//! The flow readers (Zeek conn and protocol logs, nfdump, Argus, iptables)
//! on the same bytes, their observations aggregated with one-second slots
//! and cleaned up, and the bytes as a flow filter, as `ivre-zeek2db`,
//! `ivre-flow2db` and `ivre-flowcli` do.
#![no_main]

use ivre_model::flow::argus::ArgusReader;
use ivre_model::flow::iptables::IptablesReader;
use ivre_model::flow::nfdump::NfdumpReader;
use ivre_model::flow::zeek::ZeekFlowReader;
use ivre_model::flow::{matches, parse_filter, FlowAggregator, PortRanking, SlotConfig};
use ivre_model::reader::RecordReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ranking = PortRanking::from_etc_services("http 80/tcp\ndomain 53/udp\n");
    let mut agg = FlowAggregator::new(SlotConfig::new(1, 0).unwrap_or_default());
    let zeek = ZeekFlowReader::new(data).records().flatten();
    let nfdump = NfdumpReader::new(data, &ranking).records().flatten();
    let argus = ArgusReader::new(data).records().flatten();
    let iptables = IptablesReader::new(data, 2020).records().flatten();
    for obs in zeek.chain(nfdump).chain(argus).chain(iptables) {
        agg.add(obs);
    }
    agg.cleanup();
    if let Ok(Ok(filter)) = std::str::from_utf8(data).map(parse_filter) {
        for flow in agg.flows() {
            let _ = matches(&filter, flow);
        }
    }
});
