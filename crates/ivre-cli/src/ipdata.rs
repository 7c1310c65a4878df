//! `ivre-ipdata`: what is known about IP addresses (AS, country, city, tags),
//! from the MaxMind databases (the lookups live in the `ivre-data` crate).

use crate::{input, CommonArgs};
use clap::Args;
use ivre_data::{parse_addr, write_json, write_text, GeoIpDb};
use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The flags of `ivre-ipdata` (no database: MaxMind files only).
#[derive(Debug, Args)]
pub struct IpdataArgs {
    /// Addresses: dotted IPv4, IPv6 or integers; none, or `-`, reads one per line from stdin
    #[arg(value_name = "ADDR")]
    pub addrs: Vec<String>,
    /// Download (or update) MaxMind's free GeoLite2 ASN, Country and City databases into
    /// --geoip-dir, else $IVRE_GEOIP_DIR, else /var/lib/GeoIP, where the tools look for
    /// them. Needs a MaxMind account: GEOIPUPDATE_ACCOUNT_ID and GEOIPUPDATE_LICENSE_KEY,
    /// else the AccountID and LicenseKey lines of --maxmind-conf or /etc/GeoIP.conf
    #[arg(long, conflicts_with_all = ["addrs", "json"])]
    pub download: bool,
    /// geoipupdate configuration file with the AccountID and LicenseKey (--download)
    #[arg(long, value_name = "FILE", requires = "download")]
    pub maxmind_conf: Option<PathBuf>,
    /// Where --download gets the databases (a mirror of MaxMind's service)
    #[arg(
        long,
        value_name = "URL",
        env = "IVRE_MAXMIND_URL",
        default_value = crate::geoip_download::DEFAULT_BASE_URL
    )]
    pub download_url: String,
    /// One JSON object per line (NDJSON), `addr` first
    #[arg(short, long)]
    pub json: bool,
    /// Directory holding the .mmdb files
    #[arg(long, value_name = "DIR")]
    pub geoip_dir: Option<PathBuf>,
    /// Language of the names (de, en, es, fr, ja, pt-BR, ru, zh-CN)
    #[arg(long, default_value = "en", value_name = "LANG")]
    pub lang: String,
    /// More messages on stderr (repeat for debug output)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
}

struct Run<'a, W: Write> {
    db: &'a GeoIpDb,
    json: bool,
    out: W,
    flush: bool,
    failed: bool,
}

impl<W: Write> Run<'_, W> {
    /// Looks up one address; `place` says where it came from, for errors.
    fn one(&mut self, text: &str, place: impl FnOnce() -> String) -> io::Result<()> {
        let Some(addr) = parse_addr(text) else {
            log::error!("{}: invalid IP address {:?}", place(), text.trim());
            self.failed = true;
            return Ok(());
        };
        match self.db.lookup(addr) {
            Ok(info) if self.json => write_json(&mut self.out, addr, &info)?,
            Ok(info) => write_text(&mut self.out, addr, &info)?,
            Err(e) => {
                log::error!("{}: {e}", place());
                self.failed = true;
            }
        }
        if self.flush {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Reads addresses from stdin (decompressed if need be), one per line.
    fn stdin(&mut self) -> anyhow::Result<()> {
        let mut input = input::open("-")?.reader;
        let mut line = Vec::with_capacity(64);
        for lineno in 1.. {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            let text = String::from_utf8_lossy(&line);
            if !text.trim().is_empty() {
                self.one(&text, || format!("line {lineno}"))?;
            }
        }
        Ok(())
    }
}

/// Runs `ivre-ipdata`.
pub fn run(args: &IpdataArgs) -> ExitCode {
    let common = CommonArgs {
        db: None,
        verbose: args.verbose,
        quiet: args.quiet,
    };
    common.init_logging();
    crate::run("ivre-ipdata", || {
        if args.download {
            return download(args, &common);
        }
        let db = GeoIpDb::discover(args.geoip_dir.as_deref())?.with_language(&args.lang)?;
        let stdout = io::stdout();
        let flush = stdout.is_terminal();
        let out = BufWriter::with_capacity(1 << 16, stdout.lock());
        let mut run = Run {
            db: &db,
            json: args.json,
            out,
            flush,
            failed: false,
        };
        if args.addrs.is_empty() {
            run.stdin()?;
        }
        for (i, a) in args.addrs.iter().enumerate() {
            match a.as_str() {
                "-" => run.stdin()?,
                _ => run.one(a, || format!("argument {}", i + 1))?,
            }
        }
        run.out.flush()?;
        Ok(crate::exit_status(run.failed))
    })
}

/// `--download`: the GeoLite2 databases into the directory the lookups search.
fn download(args: &IpdataArgs, common: &CommonArgs) -> anyhow::Result<ExitCode> {
    use crate::geoip_download::{download_all, Credentials};
    let dir = match &args.geoip_dir {
        Some(dir) => dir.clone(),
        None => std::env::var_os(ivre_data::ENV_GEOIP_DIR)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(ivre_data::DEFAULT_GEOIP_DIRS[0])),
    };
    let creds = Credentials::find(args.maxmind_conf.as_deref())?;
    let started = std::time::Instant::now();
    let files = download_all(&args.download_url, &creds, &dir)?;
    common.summary(&format!(
        "{} in {} ({})",
        crate::progress::count(files.len() as u64, "database", "databases"),
        dir.display(),
        crate::progress::duration(started.elapsed().as_secs_f64())
    ));
    Ok(ExitCode::SUCCESS)
}
