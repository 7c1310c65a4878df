//! `ivre-db2view`: builds the view (one record per address) from the scan
//! results and the passive observations. The engine is
//! `ivre_pg::view::build`; here are IVRE's arguments, the choice of the
//! kind of build, and the enrichment from the data purpose.

use crate::args::FilterArgs;
use crate::passivefilter::PassiveFilterArgs;
use crate::scanfilter::ScanFilterArgs;
use crate::CommonArgs;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use ivre_data::{GeoIpDb, GeoIpError, IpInfo};
use ivre_model::filter::passive::PassiveLeaf;
use ivre_model::filter::scan::ScanLeaf;
use ivre_model::filter::{Filter, FilterError};
use ivre_model::scan::Tag;
use ivre_model::view::Enrich;
use ivre_pg::view::build::{self, Build, BuildKind, Knowledge, Outcome};
use serde_json::{Map, Value};
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;

/// The flags of `ivre-db2view`: IVRE's, plus `--full` and `--geoip-dir`.
#[derive(Debug, Args)]
pub struct Db2viewArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Print the hosts as JSON lines instead of storing them (nothing is
    /// written; the filters choose the records, all of them by default).
    #[arg(long)]
    pub test: bool,
    /// With a purpose or filters: replace the view record of an address
    /// instead of merging the new host into it.
    #[arg(long = "no-merge")]
    pub no_merge: bool,
    /// Add this category to every host built.
    #[arg(long = "view-category", value_name = "CAT")]
    pub view_category: Option<String>,
    /// Rebuild the whole view (default: only the addresses whose records
    /// changed since the last build).
    #[arg(long, conflicts_with = "test")]
    pub full: bool,
    /// Directory of the MaxMind .mmdb files (default: $IVRE_GEOIP_DIR,
    /// then /var/lib/GeoIP, ...); without them, hosts get no infos.
    #[arg(long, value_name = "DIR")]
    pub geoip_dir: Option<PathBuf>,
    /// Full builds: read and write with N connections, each a disjoint
    /// address range (the view is the same whatever N). No -j: that is
    /// --json in every tool.
    #[arg(long, alias = "processes", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    #[command(subcommand)]
    pub purpose: Option<Purpose>,
}

/// Which records to read.
#[derive(Debug, Subcommand)]
pub enum Purpose {
    /// Only the scan results, chosen by ivre-scancli's filters.
    Nmap(Box<ScanFilterArgs>),
    /// Only the passive observations, chosen by ivre-ipinfo's filters.
    Passive(Box<PassiveFilterArgs>),
    /// Both (the default); only the shared filters apply.
    All,
}

impl Db2viewArgs {
    /// The build the flags describe. With a purpose or a filter, the chosen
    /// records are merged into the view (IVRE's behaviour); without, the
    /// build is incremental, or full with `--full`.
    pub fn to_build(&self) -> Result<Build> {
        let shared_scan = self.filter.to_filter::<ScanLeaf>()?;
        let restricted = !matches!(shared_scan, Filter::True)
            || matches!(self.purpose, Some(Purpose::Nmap(_) | Purpose::Passive(_)));
        let (nmap, passive) = match &self.purpose {
            Some(Purpose::Nmap(args)) => (Some(shared_scan.and(args.to_filter()?)), None),
            Some(Purpose::Passive(args)) => {
                let shared = self.filter.to_filter::<PassiveLeaf>()?;
                (None, Some(shared.and(args.to_filter()?)))
            }
            Some(Purpose::All) | None => {
                let shared = self
                    .filter
                    .to_filter::<PassiveLeaf>()
                    .context("filter for the passive records")?;
                (Some(shared_scan), Some(shared))
            }
        };
        let kind = match (restricted, self.full) {
            (true, true) => {
                return Err(FilterError(
                    "--full rebuilds every address: it takes no purpose or filter".into(),
                )
                .into())
            }
            (true, false) => BuildKind::Partial {
                merge: !self.no_merge,
            },
            (false, true) => BuildKind::Full,
            (false, false) => BuildKind::Incremental,
        };
        Ok(Build {
            nmap,
            passive,
            kind,
            category: self.view_category.clone(),
            jobs: usize::from(self.jobs),
        })
    }
}

/// What the data purpose adds to a view host: the address tags always, the
/// `infos` (AS, country, city) when MaxMind files were found.
pub struct DataEnrich {
    /// Opened on first use when no directory was given, so that a build
    /// with nothing to do does not look for the files (nor warn).
    geoip: OnceLock<Option<GeoIpDb>>,
}

