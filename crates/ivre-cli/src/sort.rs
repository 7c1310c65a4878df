//! `ivre-sort`: sorts lines by the IP address they hold (numerically, IPv4
//! before IPv6; lines without an address after, by text), where `sort(1)`
//! would put `10.0.0.10` before `10.0.0.9`. The ordering lives in
//! `ivre_model::ipcalc` ([`SortKey`]).
//!
//! Sorting needs every line: they are held in memory (one `String` each,
//! keys computed once), as `sort(1)` does below its buffer size.

use crate::input;
use clap::Args;
use ivre_model::ipcalc::{FieldSpec, SortKey};
use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

/// The arguments of `ivre-sort`.
#[derive(Debug, Args)]
pub struct SortArgs {
    /// Files to sort together (gzip, bzip2, xz, zstd recognised); none, or `-`, reads stdin
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    /// Sort on this field (1 is the first) instead of the line's first word
    #[arg(short = 'k', long = "key", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub field: u16,
    /// Fields are separated by this text (default: runs of blanks)
    #[arg(short = 't', long = "field-separator", value_name = "SEP")]
    pub separator: Option<String>,
    /// Largest address first
    #[arg(short, long)]
    pub reverse: bool,
    /// Print only the first of lines that are equal
    #[arg(short, long)]
    pub unique: bool,
}

/// Runs `ivre-sort`.
pub fn run(args: &SortArgs) -> ExitCode {
    crate::run("ivre-sort", || {
        let spec = FieldSpec {
            field: args.field as usize,
            separator: args.separator.clone(),
        };
        let files = if args.files.is_empty() {
            vec!["-".to_string()]
        } else {
            args.files.clone()
        };
        let mut lines: Vec<(SortKey, String)> = Vec::new();
        for path in &files {
            let mut reader = input::open(path)?.reader;
            let mut buf = Vec::new();
            loop {
                buf.clear();
                if reader.read_until(b'\n', &mut buf)? == 0 {
                    break;
                }
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                    if buf.last() == Some(&b'\r') {
                        buf.pop();
                    }
                }
                let line = String::from_utf8_lossy(&buf).into_owned();
                lines.push((spec.key(&line), line));
            }
        }
        lines.sort_unstable();
        if args.unique {
            lines.dedup_by(|a, b| a.1 == b.1);
        }
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
        let mut write = |line: &str| writeln!(out, "{line}");
        if args.reverse {
            lines.iter().rev().try_for_each(|(_, l)| write(l))?;
        } else {
            lines.iter().try_for_each(|(_, l)| write(l))?;
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
