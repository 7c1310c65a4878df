//! `ivre-getmoduli`: RSA moduli of the stored TLS certificates and SSH host keys.

use clap::Parser;
use ivre_cli::getmoduli::{run, GetmoduliArgs};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ivre-getmoduli",
    version,
    about = "List the RSA moduli of the stored TLS certificates and SSH host keys, with their servers",
    after_help = "Sources: certificates and SSH host keys of the scans (ssl-cert, ssh-hostkey) and \
of the passive purpose (SSL_SERVER certificates, SSH_SERVER_HOSTKEY); without a source flag, all \
four. Each line: MODULUS (hexadecimal) COUNT SERVERS (addr:port, comma separated), in modulus \
order; a modulus shared by unrelated servers, or sharing a factor with another (batch GCD on the \
--moduli-only output), reveals a weak key.

Examples:
  ivre-getmoduli
  ivre-getmoduli -p -s --json
  ivre-getmoduli --moduli-only > moduli.hex && fastgcd moduli.hex

Exit status: 0 success, 1 an error (or a stored key whose modulus cannot be read), 2 a bad option."
)]
struct Cli {
    #[command(flatten)]
    args: GetmoduliArgs,
}

fn main() -> ExitCode {
    run(&ivre_cli::parse_args::<Cli>().args)
}