impl DataEnrich {
    /// The MaxMind files of `dir` (an error when there are none), or, when
    /// `None`, those found in the usual places on first use: a view is
    /// still built without them, with a warning.
    pub fn new(dir: Option<&Path>) -> Result<DataEnrich> {
        let geoip = OnceLock::new();
        if let Some(dir) = dir {
            let db = GeoIpDb::discover(Some(dir)).context("--geoip-dir")?;
            let _ = geoip.set(Some(db));
        }
        Ok(DataEnrich { geoip })
    }

    fn geoip(&self) -> Option<&GeoIpDb> {
        self.geoip
            .get_or_init(|| match GeoIpDb::discover(None) {
                Ok(db) => Some(db),
                Err(GeoIpError::NoDatabase { .. }) => {
                    log::warn!(
                        "no MaxMind database found: the view records get no infos (country, AS)"
                    );
                    None
                }
                Err(e) => {
                    log::warn!("{e}: the view records get no infos (country, AS)");
                    None
                }
            })
            .as_ref()
    }
}

impl Enrich for DataEnrich {
    fn infos(&self, addr: IpAddr) -> Option<Map<String, Value>> {
        let db = self.geoip()?;
        let mut info = IpInfo::default();
        let found = db
            .lookup_as(addr, &mut info)
            .and_then(|()| db.lookup_country(addr, &mut info))
            .and_then(|()| db.lookup_city(addr, &mut info));
        if let Err(e) = found {
            log::warn!("{e}");
            return None;
        }
        match serde_json::to_value(&info) {
            Ok(Value::Object(mut infos)) => {
                infos.remove("tags");
                (!infos.is_empty()).then_some(infos)
            }
            _ => None,
        }
    }

    fn address_tags(&self, addr: IpAddr) -> Vec<Tag> {
        ivre_data::address_tags(addr)
            .into_iter()
            .map(|t| Tag {
                value: t.value.into_owned(),
                kind: t.kind.into_owned(),
                info: Some(t.info.into_iter().map(|i| i.into_owned()).collect()),
                extra: Map::new(),
            })
            .collect()
    }
}

/// Runs `ivre-db2view`.
pub fn run(common: &CommonArgs, cli: &Db2viewArgs) -> Result<ExitCode> {
    let build = cli.to_build()?;
    let enrich = DataEnrich::new(cli.geoip_dir.as_deref())?;
    let know = Knowledge {
        enrich: Some(&enrich),
        probes: crate::probes::service_probes(),
    };
    let mut client = common.connect()?;
    if cli.test {
        let mut out = BufWriter::new(std::io::stdout().lock());
        build::test::<anyhow::Error>(&mut client, &build, know, |host| {
            serde_json::to_writer(&mut out, &host)?;
            Ok(out.write_all(b"\n")?)
        })?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    store(common, &mut client, &build, know)?;
    Ok(ExitCode::SUCCESS)
}

/// Brings the view up to date after an import (`--update-view` of the
/// importers): an incremental build, with the MaxMind files found in the
/// usual places.
pub fn update_view(common: &CommonArgs, client: &mut postgres::Client) -> Result<()> {
    let enrich = DataEnrich::new(None)?;
    let know = Knowledge {
        enrich: Some(&enrich),
        probes: crate::probes::service_probes(),
    };
    store(common, client, &Build::all(BuildKind::Incremental), know)
}

/// Runs a writing build and says what it did in one line.
fn store(
    common: &CommonArgs,
    client: &mut postgres::Client,
    build: &Build,
    know: Knowledge,
) -> Result<()> {
    let start = Instant::now();
    let target = ivre_pg::DbTarget::resolve(common.db.as_deref())?;
    let connect = || ivre_pg::connect_without_migrating(&target);
    match build::run(client, build, know, &connect)? {
        Outcome::Busy => {
            common.summary("ivre-db2view: another ivre-db2view is running; nothing done")
        }
        Outcome::UpToDate => common.summary(
            "ivre-db2view: the view is up to date (no record changed since the last build)",
        ),
        Outcome::Built(r) => {
            let secs = start.elapsed().as_secs_f64();
            let kind = match r.kind {
                BuildKind::Full => "full build",
                BuildKind::Incremental => "incremental build",
                BuildKind::Partial { .. } => "partial build",
            };
            common.summary(&format!(
                "ivre-db2view: {kind}: {} host(s) written, {} removed, from {} record(s) in {secs:.1} s ({:.0} hosts/s)",
                r.hosts_written,
                r.hosts_removed,
                r.records_read,
                r.hosts_written as f64 / secs.max(1e-6),
            ));
        }
    }
    Ok(())
}
