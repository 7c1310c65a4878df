//! Test harness: every test gets a database of its own on a real PostgreSQL
//! server, so that tests run in parallel.
//!
//! With `IVRE_TEST_DB` (a connection string with rights to create databases)
//! the databases are made there. Otherwise a throwaway cluster is created in a
//! temporary directory, socket only, once per test binary; a watcher process
//! kills it and removes the directory when the test binary exits.
//!
//! With `IVRE_TEST_CITUS=1` (Citus mode) the harness starts its own Citus
//! cluster instead: a coordinator and two workers, each a throwaway
//! cluster with `shared_preload_libraries = 'citus'`. Each test database
//! is created on the three nodes with the extension, the workers are
//! registered, and the schema is created and distributed (`ivre db
//! distribute`'s library call): the tools then run against the
//! coordinator. Citus missing fails every test with a one-line message.

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
    /// Citus mode: the worker nodes.
    workers: Vec<LocalCluster>,
}

/// Shards per distributed table group in Citus mode (few: every test
/// database distributes the whole schema).
const CITUS_SHARDS: i32 = 4;

/// Whether the tests run in Citus mode (`IVRE_TEST_CITUS` set, not `0`).
pub fn citus_mode() -> bool {
    std::env::var("IVRE_TEST_CITUS").is_ok_and(|v| !v.is_empty() && v != "0")
}

#[allow(dead_code)]
/// For a test that cannot run in Citus mode: true (and says why on stderr)
/// when it is to be skipped.
pub fn skip_on_citus(why: &str) -> bool {
    if citus_mode() {
        eprintln!("skipped in Citus mode: {why}");
    }
    citus_mode()
}

/// A throwaway Citus cluster: a coordinator and two workers, each its own
/// PostgreSQL cluster (socket only) in a directory of `top`.
fn citus_server() -> Server {
    let bindir = ivre_pg::cluster::find_server_bindir().expect("PostgreSQL server binaries");
    let lib = bindir.parent().map(|d| d.join("lib/citus.so"));
    if !lib.as_ref().is_some_and(|l| l.is_file()) {
        panic!(
            "IVRE_TEST_CITUS is set but Citus is not installed ({} not found): install it \
             (Citus packages, or build it as ../shared/citus/build.sh does), or unset IVRE_TEST_CITUS",
            lib.map(|l| l.display().to_string()).unwrap_or_default()
        );
    }
    let top = tempfile::Builder::new()
        .prefix("ivre-test-citus-")
        .tempdir()
        .expect("temporary directory")
        .keep();
    let nodes: Vec<LocalCluster> = ["c", "w1", "w2"]
        .iter()
        .map(|n| {
            LocalCluster::new(top.join(n))
                .expect("PostgreSQL server binaries")
                .with_setting("shared_preload_libraries", "citus")
                .with_setting("max_connections", "300")
                .with_setting("fsync", "off")
        })
        .collect();
    for node in &nodes {
        node.init().expect("initdb");
    }
    watch_and_clean(
        &top,
        &nodes.iter().map(|n| n.data_dir()).collect::<Vec<_>>(),
    );
    for node in &nodes {
        node.start().expect("start a Citus test node");
    }
    let coordinator = nodes[0].clone();
    Server {
        admin: coordinator.connection_string("postgres"),
        make: Box::new(move |db| coordinator.connection_string(db)),
        workers: nodes[1..].to_vec(),
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        if citus_mode() {
            return citus_server();
        }
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
                workers: Vec::new(),
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
        watch_and_clean(&dir, &[cluster.data_dir()]);
        let make_cluster = cluster.clone();
        Server {
            admin: cluster.connection_string("postgres"),
            make: Box::new(move |db| make_cluster.connection_string(db)),
            workers: Vec::new(),
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

/// Kills the postmasters of the clusters (`data` directories) and removes
/// `dir` once this process is gone.
fn watch_and_clean(dir: &Path, data: &[PathBuf]) {
    let kills: String = data
        .iter()
        .map(|d| {
            format!(
                "pm=$(head -n1 '{}/postmaster.pid' 2>/dev/null); [ -n \"$pm\" ] && kill -QUIT \"$pm\"; ",
                d.display()
            )
        })
        .collect();
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {kills}sleep 1; rm -rf '{d}'",
        pid = std::process::id(),
        d = dir.display()
    );
    // Deliberately never waited for: it must outlive this process, and a
    // signal to the test's process group (`timeout cargo test`) too.
    use std::os::unix::process::CommandExt;
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .process_group(0)
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
    /// A test database: in Citus mode distributed on the test cluster.
    pub fn new() -> TestDb {
        let db = TestDb::plain();
        if citus_mode() {
            db.make_citus(true);
        }
        db
    }

    /// Citus mode: a database on the three nodes with the extension and
    /// the workers registered, but no schema (tools create it as on a
    /// single node; `ivre db distribute` distributes it).
    pub fn citus_without_schema() -> TestDb {
        let db = TestDb::plain();
        db.make_citus(false);
        db
    }

    /// A database of a single node: in Citus mode, on the coordinator,
    /// without the extension (the baseline results are compared with).
    pub fn plain() -> TestDb {
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

    /// Citus mode: the database on the workers too, the extension on the
    /// three nodes, the workers registered, and with `schema` the schema
    /// created and distributed.
    fn make_citus(&self, schema: bool) {
        let workers = &server().workers;
        std::thread::scope(|s| {
            for w in workers {
                s.spawn(|| {
                    let connect = |db: &str| {
                        postgres::Client::connect(&w.connection_string(db), postgres::NoTls)
                            .expect("connect to a Citus worker")
                    };
                    connect("postgres")
                        .batch_execute(&format!("CREATE DATABASE \"{}\"", self.name))
                        .expect("create the test database on a worker");
                    connect(&self.name)
                        .batch_execute("CREATE EXTENSION citus")
                        .expect("CREATE EXTENSION citus on a worker");
                });
            }
            let mut c = self.client();
            c.batch_execute("CREATE EXTENSION citus")
                .expect("CREATE EXTENSION citus on the coordinator");
        });
        let mut c = self.client();
        let coordinator = self
            .url
            .split(' ')
            .find_map(|kv| kv.strip_prefix("host="))
            .expect("the coordinator's socket directory")
            .to_string();
        c.execute(
            "SELECT citus_set_coordinator_host($1, 5432)",
            &[&coordinator],
        )
        .expect("register the coordinator");
        for w in workers {
            let host = w.socket_dir().to_string_lossy().into_owned();
            // Registering opens connections to the worker, which can fail
            // once while the other tests' databases come and go ("failure
            // on connection marked as essential", seen once in 333 tests):
            // a few attempts; the call is a no-op for a node already added.
            let mut attempt = 1;
            while let Err(e) = c.execute("SELECT citus_add_node($1, 5432)", &[&host]) {
                assert!(attempt < 5, "register a Citus worker: {e:?}");
                std::thread::sleep(std::time::Duration::from_millis(200 * attempt));
                attempt += 1;
            }
        }
        if !schema {
            return;
        }
        ivre_pg::migrate::migrate(&mut c).expect("migrate");
        let opts = ivre_pg::distribute::Options {
            shard_count: Some(CITUS_SHARDS),
        };
        ivre_pg::distribute::distribute(&mut c, &opts).expect("distribute the schema");
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
        let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        if let Ok(mut admin) = postgres::Client::connect(&server().admin, postgres::NoTls) {
            let _ = admin.batch_execute(&drop);
        }
        for w in &server().workers {
            let admin = w.connection_string("postgres");
            if let Ok(mut admin) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = admin.batch_execute(&drop);
            }
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
