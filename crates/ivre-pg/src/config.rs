//! Which database a tool talks to, decided the same way by every tool:
//! `--db URL`, else `IVRE_DB`, else the libpq environment (`PGHOST`,
//! `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`), else the embedded default
//! cluster under the user's data directory.

use crate::cluster::{LocalCluster, CLUSTER_USER};
use crate::{with_causes, Error, Result};
use postgres::config::Host;
use postgres::Config;
use std::path::PathBuf;
use std::time::Duration;

/// libpq variables we honour; any of them set means "use the libpq environment".
const LIBPQ_VARS: &[&str] = &["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER"];

/// Where the connection settings came from (shown in error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbOrigin {
    Flag,
    IvreDbVar,
    LibpqEnv,
    Embedded(PathBuf),
}

/// A resolved database target.
#[derive(Debug, Clone)]
pub struct DbTarget {
    pub config: Config,
    pub origin: DbOrigin,
}

impl DbTarget {
    /// Resolves `--db` (when given) and the environment into a target.
    pub fn resolve(flag: Option<&str>) -> Result<DbTarget> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (mut config, origin) = if let Some(url) = flag {
            (parse(url)?, DbOrigin::Flag)
        } else if let Some(url) = env("IVRE_DB") {
            (
                parse(&url).map_err(|e| Error::Setup(format!("in IVRE_DB: {e}")))?,
                DbOrigin::IvreDbVar,
            )
        } else if LIBPQ_VARS.iter().any(|v| env(v).is_some()) {
            (Config::new(), DbOrigin::LibpqEnv)
        } else {
            let dir = embedded_dir();
            let cluster = LocalCluster::new(&dir)?;
            (
                parse(&cluster.connection_string(CLUSTER_USER))?,
                DbOrigin::Embedded(dir),
            )
        };
        apply_libpq_defaults(&mut config);
        Ok(DbTarget { config, origin })
    }

    /// `host/socket, database` as a user would name them.
    pub fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => format!("socket {}", path.display()),
            })
            .collect();
        let ports: Vec<String> = self
            .config
            .get_ports()
            .iter()
            .map(|p| p.to_string())
            .collect();
        format!(
            "{}{}, database \"{}\"",
            hosts.join(","),
            if ports.is_empty() {
                String::new()
            } else {
                format!(" port {}", ports.join(","))
            },
            self.config.get_dbname().unwrap_or("?")
        )
    }
}

fn parse(s: &str) -> Result<Config> {
    s.parse::<Config>().map_err(|e| {
        Error::Setup(format!(
            "invalid connection string {:?} (expected a postgresql:// URL or key=value pairs): {}",
            redact_password(s),
            with_causes(&e)
        ))
    })
}

/// What a message may show of a connection string: the password, in the
/// URL's user part or as a `password` parameter, becomes `***`.
fn redact_password(s: &str) -> String {
    match ["postgresql://", "postgres://"]
        .into_iter()
        .find_map(|scheme| Some((scheme, s.strip_prefix(scheme)?)))
    {
        Some((scheme, rest)) => {
            // `user:password@`: up to the last `@`, so that a password with
            // an unescaped `@` is hidden whole.
            let rest = match rest.rfind('@') {
                Some(at) if rest[..at].contains(':') => {
                    let colon = rest.find(':').unwrap_or(at);
                    format!("{}:***{}", &rest[..colon], &rest[at..])
                }
                _ => rest.to_owned(),
            };
            format!("{scheme}{}", redact_parameter(&rest, |c| c == '&'))
        }
        None => redact_parameter(s, char::is_whitespace),
    }
}

/// Hides the value of every `password = value` in `s`: a quoted value up to
/// its closing quote, else up to a character for which `ends` holds.
fn redact_parameter(s: &str, ends: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.to_ascii_lowercase().find("password") {
        let after_key = &rest[at + "password".len()..];
        let value = after_key.trim_start();
        let Some(value) = value.strip_prefix('=') else {
            out.push_str(&rest[..at + "password".len()]);
            rest = after_key;
            continue;
        };
        let value = value.trim_start();
        out.push_str(&rest[..rest.len() - value.len()]);
        out.push_str("***");
        rest = &value[value_len(value, &ends)..];
    }
    out.push_str(rest);
    out
}

