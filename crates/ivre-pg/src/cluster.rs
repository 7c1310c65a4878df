//! A private PostgreSQL cluster run from the server binaries installed on the
//! machine: the embedded default database of the tools, and the throwaway
//! cluster of the test harness.
//!
//! The cluster listens on a unix socket in its own directory and on no TCP
//! port, trusts local connections, and has one superuser, `ivre`. `initdb` and
//! `postgres` refuse to run as root, so when the caller is root the cluster
//! belongs to an unprivileged system user (`postgres`, else `nobody`).

use crate::{with_causes, Error, Result};
use std::ffi::CString;
use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The superuser of our clusters, and the database the tools use in them.
pub const CLUSTER_USER: &str = "ivre";

/// The socket file the server creates in the socket directory (port 5432).
const SOCKET_NAME: &str = ".s.PGSQL.5432";

/// The longest unix socket path the kernel accepts (`sun_path` is 108 bytes
/// with the terminating NUL); PostgreSQL refuses longer ones at start.
pub const SOCKET_PATH_MAX: usize = 107;

/// Where PostgreSQL server binaries may live, in order of preference.
pub fn find_server_bindir() -> Result<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Ok(dir);
        }
    }
    // Debian and Ubuntu install one directory per major version; take the newest.
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            Some((major, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_server(&dir) {
                return Ok(dir);
            }
        }
    }
    Err(Error::Setup(
        "no PostgreSQL server binaries found (looked in `pg_config --bindir`, \
         /usr/lib/postgresql/*/bin and PATH): install them (Debian/Ubuntu: \
         `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; \
         macOS: `brew install postgresql`), or point the tools at an existing \
         server with --db URL or IVRE_DB"
            .into(),
    ))
}

/// A cluster directory: `data/` (PGDATA), the socket and `server.log` beside it.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    pub dir: PathBuf,
    bindir: PathBuf,
    /// Set when we are root: the account the server runs as.
    run_as: Option<(u32, u32)>,
    /// Extra server settings given at start (`-c name=value`).
    settings: Vec<(String, String)>,
}

