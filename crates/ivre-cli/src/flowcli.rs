//! `ivre-flowcli`: query the flow purpose with IVRE's flags and text
//! formats (spec 1.10): the listing `SRC | FLOW | DST`, `--count`,
//! `--top`, `--flow-daily`, the graph as JSON, `--precision`,
//! `--reduce-precision`, `--fields`, `--init`.

use crate::args::{confirm_destructive, report_deleted};
use crate::CommonArgs;
use anyhow::{Context, Result};
use chrono::Timelike;
use clap::Args;
use ivre_model::filter::Filter;
use ivre_model::flow::filter::{parse_time_literal, shortcuts};
use ivre_model::flow::plot;
use ivre_model::flow::slots::DEFAULT_PRECISION;
use ivre_model::flow::{parse_filters, FlowField, FlowFilter, SlotConfig, SlotWindow};
use ivre_pg::flow::query::{
    self, edge_label, py_time, FlowQuery, GraphBuilder, GraphMode, ListOpts, OrderBy, StoredFlow,
    TopSpec,
};
use serde_json::Value;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

/// The output modes and actions: at most one.
const MODE: &str = "flow_mode";

/// The flags of `ivre-flowcli`.
#[derive(Debug, Args)]
pub struct FlowcliArgs {
    /// Filters (flow language, e.g. "dport = 80", "ANY sports > 1024 OR proto = icmp"); each string is ANDed.
    #[arg(short = 'n', long = "node-filters", num_args = 1.., value_name = "FILTER", help_heading = "Filters")]
    pub node_filters: Vec<String>,
    /// Filters, as --node-filters (IVRE keeps both lists; they are ANDed alike).
    #[arg(short = 'f', long = "flow-filters", num_args = 1.., value_name = "FILTER", help_heading = "Filters")]
    pub flow_filters: Vec<String>,
    /// Flows from or to this address (or network, with /).
    #[arg(long, value_name = "ADDR", help_heading = "Filters")]
    pub host: Vec<String>,
    /// Flows from this client (address or network).
    #[arg(long, value_name = "ADDR", help_heading = "Filters")]
    pub src: Vec<String>,
    /// Flows to this server (address or network).
    #[arg(long, value_name = "ADDR", help_heading = "Filters")]
    pub dst: Vec<String>,
    /// Flows of this protocol.
    #[arg(long, value_name = "PROTO", help_heading = "Filters")]
    pub proto: Vec<String>,
    /// TCP flows.
    #[arg(long, help_heading = "Filters")]
    pub tcp: bool,
    /// UDP flows.
    #[arg(long, help_heading = "Filters")]
    pub udp: bool,
    /// Flows to this destination port.
    #[arg(long, value_name = "PORT", help_heading = "Filters")]
    pub port: Vec<u16>,
    /// Flows to this destination port (as --port).
    #[arg(long, value_name = "PORT", help_heading = "Filters")]
    pub dport: Vec<u16>,
    /// Flows that used this source port.
    #[arg(long, value_name = "PORT", help_heading = "Filters")]
    pub sport: Vec<u16>,
    /// Flows with a time slot starting at or after this date ("YYYY-MM-DD HH:MM", UTC unless a zone is given).
    #[arg(short = 'a', long, value_name = "DATE", help_heading = "Filters")]
    pub after: Option<String>,
    /// Flows with a time slot starting before this date.
    #[arg(short = 'b', long, value_name = "DATE", help_heading = "Filters")]
    pub before: Option<String>,
    /// Without a value: print the slot durations stored, one a line. With
    /// a value: only slots of this duration (seconds) count for -a/-b,
    /// --flow-daily and --reduce-precision.
    #[arg(long, num_args = 0..=1, value_name = "SECONDS", help_heading = "Filters")]
    pub precision: Option<Option<u32>>,

