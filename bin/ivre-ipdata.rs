//! `ivre-ipdata`: what is known about IP addresses (AS, country, city, tags),
//! from the MaxMind databases. The logic lives in the `ivre-data` crate.

use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ivre_cli::{input, CommonArgs};
use ivre_data::{parse_addr, write_json, write_text, GeoIpDb};

#[derive(Parser)]
#[command(
    name = "ivre-ipdata",
    version,
    about = "Print what is known about IP addresses: AS, country, city, address tags",
    after_help = "Databases: GeoLite2/GeoIP2 ASN, Country and City .mmdb files, from --geoip-dir, \
else $IVRE_GEOIP_DIR, else /var/lib/GeoIP, /usr/share/GeoIP, /usr/local/share/GeoIP \
(where geoipupdate writes them).

Examples:
  ivre-ipdata 8.8.8.8 2001:4860:4860::8888
  ivre-ipdata --json 134744072            # integer form of 8.8.8.8
  ivre-ipdata --json < addresses.txt > infos.ndjson
  ivre-ipdata --json < addresses.txt.gz     # gzip, bzip2, xz, zstd: recognised
  cut -f1 hosts.tsv | ivre-ipdata --geoip-dir ~/GeoIP --json -"
)]
struct Args {
    /// Addresses: dotted IPv4, IPv6 or integers; none, or `-`, reads one per line from stdin
    #[arg(value_name = "ADDR")]
    addrs: Vec<String>,
    /// One JSON object per line (NDJSON), `addr` first
    #[arg(short, long)]
    json: bool,
    /// Directory holding the .mmdb files
    #[arg(long, value_name = "DIR")]
    geoip_dir: Option<PathBuf>,
    /// Language of the names (de, en, es, fr, ja, pt-BR, ru, zh-CN)
    #[arg(long, default_value = "en", value_name = "LANG")]
    lang: String,
    /// More messages on stderr (repeat for debug output)
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
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
            eprintln!(
                "ivre-ipdata: {}: invalid IP address {:?}",
                place(),
                text.trim()
            );
            self.failed = true;
            return Ok(());
        };
        match self.db.lookup(addr) {
            Ok(info) if self.json => write_json(&mut self.out, addr, &info)?,
            Ok(info) => write_text(&mut self.out, addr, &info)?,
            Err(e) => {
                eprintln!("ivre-ipdata: {}: {e}", place());
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

fn main() -> ExitCode {
    let args = Args::parse();
    let common = CommonArgs {
        db: None,
        verbose: args.verbose,
        quiet: args.quiet,
    };
    common.init_logging();
    ivre_cli::run("ivre-ipdata", || {
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
        Ok(ivre_cli::exit_status(run.failed))
    })
}
