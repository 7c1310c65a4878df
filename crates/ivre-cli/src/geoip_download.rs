//! `ivre-ipdata --download`: MaxMind's free GeoLite2 ASN, Country and City
//! databases, fetched as geoipupdate does (HTTP basic authentication with
//! the account ID and licence key), each archive checked against the
//! SHA-256 MaxMind publishes beside it, and its `.mmdb` put in place by a
//! rename, so that a tool reading the directory meanwhile sees the old
//! file or the new one, never half of one.
//!
//! The credentials come from the environment (`GEOIPUPDATE_ACCOUNT_ID`,
//! `GEOIPUPDATE_LICENSE_KEY`, geoipupdate's names) or from a geoipupdate
//! configuration file (`AccountID`, `LicenseKey`); never from the command
//! line, where other users would see them in the process list.

use anyhow::{bail, Context, Result};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The databases downloaded, by MaxMind's edition IDs (file name: ID.mmdb).
pub const EDITIONS: [&str; 3] = ["GeoLite2-ASN", "GeoLite2-Country", "GeoLite2-City"];

/// MaxMind's download service.
pub const DEFAULT_BASE_URL: &str = "https://download.maxmind.com";

pub const ENV_ACCOUNT_ID: &str = "GEOIPUPDATE_ACCOUNT_ID";
pub const ENV_LICENSE_KEY: &str = "GEOIPUPDATE_LICENSE_KEY";

/// Where geoipupdate's configuration usually is.
pub const DEFAULT_CONF_FILES: [&str; 2] = ["/etc/GeoIP.conf", "/usr/local/etc/GeoIP.conf"];

/// A MaxMind account's credentials.
pub struct Credentials {
    account_id: String,
    license_key: String,
}

impl Credentials {
    /// From the environment, else from `conf` (or the first of
    /// [`DEFAULT_CONF_FILES`] that exists).
    pub fn find(conf: Option<&Path>) -> Result<Credentials> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let (Some(account_id), Some(license_key)) = (env(ENV_ACCOUNT_ID), env(ENV_LICENSE_KEY)) {
            return Ok(Credentials {
                account_id: account_id.trim().to_owned(),
                license_key: license_key.trim().to_owned(),
            });
        }
        let file = match conf {
            Some(file) => Some(file.to_path_buf()),
            None => DEFAULT_CONF_FILES
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file()),
        };
        let Some(file) = file else {
            bail!(
                "no MaxMind credentials: set {ENV_ACCOUNT_ID} and {ENV_LICENSE_KEY}, or write \
                 `AccountID …` and `LicenseKey …` lines in /etc/GeoIP.conf or a file given with \
                 --maxmind-conf (a free account: https://www.maxmind.com/en/geolite2/signup)"
            );
        };
        let text =
            fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        parse_conf(&text).with_context(|| file.display().to_string())
    }
}

/// The `AccountID` (or the older `UserId`) and `LicenseKey` of a
/// geoipupdate configuration.
fn parse_conf(text: &str) -> Result<Credentials> {
    let mut account_id = None;
    let mut license_key = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("AccountID" | "UserId"), Some(v)) => account_id = Some(v.to_owned()),
            (Some("LicenseKey"), Some(v)) => license_key = Some(v.to_owned()),
            _ => {}
        }
    }
    match (account_id, license_key) {
        (Some(account_id), Some(license_key)) => Ok(Credentials {
            account_id,
            license_key,
        }),
        _ => bail!("no `AccountID` and `LicenseKey` lines"),
    }
}

/// Downloads every edition of [`EDITIONS`] into `dir` (created if need
/// be); returns the files written.
pub fn download_all(base_url: &str, creds: &Credentials, dir: &Path) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(120))
        .user_agent(concat!("ivre-ipdata/", env!("CARGO_PKG_VERSION")))
        .build();
    EDITIONS
        .iter()
        .map(|edition| download_one(&agent, base_url, creds, dir, edition))
        .collect()
}

