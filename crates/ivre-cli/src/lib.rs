//! What every IVRE tool shares, so that each `bin/ivre-*.rs` reads as what it
//! does: the `--db` and `-v/-q` options ([`CommonArgs`]), opening inputs with
//! transparent decompression ([`input`]), progress bars ([`progress`]) and the
//! exit status convention ([`run`]): 0 success, 1 error, 2 usage (clap, or
//! a filter the database refuses).

pub mod args;
pub mod auditdom;
pub mod db;
pub mod db2view;
pub mod flow2db;
pub mod flowcli;
pub mod geoip_download;
pub mod getmoduli;
pub mod input;
pub mod ipcalc;
pub mod ipdata;
pub mod iphost;
pub mod ipinfo;
pub mod iprange;
pub mod macinfo;
pub mod output;
pub mod passive;
pub mod passivefilter;
pub mod pipeline;
pub mod probes;
pub mod progress;
pub mod rir_download;
pub mod rirlookup;
pub mod runscans;
pub mod scan;
pub mod scancli;
pub mod sort;
pub mod tools;
pub mod view;

use clap::Args;
use std::process::ExitCode;

/// This program's name (`ivre-scancli`), as messages start with it.
pub fn program_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ivre".into())
}

/// Parses the command line as clap does, but a usage error reads
/// `tool: error: …` like every other message of the suite (exit status 2);
/// `--help` and `--version` print as usual.
pub fn parse_args<T: clap::Parser>() -> T {
    T::try_parse().unwrap_or_else(|e| {
        use clap::error::ErrorKind;
        if matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        ) {
            e.exit()
        }
        let text = e.render().to_string();
        let text = text.strip_prefix("error: ").unwrap_or(&text);
        eprint!("{}: error: {text}", program_name());
        std::process::exit(e.exit_code())
    })
}

/// Options every tool takes. Flatten it into the tool's clap struct.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    // The help names the real default location: see db_help.
    #[arg(long, global = true, value_name = "URL", help = db_help())]
    pub db: Option<String>,

    /// More messages on stderr (repeat for debug output).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The help of `--db`, naming where this user's private cluster lives.
fn db_help() -> String {
    format!(
        "Database: a postgresql:// URL or libpq key=value string. Default: $IVRE_DB, \
         else the libpq environment (PGHOST, PGDATABASE, ...), else a private cluster \
         in {} that is created on first use (`ivre db status`)",
        ivre_pg::config::embedded_dir().display()
    )
}

impl CommonArgs {
    /// Sets up logging to stderr at the chosen level (RUST_LOG overrides).
    pub fn init_logging(&self) {
        let level = match (self.quiet, self.verbose) {
            (true, _) => log::LevelFilter::Error,
            (false, 0) => log::LevelFilter::Warn,
            (false, 1) => log::LevelFilter::Info,
            (false, _) => log::LevelFilter::Debug,
        };
        let program = program_name();
        let mut builder = env_logger::Builder::new();
        builder
            .filter_level(level)
            .format(move |out, record| {
                use std::io::Write;
                let kind = match record.level() {
                    log::Level::Error => "error: ",
                    log::Level::Warn => "warning: ",
                    log::Level::Info => "",
                    log::Level::Debug | log::Level::Trace => "debug: ",
                };
                writeln!(out, "{program}: {kind}{}", record.args())
            })
            .parse_default_env();
        let _ = builder.try_init();
    }

    /// The closing summary line of an import, on stderr unless `--quiet`.
    pub fn summary(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// Connects to the chosen database and applies pending migrations.
    pub fn connect(&self) -> anyhow::Result<postgres::Client> {
        Ok(ivre_pg::connect(self.db.as_deref())?)
    }
}

/// Runs a tool's body and turns its outcome into the exit status: an error is
/// printed as one line (`tool: error: cause: cause`) and gives status 2 when
/// the request was wrong (see [`failure_status`]), else 1.
pub fn run(tool: &str, body: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    match body() {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                // `tool | head` is normal use, not an error.
                return ExitCode::SUCCESS;
            }
            eprintln!("{tool}: error: {e:#}");
            ExitCode::from(failure_status(&e))
        }
    }
}

/// A request the tool refuses as given (exit status 2, as clap's errors),
/// e.g. a destructive action without `--yes` and no terminal to ask on.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// 2 (usage, as clap's errors) when the error comes from the user's request:
/// a [`UsageError`],
/// a filter or passive DNS query that cannot be built
/// ([`ivre_model::filter::FilterError`], [`ivre_model::passive::dns::DnsQueryError`])
/// or an [`ivre_pg::Error`] of class [`ivre_pg::ErrorClass::Usage`] (bad
/// filter, bad regular expression) anywhere in its chain; 1 for anything else.
fn failure_status(e: &anyhow::Error) -> u8 {
    let from_request = e.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause.is::<ivre_model::filter::FilterError>()
            || cause.is::<ivre_model::passive::dns::DnsQueryError>()
            || cause
                .downcast_ref::<ivre_pg::Error>()
                .is_some_and(|pg| pg.class() == ivre_pg::ErrorClass::Usage)
    });
    if from_request {
        2
    } else {
        1
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Asks a yes/no question on a terminal (destructive actions); anything
/// but a terminal on stdin (scripts, cron) counts as yes.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    use std::io::{IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Exit status 1 when something failed along the way but the run went on.
pub fn exit_status(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
pub mod scanfilter;

#[cfg(test)]
mod tests {
    use super::failure_status;

    #[test]
    fn a_bad_request_exits_2_anything_else_1() {
        let bad_regex: anyhow::Error =
            ivre_pg::Error::BadRegex("brackets [] not balanced".into()).into();
        assert_eq!(failure_status(&bad_regex), 2);
        let bad_filter_in_context =
            anyhow::Error::new(ivre_pg::Error::BadFilter("unknown field".into()))
                .context("--top bogus");
        assert_eq!(failure_status(&bad_filter_in_context), 2);
        let bad_value = anyhow::Error::new(ivre_model::filter::FilterError("invalid port".into()))
            .context("--port http");
        assert_eq!(failure_status(&bad_value), 2);
        let setup: anyhow::Error = ivre_pg::Error::Setup("no server binaries".into()).into();
        assert_eq!(failure_status(&setup), 1);
        let unreachable: anyhow::Error = ivre_pg::Error::Connect {
            target: "socket /nonexistent".into(),
            reason: "No such file or directory".into(),
        }
        .into();
        assert_eq!(failure_status(&unreachable), 1);
        assert_eq!(failure_status(&anyhow::anyhow!("disk full")), 1);
    }
}
