//! `ivre-rirlookup --download`: the RIRs' RPSL bulk dumps fetched into a
//! directory with conditional GETs (`If-Modified-Since` the local copy's
//! time, which is set to the server's `Last-Modified`): an unchanged dump
//! is not downloaded again. A dump is written beside its target and renamed
//! over it once complete, so that a reader sees the old file or the new one.

use anyhow::{bail, Context, Result};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The RPSL dumps of the five RIRs (inetnum, inet6num and aut-num objects).
pub const DEFAULT_URLS: &[&str] = &[
    "https://ftp.ripe.net/ripe/dbase/split/ripe.db.inetnum.gz",
    "https://ftp.ripe.net/ripe/dbase/split/ripe.db.inet6num.gz",
    "https://ftp.ripe.net/ripe/dbase/split/ripe.db.aut-num.gz",
    "https://ftp.apnic.net/apnic/whois/apnic.db.inetnum.gz",
    "https://ftp.apnic.net/apnic/whois/apnic.db.inet6num.gz",
    "https://ftp.apnic.net/apnic/whois/apnic.db.aut-num.gz",
    "https://ftp.afrinic.net/pub/dbase/afrinic.db.gz",
    "https://ftp.lacnic.net/lacnic/dbase/lacnic.db.gz",
    "https://ftp.arin.net/pub/rr/arin.db.gz",
];

/// What became of one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Downloaded to this file.
    New(PathBuf),
    /// The server says the local copy is current (HTTP 304).
    Unchanged(PathBuf),
}

/// Downloads each of `urls` into `dir` (created if need be), under the
/// last part of its path. Every URL is tried; the first error is returned
/// after the others.
pub fn download(urls: &[String], dir: &Path) -> Vec<Result<Fetched>> {
    if let Err(e) = fs::create_dir_all(dir) {
        return vec![Err(
            anyhow::Error::new(e).context(format!("cannot create {}", dir.display()))
        )];
    }
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(300))
        .user_agent(concat!("ivre-rirlookup/", env!("CARGO_PKG_VERSION")))
        .build();
    urls.iter().map(|u| fetch(&agent, u, dir)).collect()
}

fn http_date(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn fetch(agent: &ureq::Agent, url: &str, dir: &Path) -> Result<Fetched> {
    let name = url
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .with_context(|| format!("{url}: no file name at the end of the URL"))?;
    let target = dir.join(name);
    let mut request = agent.get(url);
    if let Ok(modified) = fs::metadata(&target).and_then(|m| m.modified()) {
        request = request.set("If-Modified-Since", &http_date(modified));
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => bail!("{url}: HTTP {code} {}", r.status_text()),
        Err(e) => return Err(anyhow::Error::new(e).context(url.to_string())),
    };
    if response.status() == 304 {
        return Ok(Fetched::Unchanged(target));
    }
    let last_modified = response
        .header("Last-Modified")
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
        .map(SystemTime::from);
    let part = dir.join(format!(".{name}.part-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut body = response.into_reader();
        let mut out = io::BufWriter::new(File::create(&part)?);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = body
                .read(&mut buf)
                .with_context(|| format!("{url}: downloading"))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n])?;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        if let Some(t) = last_modified {
            file.set_modified(t)?;
        }
        file.sync_all()?;
        fs::rename(&part, &target)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result.with_context(|| format!("{url} -> {}", target.display()))?;
    Ok(Fetched::New(target))
}