fn download_one(
    agent: &ureq::Agent,
    base_url: &str,
    creds: &Credentials,
    dir: &Path,
    edition: &str,
) -> Result<PathBuf> {
    let url = format!(
        "{}/geoip/databases/{edition}/download?suffix=tar.gz",
        base_url.trim_end_matches('/')
    );
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", creds.account_id, creds.license_key))
    );
    let get = |url: &str| -> Result<ureq::Response> {
        match agent.get(url).set("Authorization", &auth).call() {
            Ok(response) => Ok(response),
            Err(ureq::Error::Status(401, _)) => {
                bail!("{edition}: MaxMind refused the account ID and licence key (HTTP 401)")
            }
            Err(ureq::Error::Status(code, response)) => {
                bail!("{edition}: {url}: HTTP {code} {}", response.status_text())
            }
            Err(e) => Err(anyhow::Error::new(e).context(format!("{edition}: {url}"))),
        }
    };
    let published = get(&format!("{url}.sha256"))?
        .into_string()
        .with_context(|| format!("{edition}: reading the checksum"))?;
    let expected = published
        .split_whitespace()
        .next()
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
        .with_context(|| format!("{edition}: not a SHA-256 checksum: {:?}", published.trim()))?;

    // The archive goes to a file of its own beside the target, hashed on the way.
    let archive = TempFile::new(dir, &format!(".{edition}.tar.gz.part"))?;
    let mut hasher = Sha256::new();
    {
        let mut body = get(&url)?.into_reader();
        let mut out = io::BufWriter::new(File::create(&archive.0)?);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = body
                .read(&mut buf)
                .with_context(|| format!("{edition}: downloading"))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
        }
        out.flush()?;
    }
    let actual = hex::encode(hasher.finalize());
    if actual != expected {
        bail!("{edition}: checksum mismatch (got {actual}, MaxMind says {expected}); the current {edition}.mmdb is kept");
    }

    let target = dir.join(format!("{edition}.mmdb"));
    let staged = TempFile::new(dir, &format!(".{edition}.mmdb.part"))?;
    extract_mmdb(&archive.0, &format!("{edition}.mmdb"), &staged.0)
        .with_context(|| format!("{edition}: {}", archive.0.display()))?;
    let file = Some(staged.0.as_path());
    let opened = match edition {
        "GeoLite2-ASN" => ivre_data::GeoIpDb::open_files(file, None, None),
        "GeoLite2-Country" => ivre_data::GeoIpDb::open_files(None, file, None),
        _ => ivre_data::GeoIpDb::open_files(None, None, file),
    };
    opened.with_context(|| format!("{edition}: the downloaded database does not open"))?;
    fs::rename(&staged.0, &target)
        .with_context(|| format!("cannot replace {}", target.display()))?;
    Ok(target)
}

/// Copies the archive member named `name` (in any folder: MaxMind's is
/// `EDITION_YYYYMMDD/`) to `to`, synced to disk.
fn extract_mmdb(archive: &Path, name: &str, to: &Path) -> Result<()> {
    let gz = flate2::read::GzDecoder::new(io::BufReader::new(File::open(archive)?));
    let mut tar = tar::Archive::new(gz);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if path.file_name().and_then(|n| n.to_str()) == Some(name) {
            let mut out = File::create(to)?;
            io::copy(&mut entry, &mut out)?;
            out.sync_all()?;
            return Ok(());
        }
    }
    bail!("no {name} in the archive")
}

/// A file removed when dropped (a download or an extraction that did not
/// end in place).
struct TempFile(PathBuf);

impl TempFile {
    fn new(dir: &Path, name: &str) -> Result<TempFile> {
        let path = dir.join(format!("{name}-{}", std::process::id()));
        File::create(&path).with_context(|| format!("cannot write in {}", dir.display()))?;
        Ok(TempFile(path))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_conf;

    #[test]
    fn geoipupdate_configurations_give_the_credentials() {
        let conf = "# GeoIP.conf\nAccountID 123456\nLicenseKey abcDEF_123\nEditionIDs GeoLite2-ASN GeoLite2-City\n";
        let creds = parse_conf(conf).unwrap();
        assert_eq!(creds.account_id, "123456");
        assert_eq!(creds.license_key, "abcDEF_123");
        let old = parse_conf("UserId 42\nLicenseKey k\n").unwrap();
        assert_eq!(old.account_id, "42");
        assert!(parse_conf("AccountID 1\n").is_err());
        assert!(parse_conf("# LicenseKey commented\nAccountID 1\n").is_err());
    }
}