    /// Print "N clients", "M servers", "K flows".
    #[arg(short = 'c', long, group = MODE, help_heading = "Output")]
    pub count: bool,
    /// Print the most common values of these fields (e.g. src.addr dport; sport: the source ports).
    #[arg(short = 't', long, num_args = 1.., value_name = "FIELD", group = MODE, help_heading = "Output")]
    pub top: Vec<String>,
    /// With --top: collect the distinct values of these fields per result.
    #[arg(short = 'C', long, num_args = 1.., value_name = "FIELD", help_heading = "Output")]
    pub collect: Vec<String>,
    /// With --top: score by the sum of these fields instead of the number of flows.
    #[arg(short = 'S', long, num_args = 1.., value_name = "FIELD", help_heading = "Output")]
    pub sum: Vec<String>,
    /// With --top: least common first.
    #[arg(short = 'L', long, help_heading = "Output")]
    pub least: bool,
    /// Print, per time of day of the slots, how many slots each flow name has.
    #[arg(long = "flow-daily", group = MODE, help_heading = "Output")]
    pub flow_daily: bool,
    /// With --flow-daily: draw the counts as a step chart, one line per
    /// flow name, written to stdout as an SVG document.
    #[arg(long, requires = "flow_daily", help_heading = "Output")]
    pub plot: bool,
    /// Print the graph {"nodes": [...], "edges": [...]} as JSON (what /cgi/flows returns).
    #[arg(long, group = MODE, help_heading = "Output")]
    pub graph: bool,
    /// Print each flow as JSON {"src": node, "dst": node, "flow": edge}, one per line.
    #[arg(short = 'j', long, group = MODE, help_heading = "Output")]
    pub json: bool,
    /// Without values: print the fields filters, --top and --fields know.
    /// With values: add these data fields to each listing line.
    #[arg(long, num_args = 0.., value_name = "FIELD", help_heading = "Output")]
    pub fields: Option<Vec<String>>,
    /// Append each flow's time slots to listing lines.
    #[arg(short = 'T', long, help_heading = "Output")]
    pub timeline: bool,
    /// Edge labels: default, flow_map (the flows of a pair), talk_map (TALK).
    #[arg(
        short = 'm',
        long,
        default_value = "default",
        value_name = "MODE",
        help_heading = "Output"
    )]
    pub mode: String,
    /// Order: src, dst or flow (port, then protocol).
    #[arg(short = 'o', long, value_name = "ORDER", help_heading = "Output")]
    pub orderby: Option<String>,
    /// At most this many flows (with --top: results).
    #[arg(short = 'l', long, value_name = "N", help_heading = "Output")]
    pub limit: Option<u64>,
    /// Skip this many flows (with --top: results).
    #[arg(long, default_value_t = 0, value_name = "N", help_heading = "Output")]
    pub skip: u64,
    /// Field separator of the listing (default " | ", with padded columns).
    #[arg(short = 's', long, value_name = "SEP", help_heading = "Output")]
    pub separator: Option<String>,

    /// Remove every flow and import record (asks on a terminal).
    #[arg(long, alias = "purgedb", group = MODE, help_heading = "Actions")]
    pub init: bool,
    /// Accepted for compatibility with IVRE: indexes are created with the schema.
    #[arg(long = "ensure-indexes", group = MODE, help_heading = "Actions")]
    pub ensure_indexes: bool,
    /// Replace the matching flows' slots by slots of this duration (seconds;
    /// a multiple of theirs, or of --precision). Asks on a terminal.
    #[arg(long = "reduce-precision", value_name = "SECONDS", group = MODE, help_heading = "Actions")]
    pub reduce_precision: Option<u32>,
    /// Turn back the flows recorded in the wrong direction (what the importers do after each run).
    #[arg(long, group = MODE, help_heading = "Actions")]
    pub cleanup: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long, help_heading = "Actions")]
    pub yes: bool,
}

impl FlowcliArgs {
    /// The filter of the filter strings and shortcuts (ANDed).
    pub fn to_filter(&self) -> Result<FlowFilter> {
        let mut parts = vec![
            parse_filters(&self.node_filters)?,
            parse_filters(&self.flow_filters)?,
        ];
        for h in &self.host {
            parts.push(shortcuts::host(h)?);
        }
        for h in &self.src {
            parts.push(shortcuts::src(h)?);
        }
        for h in &self.dst {
            parts.push(shortcuts::dst(h)?);
        }
        let mut protos: Vec<FlowFilter> = self.proto.iter().map(|p| shortcuts::proto(p)).collect();
        if self.tcp {
            protos.push(shortcuts::proto("tcp"));
        }
        if self.udp {
            protos.push(shortcuts::proto("udp"));
        }
        parts.extend(protos);
        for &p in self.port.iter().chain(&self.dport) {
            parts.push(shortcuts::dport(p));
        }
        for &p in &self.sport {
            parts.push(shortcuts::sport(p));
        }
        Ok(Filter::all(parts))
    }