impl LocalCluster {
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let run_as = if unsafe { libc::geteuid() } == 0 {
            Some(unprivileged_account()?)
        } else {
            None
        };
        Ok(LocalCluster {
            dir: dir.into(),
            bindir: find_server_bindir()?,
            run_as,
            settings: Vec::new(),
        })
    }

    /// A server setting given at each start, e.g. `shared_preload_libraries`
    /// = `citus` for the nodes of a Citus test cluster. `value` is ours,
    /// never user input; it must not hold a single quote.
    pub fn with_setting(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.to_string(), value.to_string()));
        self
    }

    /// The directory of the server binaries (`initdb`, `pg_ctl`, ...).
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The directory holding the unix socket: what libpq calls `host`.
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    pub fn is_initialized(&self) -> bool {
        self.data_dir().join("PG_VERSION").is_file()
    }

    pub fn is_running(&self) -> bool {
        self.socket_path().exists() && self.pg_ctl(&["status"]).is_ok()
    }

    /// The unix socket the server listens on.
    pub fn socket_path(&self) -> PathBuf {
        self.socket_dir().join(SOCKET_NAME)
    }

    /// Refuses a directory whose socket path the kernel would not accept,
    /// before initdb or pg_ctl fail with a message that does not say why.
    pub fn check_socket_path(&self) -> Result<()> {
        let socket = self.socket_path();
        let len = socket.as_os_str().len();
        if len > SOCKET_PATH_MAX {
            return Err(Error::Setup(format!(
                "the cluster directory {} is too deep for a unix socket: {} would be {len} bytes \
                 long, the limit is {SOCKET_PATH_MAX}; choose a shorter directory \
                 (XDG_DATA_HOME) or another server (--db, IVRE_DB)",
                self.dir.display(),
                socket.display()
            )));
        }
        Ok(())
    }

    /// The process id of the running server, from `postmaster.pid`.
    pub fn server_pid(&self) -> Option<u32> {
        if !self.is_running() {
            return None;
        }
        let text = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// The bytes the cluster directory holds (files only, as `du --apparent-size`).
    pub fn disk_usage(&self) -> u64 {
        fn walk(dir: &Path) -> u64 {
            let Ok(entries) = fs::read_dir(dir) else {
                return 0;
            };
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&e.path()),
                    Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
                    _ => 0,
                })
                .sum()
        }
        walk(&self.dir)
    }

    /// `psql` of the server binaries' version, else the one on PATH.
    pub fn psql_program(&self) -> PathBuf {
        let beside = self.bindir.join("psql");
        if beside.is_file() {
            beside
        } else {
            PathBuf::from("psql")
        }
    }

    /// A libpq connection string for `dbname` in this cluster.
    pub fn connection_string(&self, dbname: &str) -> String {
        format!(
            "host={} user={CLUSTER_USER} dbname={dbname}",
            self.socket_dir().display()
        )
    }

    /// Creates the cluster directory and runs initdb.
    pub fn init(&self) -> Result<()> {
        self.check_socket_path()?;
        fs::create_dir_all(&self.dir)
            .map_err(|e| Error::Setup(format!("cannot create {}: {e}", self.dir.display())))?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(&self.dir, e))?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&self.dir, Some(uid), Some(gid))
                .map_err(|e| Error::io(&self.dir, e))?;
        }
        let data = self.data_dir();
        self.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                CLUSTER_USER.as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )
    }

    /// Starts the server (socket only) and waits until it accepts connections.
    pub fn start(&self) -> Result<()> {
        self.check_socket_path()?;
        let mut opts = format!(
            "-k '{}' -c listen_addresses='' -c fsync=on -c unix_socket_permissions=0700",
            self.socket_dir().display()
        );
        for (name, value) in &self.settings {
            opts.push_str(&format!(" -c {name}='{value}'"));
        }
        let log = self.dir.join("server.log");
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                opts.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        )
        .map_err(|e| Error::Setup(format!("see {}: {e}", log.display())))
    }

    /// Stops the server at once (used for throwaway clusters).
    pub fn stop(&self) -> Result<()> {
        self.pg_ctl(&["-m", "immediate", "stop"])
    }

    /// Stops the server cleanly (sessions are ended, data is flushed) and
    /// waits until it is gone.
    pub fn shutdown(&self) -> Result<()> {
        self.pg_ctl(&["-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Stops the server if it runs, then removes the cluster directory and
    /// its lock file: every database in it is gone.
    pub fn destroy(&self) -> Result<()> {
        if self.is_running() {
            self.shutdown()?;
        }
        if self.dir.exists() {
            fs::remove_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        }
        let lock = self.lock_path();
        if lock.exists() {
            fs::remove_file(&lock).map_err(|e| Error::io(&lock, e))?;
        }
        Ok(())
    }

    /// The lock file that serialises tools starting the cluster at once.
    fn lock_path(&self) -> PathBuf {
        self.dir.with_extension("lock")
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<()> {
        let data = self.data_dir();
        let mut all: Vec<&std::ffi::OsStr> = vec!["-D".as_ref(), data.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        self.run("pg_ctl", &all)
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
        let mut cmd = Command::new(self.bindir.join(program));
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        let out = cmd.output().map_err(|e| {
            Error::Setup(format!(
                "cannot run {}: {e}",
                self.bindir.join(program).display()
            ))
        })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            return Err(Error::Setup(format!(
                "{program} failed ({}): {}",
                out.status,
                format!("{stderr}{stdout}").trim()
            )));
        }
        Ok(())
    }

    /// Creates a database (the cluster starts with `postgres` only).
    pub fn create_database(&self, name: &str) -> Result<()> {
        let setup = |e: postgres::Error| Error::Setup(with_causes(&e));
        let mut admin = self
            .connection_string("postgres")
            .parse::<postgres::Config>()
            .map_err(setup)?
            .connect(postgres::NoTls)
            .map_err(setup)?;
        // `name` is ours (a constant or a generated test name), never user input.
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .map_err(setup)
    }

    /// Creates the cluster if needed and starts it if it is not running.
    /// A lock file serialises tools that start at the same moment.
    /// Returns what was done, for the one line the tools print.
    pub fn ensure_running(&self) -> Result<Option<&'static str>> {
        self.check_socket_path()?;
        let parent = self.dir.parent().unwrap_or(Path::new("/"));
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let lock_path = self.lock_path();
        let lock = File::create(&lock_path)
            .map_err(|e| Error::Setup(format!("cannot create {}: {e}", lock_path.display())))?;
        lock.lock()
            .map_err(|e| Error::Setup(format!("cannot lock {}: {e}", lock_path.display())))?;
        let done = if !self.is_initialized() {
            self.init()?;
            self.start()?;
            self.create_database(CLUSTER_USER)?;
            Some("created and started")
        } else if !self.is_running() {
            self.start()?;
            Some("started")
        } else {
            None
        };
        Ok(done)
    }
}

/// The uid and gid of the account that runs servers for root.
fn unprivileged_account() -> Result<(u32, u32)> {
    for name in ["postgres", "nobody"] {
        let cname = CString::new(name).expect("static name");
        // SAFETY: getpwnam returns NULL or a pointer to a static passwd entry,
        // read at once and before any other getpw* call of ours.
        let pw = unsafe { libc::getpwnam(cname.as_ptr()) };
        if !pw.is_null() {
            let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
            return Ok((uid, gid));
        }
    }
    Err(Error::Setup(
        "running as root, and neither a `postgres` nor a `nobody` account exists to run the PostgreSQL server"
            .into(),
    ))
}
