//! `ivre TOOL ARGS...` runs `ivre-TOOL ARGS...`, as IVRE's own `ivre` command does.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn usage() -> String {
    let mut text = String::from(
        "Usage: ivre TOOL [ARGS...]   (runs ivre-TOOL, found next to ivre, then on PATH)\n       \
         ivre help [TOOL] | ivre --version\n\nTools:\n",
    );
    for (name, what) in ivre_cli::tools::TOOLS {
        text.push_str(&format!("  {name:<16} {what}\n"));
    }
    text.push_str("\nExample: nmap -oX - 192.0.2.0/24 | ivre scan2db -c LAN -s scanner1 && ivre scancli --count\n");
    text
}

/// `ivre-TOOL` beside this executable, else the bare name for a PATH lookup.
fn locate(tool: &str) -> PathBuf {
    let name = format!("ivre-{tool}");
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(&name)))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(first) = args.next() else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    let rest: Vec<_> = args.collect();
    match first.to_str() {
        Some("help" | "-h" | "--help") => match rest.first() {
            Some(tool) => exec(&tool.to_string_lossy(), &["--help".into()]),
            None => {
                print!("{}", usage());
                ExitCode::SUCCESS
            }
        },
        Some("--version" | "-V" | "version") => {
            println!("ivre {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(tool) if !tool.starts_with('-') => exec(tool, &rest),
        _ => {
            eprint!("{}", usage());
            ExitCode::from(2)
        }
    }
}

fn exec(tool: &str, args: &[std::ffi::OsString]) -> ExitCode {
    let tool = tool.strip_prefix("ivre-").unwrap_or(tool);
    let path = locate(tool);
    let err = Command::new(&path).args(args).exec();
    if err.kind() == std::io::ErrorKind::NotFound {
        eprintln!(
            "ivre: error: unknown tool {tool:?} (no ivre-{tool} next to ivre or on PATH); try `ivre help`"
        );
        ExitCode::from(2)
    } else {
        eprintln!("ivre: error: cannot run {}: {err}", path.display());
        ExitCode::from(1)
    }
}