    /// The filter and the time window.
    pub fn to_query(&self) -> Result<FlowQuery> {
        let date = |flag: &str, v: &Option<String>| -> Result<_> {
            v.as_deref()
                .map(|s| parse_time_literal(s).with_context(|| format!("{flag} {s:?}")))
                .transpose()
        };
        Ok(FlowQuery {
            filter: self.to_filter()?,
            window: SlotWindow {
                after: date("--after", &self.after)?,
                before: date("--before", &self.before)?,
                precision: self.precision.flatten(),
            },
        })
    }

    fn list_opts(&self) -> Result<ListOpts> {
        Ok(ListOpts {
            skip: self.skip,
            limit: self.limit.unwrap_or(0),
            orderby: match &self.orderby {
                Some(o) => OrderBy::parse(o)?,
                None => OrderBy::default(),
            },
        })
    }
}

/// Runs `ivre-flowcli`.
pub fn run(common: &CommonArgs, cli: &FlowcliArgs) -> Result<ExitCode> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    if let Some(fields) = &cli.fields {
        if fields.is_empty() {
            write_catalogue(&mut out)?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        for f in fields {
            FlowField::parse(f).with_context(|| format!("--fields {f}"))?;
        }
    }
    for f in cli.top.iter().chain(&cli.collect) {
        if f != "sport" {
            FlowField::parse(f).with_context(|| format!("--top/--collect {f}"))?;
        }
    }
    let mode = GraphMode::parse(&cli.mode)?;
    let q = cli.to_query()?;
    let opts = cli.list_opts()?;
    let mut client = common.connect()?;
    if cli.init {
        if confirm_destructive(cli.yes, "--init removes every flow")? {
            report_deleted(query::purge(&mut client)?, "flow");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if cli.ensure_indexes {
        log::info!("indexes are created with the schema: nothing to do");
        return Ok(ExitCode::SUCCESS);
    }
    if cli.cleanup {
        let stats = ivre_pg::flow::cleanup::cleanup_flows(&mut client)?;
        log::info!(
            "{} flow(s) turned into {} reversed flow(s)",
            stats.removed,
            stats.reversed
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(new) = cli.reduce_precision {
        let question =
            format!("This will change the time slots of the matching flows to {new} s. Continue?");
        if cli.yes || crate::confirm(&question)? {
            let base = SlotConfig::default().base();
            let n = query::reduce_precision(&mut client, &q, new, cli.precision.flatten(), base)?;
            log::info!("{n} flow row(s) rewritten");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if cli.precision == Some(None) {
        for p in query::list_precisions(&mut client)? {
            writeln!(out, "{p}")?;
        }
    } else if cli.count {
        let c = query::count(&mut client, &q)?;
        writeln!(
            out,
            "{} clients\n{} servers\n{} flows",
            c.clients, c.servers, c.flows
        )?;
    } else if !cli.top.is_empty() {
        let spec = TopSpec {
            fields: cli.top.clone(),
            collect: cli.collect.clone(),
            sum: cli.sum.clone(),
            least: cli.least,
            limit: cli.limit.unwrap_or(0),
            skip: cli.skip,
        };
        for t in query::top(&mut client, &q, &spec)? {
            let collected: Vec<String> = t.collected.iter().map(|c| tuple_text(c)).collect();
            writeln!(
                out,
                "{} | {} | {}",
                tuple_text(&t.fields),
                t.count,
                collected.join(" ; ")
            )?;
        }
    } else if cli.flow_daily {
        let precision = cli.precision.flatten().unwrap_or(DEFAULT_PRECISION);
        let daily = query::flow_daily(&mut client, &q, precision)?;
        if cli.plot {
            let points: Vec<(u32, Vec<(String, i64)>)> = daily
                .into_iter()
                .map(|d| (d.time_in_day.num_seconds_from_midnight(), d.flows))
                .collect();
            out.write_all(plot::daily_svg(&points, precision).as_bytes())?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        for d in daily {
            let flows: Vec<String> = d.flows.iter().map(|(n, c)| format!("({n}, {c})")).collect();
            writeln!(
                out,
                "{} | {}",
                time_of_day(&d.time_in_day),
                flows.join(" ; ")
            )?;
        }
    } else if cli.graph {
        let g = query::graph(&mut client, &q, &opts, mode, cli.timeline)?;
        serde_json::to_writer(&mut out, &g)?;
        writeln!(out)?;
    } else {
        let mut lines = Listing::new(cli, mode, &q);
        query::list::<anyhow::Error>(&mut client, &q, &opts, |f| lines.write(&mut out, &f))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The listing (and `--json`) lines, flow by flow.
struct Listing<'a> {
    cli: &'a FlowcliArgs,
    mode: GraphMode,
    query: &'a FlowQuery,
    /// Widest address and flow label so far (for padding).
    widths: (usize, usize),
}

impl<'a> Listing<'a> {
    fn new(cli: &'a FlowcliArgs, mode: GraphMode, query: &'a FlowQuery) -> Self {
        Listing {
            cli,
            mode,
            query,
            widths: (29, 9),
        }
    }

    fn write(&mut self, out: &mut impl Write, f: &StoredFlow) -> Result<()> {
        // One flow alone: no merging in listing mode, the mode's label.
        let timeline = self.cli.timeline.then_some(self.query);
        let mut graph = GraphBuilder::new(self.mode, timeline);
        let edge = graph.add(f).clone();
        let nodes = graph.finish()["nodes"].clone();
        let node = |addr: &str| {
            nodes
                .as_array()
                .and_then(|n| n.iter().find(|n| n["id"] == addr))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let (src, dst) = (node(&f.src.to_string()), node(&f.dst.to_string()));
        if self.cli.json {
            serde_json::to_writer(
                &mut *out,
                &serde_json::json!({"src": src, "dst": dst, "flow": edge}),
            )?;
            writeln!(out)?;
            return Ok(());
        }
        let label = match self.mode {
            GraphMode::Default => edge_label(f),
            _ => edge["label"].as_str().unwrap_or_default().to_string(),
        };
        let fields = self.cli.fields.as_deref().unwrap_or_default();
        let columns = [
            with_fields(&f.src.to_string(), &src["data"], fields),
            with_fields(&label, &edge["data"], fields),
            with_fields(&f.dst.to_string(), &dst["data"], fields),
        ];
        let mut line = match &self.cli.separator {
            Some(sep) => columns.join(sep),
            None => {
                self.widths.0 = self.widths.0.max(columns[0].len()).max(columns[2].len());
                self.widths.1 = self.widths.1.max(columns[1].len());
                let (a, l) = self.widths;
                format!("{:<a$} | {:<l$} | {}", columns[0], columns[1], columns[2])
            }
        };
        if self.cli.timeline {
            let slots: Vec<String> = f
                .times
                .iter()
                .map(|(start, duration)| format!("{} ({duration} s)", py_time(start)))
                .collect();
            let sep = self.cli.separator.as_deref().unwrap_or(" | ");
            line.push_str(sep);
            line.push_str(&if slots.is_empty() {
                "?".to_string()
            } else {
                slots.join(", ")
            });
        }
        writeln!(out, "{line}")?;
        Ok(())
    }
}

/// `label (field: value, ...)` with the fields the element's data has.
fn with_fields(label: &str, data: &Value, fields: &[String]) -> String {
    let present: Vec<String> = fields
        .iter()
        .filter_map(|f| data.get(f).map(|v| format!("{f}: {}", value_text(v))))
        .collect();
    if present.is_empty() {
        label.to_string()
    } else {
        format!("{label} ({})", present.join(", "))
    }
}

/// A value as IVRE prints it: text bare, null as None.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(value_text).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// `(v1, v2)`.
fn tuple_text(values: &[Value]) -> String {
    format!(
        "({})",
        values.iter().map(value_text).collect::<Vec<_>>().join(", ")
    )
}

/// A time of day as Python's `str()` writes it.
fn time_of_day(t: &chrono::NaiveTime) -> String {
    if t.nanosecond() == 0 {
        t.format("%H:%M:%S").to_string()
    } else {
        t.format("%H:%M:%S%.6f").to_string()
    }
}

/// `--fields` without values: the fields, general ones first, then a group
/// per protocol log.
fn write_catalogue(out: &mut impl Write) -> Result<()> {
    let catalogue = FlowField::catalogue();
    let width = catalogue.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut group = String::new();
    for (name, description) in catalogue {
        let this = match name.strip_prefix("meta.") {
            Some(rest) => rest.split('.').next().unwrap_or(rest).to_string(),
            None => "General".to_string(),
        };
        if this != group {
            writeln!(
                out,
                "{}======= {this} =======",
                if group.is_empty() { "" } else { "\n" }
            )?;
            group = this;
        }
        writeln!(out, "{name:<width$} : {description}")?;
    }
    Ok(())
}
