//! Test harness: every test gets a database of its own on a real PostgreSQL
//! server, so that tests run in parallel.
//!
//! With `IVRE_TEST_DB` (a connection string with rights to create databases)
//! the databases are made there. Otherwise a throwaway cluster is created in a
//! temporary directory, socket only, once per test binary; a watcher process
//! kills it and removes the directory when the test binary exits.

use ivre_pg::cluster::LocalCluster;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The server the test databases are created on.
struct Server {
    /// Connection string of an administrative database.
    admin: String,
    /// Connection string for a database name.
    make: Box<dyn Fn(&str) -> String + Send + Sync>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Some(url) = std::env::var("IVRE_TEST_DB").ok().filter(|v| !v.is_empty()) {
            let config: postgres::Config = url
                .parse()
                .expect("IVRE_TEST_DB is not a valid connection string");
            return Server {
                admin: url.clone(),
                make: Box::new(move |db| {
                    let mut c = config.clone();
                    c.dbname(db);
                    config_to_string(&c)
                }),
            };
        }
        let dir = tempfile::Builder::new()
            .prefix("ivre-test-pg-")
            .tempdir()
            .expect("temporary directory")
            .keep();
        let cluster = LocalCluster::new(&dir).expect("PostgreSQL server binaries");
        cluster.init().expect("initdb");
        cluster.start().expect("start the test cluster");
        watch_and_clean(&dir);
        let make_cluster = cluster.clone();
        Server {
            admin: cluster.connection_string("postgres"),
            make: Box::new(move |db| make_cluster.connection_string(db)),
        }
    })
}

/// libpq key=value form of a parsed config (for passing to the tools).
fn config_to_string(c: &postgres::Config) -> String {
    use postgres::config::Host;
    let mut parts = Vec::new();
    if let Some(Host::Tcp(h)) = c.get_hosts().first() {
        parts.push(format!("host={h}"));
    }
    if let Some(Host::Unix(p)) = c.get_hosts().first() {
        parts.push(format!("host={}", p.display()));
    }
    if let Some(p) = c.get_ports().first() {
        parts.push(format!("port={p}"));
    }
    if let Some(u) = c.get_user() {
        parts.push(format!("user={u}"));
    }
    if let Some(pw) = c.get_password() {
        parts.push(format!("password={}", String::from_utf8_lossy(pw)));
    }
    parts.push(format!("dbname={}", c.get_dbname().unwrap_or("postgres")));
    parts.join(" ")
}

/// Kills the cluster's postmaster and removes `dir` once this process is gone.
fn watch_and_clean(dir: &Path) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         pm=$(head -n1 '{d}/data/postmaster.pid' 2>/dev/null); \
         [ -n \"$pm\" ] && kill -QUIT \"$pm\"; sleep 1; rm -rf '{d}'",
        pid = std::process::id(),
        d = dir.display()
    );
    // Deliberately never waited for: it must outlive this process.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the cluster watcher");
}

/// A database of one test, dropped at the end of the test.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "ivre_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = postgres::Client::connect(&server().admin, postgres::NoTls)
            .expect("connect to the test server");
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create the test database");
        TestDb {
            url: (server().make)(&name),
            name,
        }
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to the test database")
    }

    /// One number from a query (counts).
    pub fn scalar(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).expect(sql).get(0)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&server().admin, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Runs a tool of ours with `IVRE_DB` pointing at `db` and the libpq variables cleared.
pub fn tool(name: &str, db: &TestDb, args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_tool(name, args, stdin, |cmd| {
        cmd.env("IVRE_DB", &db.url);
    })
}

/// A command for one of our tools with a clean environment: no database
/// variables but `IVRE_DB` = `db` when given, and our copy of Nmap's data
/// files.
pub fn tool_command(name: &str, db: Option<&TestDb>) -> Command {
    let mut cmd = Command::new(bin(name));
    cmd.env_remove("IVRE_DB").env_remove("IVRE_TEST_DB");
    for var in [
        "PGHOST",
        "PGHOSTADDR",
        "PGPORT",
        "PGDATABASE",
        "PGUSER",
        "PGPASSWORD",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NMAPDIR", data("nmap"));
    if let Some(db) = db {
        cmd.env("IVRE_DB", &db.url);
    }
    cmd
}

/// Runs a tool with a clean environment (no database variables, our copy of
/// Nmap's data files) adjusted by `setup`.
pub fn run_tool(
    name: &str,
    args: &[&str],
    stdin: Option<&[u8]>,
    setup: impl FnOnce(&mut Command),
) -> Output {
    use std::io::Write;
    let mut cmd = tool_command(name, None);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    setup(&mut cmd);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    if let Some(data) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    child.wait_with_output().unwrap()
}

/// Path of one of our binaries (built by cargo for the integration tests).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    exe.parent().unwrap().parent().unwrap().join(name)
}

/// Path of a test fixture under tests/data.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The 945 records IVRE stored for its ten sample files (schema 19), with
/// MongoDB's split hop addresses turned back into strings (as IVRE's export does).
pub fn golden_records() -> Vec<serde_json::Value> {
    use std::io::BufRead;
    let f = std::fs::File::open(data("golden/ivre-nmap-records.jsonl.gz")).expect("golden records");
    std::io::BufReader::new(flate2::read::GzDecoder::new(f))
        .lines()
        .map(|l| {
            let mut v = serde_json::from_str(&l.expect("read")).expect("JSON");
            ivre_model::scan::compat::normalize_mongo_addresses(&mut v);
            v
        })
        .collect()
}

/// Loads records through the COPY loader, as one import.
pub fn load_records(db: &TestDb, records: &[serde_json::Value]) {
    let mut client = db.client();
    ivre_pg::migrate::migrate(&mut client).expect("migrate");
    let meta = ivre_pg::scan::ScanFileMeta {
        sha256: format!("test-{}", records.len()),
        name: "golden".into(),
        format: "ivre-json".into(),
        ..Default::default()
    };
    let mut loader = ivre_pg::scan::ScanLoader::begin(&mut client, &meta).expect("begin");
    for r in records {
        let host = serde_json::from_value(r.clone()).expect("a host record");
        loader.add_verbatim(&host, r).expect("add");
    }
    loader.finish(&meta).expect("finish");
}

/// IVRE's ten sample scan files (tests/data/ivre-samples), as its tests import them.
pub const SAMPLES: &[&str] = &[
    "Nmap-Modbus-IPv4.json.bz2",
    "ipv6_all.xml",
    "masscan-ntlm-smb.xml.bz2",
    "nmap-ntlm-all.xml.bz2",
    "nmap-ntlm-smb.xml.bz2",
    "test-T102-s7comm.xml.bz2",
    "test-T22.xml.bz2",
    "test-T443.xml.bz2",
    "test-probe-ike-ipsec-nat-t-probe-U4500.xml.bz2",
    "test-probe-ike-probe-U500.xml.bz2",
];

/// Path of a sample scan file.
pub fn sample(name: &str) -> String {
    data(&format!("ivre-samples/{name}"))
        .to_string_lossy()
        .into_owned()
}

/// `ivre-scan2db --port -c TEST -s SOURCE` over the ten samples, as IVRE's tests do.
pub fn import_samples(db: &TestDb) -> Output {
    let files: Vec<String> = SAMPLES.iter().map(|s| sample(s)).collect();
    let mut args = vec!["--port", "-c", "TEST", "-s", "SOURCE"];
    args.extend(files.iter().map(String::as_str));
    tool("ivre-scan2db", db, &args, None)
}