/// Length of a parameter value at the start of `s`: `'quoted \' text'`,
/// or up to a character for which `ends` holds.
fn value_len(s: &str, ends: impl Fn(char) -> bool) -> usize {
    if let Some(quoted) = s.strip_prefix('\'') {
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '\'' => return i + 2,
                _ => {}
            }
        }
        return s.len();
    }
    s.find(|c: char| ends(c)).unwrap_or(s.len())
}

/// Fills what the connection string left out, as libpq would.
fn apply_libpq_defaults(config: &mut Config) {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if config.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(hosts) => {
                for h in hosts.split(',') {
                    config.host(h);
                }
            }
            None => {
                // libpq's compiled-in socket directory: Debian's, then upstream's.
                let dir = ["/var/run/postgresql", "/tmp"]
                    .into_iter()
                    .find(|d| std::path::Path::new(d).is_dir())
                    .unwrap_or("/tmp");
                config.host_path(dir);
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_password().is_none() {
        if let Some(pw) = env("PGPASSWORD") {
            config.password(pw);
        }
    }
    if config.get_dbname().is_none() {
        let db = env("PGDATABASE").unwrap_or_else(|| config.get_user().unwrap_or("").to_owned());
        config.dbname(&db);
    }
    if config.get_connect_timeout().is_none() {
        let secs = env("PGCONNECT_TIMEOUT")
            .and_then(|t| t.parse().ok())
            .unwrap_or(5);
        config.connect_timeout(Duration::from_secs(secs));
    }
    if config.get_application_name().is_none() {
        config.application_name("ivre");
    }
}

/// `$XDG_DATA_HOME/ivre/pg` (default `~/.local/share/ivre/pg`). Root's home is
/// closed to the unprivileged account that runs the server, so without
/// `XDG_DATA_HOME` root's cluster lives in `/var/lib/ivre/pg`.
pub fn embedded_dir() -> PathBuf {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None if unsafe { libc::geteuid() } == 0 => PathBuf::from("/var/lib"),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/".into());
            PathBuf::from(home).join(".local/share")
        }
    };
    base.join("ivre").join("pg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_key_value_forms() {
        let t = DbTarget::resolve(Some("postgresql://bob@db.example:5433/scans")).unwrap();
        assert_eq!(t.describe(), "db.example port 5433, database \"scans\"");
        let t = DbTarget::resolve(Some("host=/run/pg dbname=ivre user=x")).unwrap();
        assert_eq!(t.describe(), "socket /run/pg, database \"ivre\"");
        assert_eq!(t.origin, DbOrigin::Flag);
        assert!(DbTarget::resolve(Some("postgresql://[bad")).is_err());
    }

    #[test]
    fn passwords_are_hidden_in_what_messages_show() {
        for (given, shown) in [
            (
                "postgresql://u:secretpw@db.example:5433/scans",
                "postgresql://u:***@db.example:5433/scans",
            ),
            (
                "postgres://u:sec@ret:pw@h/d?password=other&sslmode=x",
                "postgres://u:***@h/d?password=***&sslmode=x",
            ),
            ("postgresql://u@h/d", "postgresql://u@h/d"),
            ("postgresql://h/d?user=u", "postgresql://h/d?user=u"),
            (
                "host=h password=secretpw user=u",
                "host=h password=*** user=u",
            ),
            (
                "host=h password = 'secret \\' pw' user=u",
                "host=h password = *** user=u",
            ),
            ("host=h PASSWORD='unterminated", "host=h PASSWORD=***"),
            ("host=h passwords", "host=h passwords"),
        ] {
            assert_eq!(redact_password(given), shown, "{given}");
        }
    }

    #[test]
    fn a_connection_string_that_fails_to_parse_is_shown_without_its_password() {
        for bad in [
            "postgresql://u:secretpw@[db.example/scans",
            "postgresql://u:secretpw@h:port/scans",
            "host=h password=secretpw port=nan",
            "host=h password='secretpw",
        ] {
            let message = DbTarget::resolve(Some(bad)).unwrap_err().to_string();
            assert!(
                message.starts_with("invalid connection string"),
                "{message}"
            );
            assert!(!message.contains("secretpw"), "{message}");
        }
    }

    #[test]
    fn missing_host_defaults_to_a_socket_directory() {
        let t = DbTarget::resolve(Some("postgresql:///nonexistent")).unwrap();
        assert!(t.describe().starts_with("socket /"), "{}", t.describe());
        assert!(t.describe().ends_with("database \"nonexistent\""));
    }
}
