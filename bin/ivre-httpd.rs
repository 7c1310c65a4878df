//! `ivre-httpd`: IVRE's web API (`/cgi/...`) over the database, and its API
//! keys (`ivre-httpd keys add|list|revoke`).

use clap::{Parser, Subcommand};
use ivre_web::{ServerOptions, WebConfig};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ivre-httpd",
    version,
    about = "Serve IVRE's web API (/cgi/scans, /cgi/passive, /cgi/passivedns, ...) over the database",
    after_help = "API keys are required when listening on a non-loopback address (or with --auth):\n  ivre-httpd keys add alice --perm read --filter 'category:PROD'\n  curl -H 'Authorization: Bearer KEY' 'http://HOST:8080/cgi/scans/count?q=service:http'\n\nRead routes as a role that may only read (PostgreSQL refuses their writes):\n  ivre-httpd read-role web_read && ivre-httpd --read-role web_read\n\nExamples:\n  ivre-httpd                       # http://127.0.0.1:8080/cgi/\n  ivre-httpd --port 0              # any free port (printed on stdout)\n  curl 'http://127.0.0.1:8080/cgi/scans/top/port:open:5'"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Database: a postgresql:// URL or libpq key=value string (default:
    /// $IVRE_DB, the libpq environment, else the private cluster).
    #[arg(long, global = true, value_name = "URL")]
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
    /// Require an API key on every request (default: when --bind is not a loopback address).
    #[arg(long, overrides_with = "no_auth")]
    auth: bool,
    /// Serve without API keys, even on a non-loopback address.
    #[arg(long)]
    no_auth: bool,
    /// Accept uploads (POST /cgi/scans) from keys with the upload permission.
    #[arg(long)]
    upload: bool,
    /// Largest upload, in MiB.
    #[arg(long, default_value_t = 100, value_name = "MIB")]
    max_upload: u64,
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
    /// Seconds a verified API key is remembered. A revocation takes effect at once (the server
    /// hears it from the database); only while that notification channel is down is a revoked
    /// key accepted, for at most this long.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    key_cache: u64,
    /// Run the read routes as this role, which may only read (made by `ivre-httpd read-role`);
    /// uploads and the audit log keep the server's role.
    #[arg(long, value_name = "ROLE")]
    read_role: Option<String>,
    /// Directory of the MaxMind .mmdb files (for /ipdata).
    #[arg(long, value_name = "DIR")]
    geoip_dir: Option<PathBuf>,
    /// More messages on stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only warnings and errors on stderr (no access log).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Manage the API keys.
    #[command(subcommand)]
    Keys(Keys),
    /// Create (or update) a role that may only read the database, for --read-role: SELECT on
    /// every table, now and later; the connecting user becomes a member (needs CREATEROLE once).
    ReadRole {
        /// Name of the role (default: the web read role of the documentation; printed when done).
        #[arg(default_value = ivre_pg::web::READ_ROLE, hide_default_value = true)]
        name: String,
    },
}

#[derive(Subcommand)]
enum Keys {
    /// Create a key and print it (the only time it is shown).
    Add {
        /// Who or what uses the key.
        name: String,
        /// Who the key belongs to (its keys are the ones it may list, create and revoke
        /// through the web API; default: the key's name).
        #[arg(long, value_name = "OWNER")]
        owner: Option<String>,
        /// Permissions: read, upload, admin (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "read")]
        perm: Vec<String>,
        /// Base filter (q= syntax) ANDed to every query made with the key.
        #[arg(long, value_name = "QUERY")]
        filter: Option<String>,
    },
    /// List the keys (name, prefix, permissions, base filter, state).
    List,
    /// Revoke a key.
    Revoke { name: String },
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    ivre_web::init_logging(cli.verbose, cli.quiet);
    if let Some(Command::ReadRole { name }) = &cli.command {
        return ivre_cli::run("ivre-httpd", || {
            let mut client = ivre_pg::connect(cli.db.as_deref())?;
            let created = ivre_pg::web::create_read_role(&mut client, name)?;
            println!(
                "role {name} {}: SELECT only; serve with: ivre-httpd --read-role {name}",
                if created { "created" } else { "updated" }
            );
            Ok(ExitCode::SUCCESS)
        });
    }
    if let Some(Command::Keys(action)) = &cli.command {
        return ivre_cli::run("ivre-httpd", || {
            let mut client = ivre_pg::connect(cli.db.as_deref())?;
            match action {
                Keys::Add {
                    name,
                    owner,
                    perm,
                    filter,
                } => {
                    println!(
                        "{}",
                        ivre_web::keys::add(
                            &mut client,
                            name,
                            owner.as_deref(),
                            perm,
                            filter.as_deref()
                        )?
                    )
                }
                Keys::List => ivre_web::keys::list(&mut client, &mut std::io::stdout())?,
                Keys::Revoke { name } => ivre_web::keys::revoke(&mut client, name)?,
            }
            Ok(ExitCode::SUCCESS)
        });
    }
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
        read_role: cli.read_role,
        config: WebConfig {
            prefix,
            default_limit: cli.limit,
            max_results: cli.max_results,
            upload_ok: cli.upload,
            max_upload: cli.max_upload.saturating_mul(1 << 20),
            auth_required: (cli.auth || !cli.bind.is_loopback()) && !cli.no_auth,
            key_cache: Duration::from_secs(cli.key_cache),
        },
    };
    ivre_cli::run("ivre-httpd", || {
        ivre_web::run(opts)?;
        Ok(ExitCode::SUCCESS)
    })
}
