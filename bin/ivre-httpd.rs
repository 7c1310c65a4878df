//! `ivre-httpd`: IVRE's web API (`/cgi/...`) over the database.

use clap::Parser;
use ivre_web::{ServerOptions, WebConfig};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ivre-httpd",
    about = "Serve IVRE's web API (/cgi/scans, /cgi/passive, /cgi/passivedns, ...) over the database",
    after_help = "Examples:\n  ivre-httpd                       # http://127.0.0.1:8080/cgi/\n  ivre-httpd --port 0              # any free port (printed on stdout)\n  curl 'http://127.0.0.1:8080/cgi/scans/count?q=service:http'\n  curl 'http://127.0.0.1:8080/cgi/scans/top/port:open:5'"
)]
struct Cli {
    /// Database: a postgresql:// URL or libpq key=value string (default:
    /// $IVRE_DB, the libpq environment, else the private cluster).
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// Address to listen on.
    #[arg(long, short = 'b', default_value = "127.0.0.1", value_name = "ADDR")]
    bind: IpAddr,
    /// Port to listen on (0: any free port).
    #[arg(long, short = 'p', default_value_t = 8080)]
    port: u16,
    /// Path the API is mounted under (for a reverse proxy).
    #[arg(long, default_value = "/cgi", value_name = "PATH")]
    prefix: String,
    /// Database connections (requests beyond wait for one).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pool_size: usize,
    /// Longest a query may run, in seconds (0: no limit).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    statement_timeout: u64,
    /// Records of a listing without limit: (IVRE's WEB_LIMIT).
    #[arg(long, default_value_t = 10, value_name = "N")]
    limit: u64,
    /// Hard cap of every listing, limit:0 included (0: none).
    #[arg(long, default_value_t = 0, value_name = "N")]
    max_results: u64,
    /// Directory of the MaxMind .mmdb files (for /ipdata).
    #[arg(long, value_name = "DIR")]
    geoip_dir: Option<PathBuf>,
    /// More messages on stderr.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only warnings and errors on stderr (no access log).
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ivre_web::init_logging(cli.verbose, cli.quiet);
    let prefix = match cli.prefix.trim_end_matches('/') {
        "" => String::new(),
        p if p.starts_with('/') => p.to_string(),
        p => format!("/{p}"),
    };
    let opts = ServerOptions {
        db: cli.db,
        bind: cli.bind,
        port: cli.port,
        pool_size: cli.pool_size,
        statement_timeout: Duration::from_secs(cli.statement_timeout),
        geoip_dir: cli.geoip_dir,
        config: WebConfig {
            prefix,
            default_limit: cli.limit,
            max_results: cli.max_results,
            ..WebConfig::default()
        },
    };
    ivre_cli::run("ivre-httpd", || {
        ivre_web::run(opts)?;
        Ok(ExitCode::SUCCESS)
    })
}
