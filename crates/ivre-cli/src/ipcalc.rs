//! `ivre-ipcalc`: address arithmetic (the computations live in
//! `ivre_model::ipcalc`): a network to `first-last`, a range to its
//! networks, an address to its integer and an integer to its address.

use crate::{input, UsageError};
use clap::Args;
use ivre_model::ipcalc::Request;
use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

/// The arguments of `ivre-ipcalc`.
#[derive(Debug, Args)]
pub struct IpcalcArgs {
    /// `ADDR/PREFIX`, `A-B` (or `A - B` as three arguments), an address or an
    /// integer; none, or `-`, reads one request per line from stdin
    #[arg(value_name = "REQUEST", allow_hyphen_values = true)]
    pub requests: Vec<String>,
}

/// Runs `ivre-ipcalc`.
pub fn run(args: &IpcalcArgs) -> ExitCode {
    crate::run("ivre-ipcalc", || {
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        let from_stdin = args.requests.is_empty() || args.requests == ["-"];
        if !from_stdin {
            let requests: Vec<Request> = Request::parse_args(&args.requests)
                .into_iter()
                .collect::<Result<_, _>>()
                .map_err(|e| UsageError(e.to_string()))?;
            for r in requests {
                write_answer(&mut out, &r)?;
            }
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut failed = false;
        let mut reader = input::open("-")?.reader;
        let mut line = String::new();
        for lineno in 1.. {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.is_empty() || words[0].starts_with('#') {
                continue;
            }
            for r in Request::parse_args(&words) {
                match r {
                    Ok(r) => write_answer(&mut out, &r)?,
                    Err(e) => {
                        out.flush()?;
                        eprintln!("ivre-ipcalc: error: <stdin>, line {lineno}: {e}");
                        failed = true;
                    }
                }
            }
        }
        out.flush()?;
        Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
}

fn write_answer(out: &mut impl Write, r: &Request) -> io::Result<()> {
    for line in r.answer() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
