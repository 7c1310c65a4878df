//! `ivre-weblog2db`: import web server access logs into the passive purpose.

use clap::Parser;
use ivre_cli::passive::{run_import_with, weblog_records, zeek_infos, PassiveImportArgs};
use ivre_cli::CommonArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-weblog2db",
    version,
    about = "Import web server access logs (Apache / Nginx combined format) into the passive purpose",
    after_help = "Each request's User-Agent is stored as an HTTP_CLIENT_HEADER / USER-AGENT \
observation of the client address, seen at the request's time (counted, first and last seen, \
as Zeek's). Lines without a user agent (\"-\", or the common log format) give nothing; a line \
that cannot be read is reported with its file and line number and skipped.

Examples:
  ivre-weblog2db -s www1 /var/log/nginx/access.log /var/log/nginx/access.log.*.gz
  ivre-weblog2db -s www1 --follow /var/log/apache2/access.log
  ivre-ipinfo --useragent /curl/ --sensor www1

Exit status: 0 success, 1 a bad line or file (named on stderr), 2 a bad option."
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    import: PassiveImportArgs,
}

fn main() -> ExitCode {
    let cli = ivre_cli::parse_args::<Cli>();
    cli.common.init_logging();
    ivre_cli::run("ivre-weblog2db", || {
        run_import_with(&cli.common, &cli.import, weblog_records, zeek_infos)
    })
}
