//! kill -9 of each importer at known points of an import (issue 10): a
//! scan file is all or nothing, a passive file holds, after any kill, what
//! a clean import of its committed lines gives, and the same command run
//! again gives what one clean import gives.
//!
//! The importer is stopped at a point by a gate: a trigger that waits for
//! an advisory lock the test holds. The test sees the importer's session
//! wait there, kills the process (SIGKILL), then opens the gate: the
//! orphaned session goes on with what it was doing (a statement, a COMMIT)
//! and ends at its next read from the dead client. No timing is guessed.

use crate::common::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The advisory lock the gates wait on: a single bigint key, which shares
/// no lock with the importers' (two int4 keys).
const GATE_KEY: i64 = 0x6761_7465;

/// A point where importers wait until the test lets them go.
struct Gate {
    holder: postgres::Client,
    /// The triggers installed, as `name ON table`.
    triggers: Vec<String>,
}

impl Gate {
    /// Closes the gate: the test's session takes the lock, and `triggers`
    /// (`CREATE [CONSTRAINT] TRIGGER` statements, named `gate_*`, that
    /// execute `gate()`) make the importers wait for it.
    fn close(db: &TestDb, triggers: &[&str]) -> Gate {
        let mut holder = db.client();
        holder
            .batch_execute(&format!(
                "CREATE OR REPLACE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN PERFORM pg_advisory_xact_lock({GATE_KEY}); RETURN NEW; END $$"
            ))
            .unwrap();
        holder
            .execute("SELECT pg_advisory_lock($1)", &[&GATE_KEY])
            .unwrap();
        let mut names = Vec::new();
        for trigger in triggers {
            holder.batch_execute(trigger).unwrap();
            // "CREATE [CONSTRAINT] TRIGGER name ... ON table ..."
            let words: Vec<&str> = trigger.split_whitespace().collect();
            let name = words.iter().find(|w| w.starts_with("gate_")).unwrap();
            let on = words.iter().position(|w| *w == "ON").unwrap();
            names.push(format!("{name} ON {}", words[on + 1]));
        }
        Gate {
            holder,
            triggers: names,
        }
    }

    /// Waits until an importer's session waits at the gate; its pid.
    fn reached(&mut self, child: &mut Child) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let waiting = self
                .holder
                .query_opt(
                    &format!(
                        "SELECT pid FROM pg_locks
                         WHERE locktype = 'advisory' AND NOT granted
                           AND classid = 0 AND objid = {GATE_KEY} AND objsubid = 1
                           AND database = (SELECT oid FROM pg_database
                                           WHERE datname = current_database())"
                    ),
                    &[],
                )
                .unwrap();
            if let Some(row) = waiting {
                return row.get(0);
            }
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("the importer ended ({status}) before the gate: {err}");
            }
            assert!(
                Instant::now() < deadline,
                "the importer never reached the gate"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Lets the session `pid` (whose client is dead) go on, waits for it
    /// to end, and removes the triggers.
    fn open(mut self, pid: i32) {
        self.holder
            .execute("SELECT pg_advisory_unlock($1)", &[&GATE_KEY])
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while self
            .holder
            .query_opt("SELECT 1 FROM pg_stat_activity WHERE pid = $1", &[&pid])
            .unwrap()
            .is_some()
        {
            assert!(Instant::now() < deadline, "session {pid} never ended");
            std::thread::sleep(Duration::from_millis(10));
        }
        for t in &self.triggers {
            self.holder
                .batch_execute(&format!("DROP TRIGGER {t}"))
                .unwrap();
        }
    }
}

/// A database with our schema, so that gates can be set before the first import.
fn migrated_db() -> TestDb {
    let db = TestDb::new();
    ivre_pg::migrate::migrate(&mut db.client()).unwrap();
    db
}

/// Runs `tool args` on `db`, its output kept for [`Gate::reached`].
fn spawn(name: &str, db: &TestDb, args: &[&str]) -> Child {
    tool_command(name, Some(db))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Kills `child` (SIGKILL).
fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn run_ok(name: &str, db: &TestDb, args: &[&str]) -> String {
    let out = tool(name, db, args, None);
    assert!(out.status.success(), "{name} {args:?}: {}", stderr(&out));
    stderr(&out)
}

// ----- scan files: all or nothing ------------------------------------------------

const SCAN_TABLES: &[&str] = &[
    "scan_file",
    "scan_host",
    "scan_port",
    "scan_script",
    "scan_hostname",
    "scan_hop",
    "scan_osmatch",
    "scan_osclass",
    "scan_cpe",
    "scan_tag",
];

/// What the scan tables hold: rows per table, the files (content, hosts)
/// and the host records.
#[derive(Debug, PartialEq)]
struct ScanState {
    rows: Vec<i64>,
    files: Vec<(String, i64)>,
    docs: String,
}

fn scan_state(db: &TestDb) -> ScanState {
    let mut c = db.client();
    ScanState {
        rows: SCAN_TABLES
            .iter()
            .map(|t| {
                c.query_one(&format!("SELECT count(*) FROM {t}"), &[])
                    .unwrap()
                    .get(0)
            })
            .collect(),
        files: c
            .query(
                "SELECT sha256, host_count FROM scan_file ORDER BY sha256, id",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get::<_, Option<i64>>(1).unwrap_or(-1)))
            .collect(),
        docs: c
            .query_one(
                "SELECT md5(coalesce(string_agg(doc::text, '|' ORDER BY doc::text), ''))
                 FROM scan_host",
                &[],
            )
            .unwrap()
            .get(0),
    }
}

/// A database with one file imported before the import under test, so
/// that "the state before" is not just empty.
fn scan_db_with_a_file() -> TestDb {
    let db = migrated_db();
    run_ok("ivre-scan2db", &db, &[&sample("ipv6_all.xml")]);
    db
}

/// The state one clean import of `files` gives (after ipv6_all.xml).
fn clean_scan_state(files: &[&str]) -> ScanState {
    let db = scan_db_with_a_file();
    run_ok("ivre-scan2db", &db, files);
    scan_state(&db)
}

/// Kills `ivre-scan2db files` at the gate `triggers`, then checks that the
/// database holds, of each file, nothing or all of it: the state before,
/// after `committed` of the files, or (`at_commit`) possibly after all; and
/// that the same command run again gives one clean import.
fn scan_killed_at(files: &[&str], triggers: &[&str], committed: usize, at_commit: bool) {
    let db = scan_db_with_a_file();
    let before = scan_state(&db);
    let mut gate = Gate::close(&db, triggers);
    let mut child = spawn("ivre-scan2db", &db, files);
    let pid = gate.reached(&mut child);
    kill(child);
    gate.open(pid);
    let after_kill = scan_state(&db);
    let expected_then = if committed == 0 {
        before
    } else {
        clean_scan_state(&files[..committed])
    };
    let clean = clean_scan_state(files);
    if at_commit {
        // A COMMIT under way when its client dies completes (PostgreSQL's
        // behaviour); either way the file is whole or absent.
        assert!(
            after_kill == expected_then || after_kill == clean,
            "{after_kill:?}"
        );
    } else {
        assert_eq!(after_kill, expected_then);
    }
    let again = run_ok("ivre-scan2db", &db, files);
    assert_eq!(scan_state(&db), clean);
    if committed > 0 || after_kill == clean {
        assert!(again.contains("already imported"), "{again}");
    }
}

#[test]
fn scan2db_killed_while_parsing_stores_nothing() {
    let db = scan_db_with_a_file();
    let before = scan_state(&db);
    let xml = std::fs::read(sample("ipv6_all.xml")).unwrap();
    // Another file's content on stdin, half of it: the import has its
    // transaction open and waits for the rest.
    let other = bzip2_text("nmap-ntlm-all.xml.bz2");
    assert_ne!(xml, other);
    let mut child = tool_command("ivre-scan2db", Some(&db))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&other[..other.len() / 2]).unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut admin = db.client();
    let pid: i32 = loop {
        let row = admin
            .query_opt(
                "SELECT pid FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND application_name = 'ivre' AND state = 'idle in transaction'",
                &[],
            )
            .unwrap();
        if let Some(row) = row {
            break row.get(0);
        }
        assert!(Instant::now() < deadline, "no transaction opened");
        std::thread::sleep(Duration::from_millis(10));
    };
    kill(child);
    drop(stdin);
    while admin
        .query_opt("SELECT 1 FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .unwrap()
        .is_some()
    {
        assert!(Instant::now() < deadline, "session {pid} never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(scan_state(&db), before);
    let out = tool("ivre-scan2db", &db, &["-"], Some(&other));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        scan_state(&db),
        clean_scan_state(&[&sample("nmap-ntlm-all.xml.bz2")])
    );
}

fn bzip2_text(name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    bzip2::read::MultiBzDecoder::new(std::fs::File::open(sample(name)).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn scan2db_killed_during_copy_stores_nothing() {
    scan_killed_at(
        &[&sample("nmap-ntlm-all.xml.bz2")],
        &["CREATE TRIGGER gate_copy BEFORE INSERT ON scan_host
           FOR EACH ROW EXECUTE FUNCTION gate()"],
        0,
        false,
    );
}

#[test]
fn scan2db_killed_just_before_commit_stores_nothing() {
    // The last statement of the import's transaction records the file's
    // final metadata.
    scan_killed_at(
        &[&sample("test-T443.xml.bz2")],
        &["CREATE TRIGGER gate_finish BEFORE UPDATE ON scan_file
           FOR EACH ROW EXECUTE FUNCTION gate()"],
        0,
        false,
    );
}

#[test]
fn scan2db_killed_during_commit_stores_all_or_nothing() {
    // A deferred trigger runs inside COMMIT.
    scan_killed_at(
        &[&sample("test-T22.xml.bz2")],
        &[
            "CREATE CONSTRAINT TRIGGER gate_commit AFTER UPDATE ON scan_file
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gate()",
        ],
        0,
        true,
    );
}

#[test]
fn scan2db_killed_after_a_commit_keeps_the_files_stored() {
    // Stopped as the second file starts: the first one is committed.
    scan_killed_at(
        &[
            &sample("test-T22.xml.bz2"),
            &sample("masscan-ntlm-smb.xml.bz2"),
        ],
        &["CREATE TRIGGER gate_second BEFORE INSERT ON scan_file
           FOR EACH ROW WHEN (NEW.name LIKE '%masscan-ntlm-smb%') EXECUTE FUNCTION gate()"],
        1,
        false,
    );
}

// ----- passive files: exact counts after a re-run ----------------------------------

/// The observations: (key, count, first seen, last seen).
type Observations = BTreeMap<Vec<u8>, (i64, String, String)>;

fn observations(db: &TestDb) -> Observations {
    db.client()
        .query(
            "SELECT key_hash, count, firstseen::text, lastseen::text FROM passive",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect()
}

/// One of the passive importers with an input of many distinct
/// observations (several batches of `BATCH`).
struct PassiveTool {
    name: &'static str,
    /// Writes the input file in a directory; its path.
    write: fn(&std::path::Path) -> String,
}

const BATCH: &str = "40";

/// A Zeek log: the fixture (1,100 records, several hundred distinct).
fn zeek_input(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(data("passive/zeek/passive_recon.log")).unwrap();
    write_input(dir, "passive_recon.log", &text)
}

/// A p0f log: SYN and SYN+ACK signatures of many hosts, with lines of
/// modules that give no record between them.
fn p0f_input(dir: &std::path::Path) -> String {
    let mut out = String::new();
    for i in 0..300u32 {
        let (a, b) = (i / 200, i % 200 + 1);
        out.push_str(&format!(
            "[2021/01/06 16:{:02}:{:02}] mod=syn|cli=10.9.{a}.{b}/60746|srv=10.1.4.4/445|subj=cli|\
             os=Linux 2.2.x-3.x|dist=0|params=generic|raw_sig=4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0\n\
             [2021/01/06 16:{:02}:{:02}] mod=mtu|cli=10.9.{a}.{b}/60746|srv=10.1.4.4/445|subj=cli|\
             link=Ethernet or modem|raw_mtu=1500\n\
             [2021/01/06 16:{:02}:{:02}] mod=syn+ack|cli=10.255.255.2/59182|srv=10.8.{a}.{b}/445|subj=srv|\
             os=???|dist=0|params=none|raw_sig=4:128+0:0:1277:65535,8:mss:df,id+:0\n",
            i / 60,
            i % 60,
            i / 60,
            i % 60,
            i / 60,
            i % 60
        ));
    }
    write_input(dir, "p0f.log", &out)
}

/// An airodump-ng CSV: many access points, then many stations.
fn airodump_input(dir: &std::path::Path) -> String {
    let mut out = String::from(
        "\r\nBSSID, First time seen, Last time seen, channel, Speed, Privacy, Cipher, \
         Authentication, Power, # beacons, # IV, LAN IP, ID-length, ESSID, Key\r\n",
    );
    for i in 0..200u32 {
        out.push_str(&format!(
            "02:00:00:00:{:02X}:{:02X}, 2023-05-01 10:00:00, 2023-05-01 10:05:12,  6,  54, WPA2, \
             CCMP, PSK, -45,      120,        0,   0.  0.  0.  0,   8, Wifi{i}, \r\n",
            i / 256,
            i % 256
        ));
    }
    out.push_str(
        "\r\nStation MAC, First time seen, Last time seen, Power, # packets, BSSID, Probed ESSIDs\r\n",
    );
    for i in 0..200u32 {
        out.push_str(&format!(
            "06:00:00:00:{:02X}:{:02X}, 2023-05-01 10:01:00, 2023-05-01 10:04:00, -60,       42, \
             02:00:00:00:00:{:02X}, Home{i},Cafe{i}\r\n",
            i / 256,
            i % 256,
            i % 256
        ));
    }
    write_input(dir, "airodump-01.csv", &out)
}

fn write_input(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const PASSIVE_TOOLS: &[PassiveTool] = &[
    PassiveTool {
        name: "ivre-passiverecon2db",
        write: zeek_input,
    },
    PassiveTool {
        name: "ivre-p0f2db",
        write: p0f_input,
    },
    PassiveTool {
        name: "ivre-airodump2db",
        write: airodump_input,
    },
];

/// What a clean import of the input of `tool` (`file`) gives, and the line
/// of its last record; made once per test binary (the input is the same
/// every time).
fn clean_import(tool: &PassiveTool, file: &str) -> &'static (Observations, i64) {
    use std::sync::{Mutex, OnceLock};
    static CLEAN: OnceLock<Mutex<BTreeMap<&'static str, &'static (Observations, i64)>>> =
        OnceLock::new();
    let mut clean = CLEAN.get_or_init(Default::default).lock().unwrap();
    clean.entry(tool.name).or_insert_with(|| {
        let db = TestDb::new();
        run_ok(tool.name, &db, &["--batch-size", BATCH, file]);
        let observations = observations(&db);
        assert!(
            observations.len() > 3 * 40,
            "{}: {} observations: not several batches",
            tool.name,
            observations.len()
        );
        let last = db.scalar("SELECT lines FROM passive_file");
        Box::leak(Box::new((observations, last)))
    })
}

/// What a clean import of the first `lines` lines of `file` gives.
fn clean_prefix(tool: &PassiveTool, file: &str, lines: i64, dir: &std::path::Path) -> Observations {
    if lines == 0 {
        return Observations::new();
    }
    let text = std::fs::read_to_string(file).unwrap();
    let prefix: String = text
        .split_inclusive('\n')
        .take(usize::try_from(lines).unwrap())
        .collect();
    let path = write_input(dir, "prefix", &prefix);
    let db = TestDb::new();
    run_ok(tool.name, &db, &["--batch-size", BATCH, &path]);
    observations(&db)
}

/// Kills each passive importer at the gate `triggers` (where `{last}`
/// stands for the line of the file's last record); checks that what
/// is stored is what a clean import of the lines the file's provenance
/// says committed gives (of the whole file if it says finished), and that
/// the same command run again gives one clean import of the whole file.
fn passive_killed_at(triggers: &[&str]) {
    for tool in PASSIVE_TOOLS {
        let dir = tempfile::tempdir().unwrap();
        let file = (tool.write)(dir.path());
        let args = ["--batch-size", BATCH, &file];
        let (clean, last) = clean_import(tool, &file);
        let last = last.to_string();
        let triggers: Vec<String> = triggers
            .iter()
            .map(|t| t.replace("{last}", &last))
            .collect();
        let triggers: Vec<&str> = triggers.iter().map(String::as_str).collect();

        let db = migrated_db();
        let mut gate = Gate::close(&db, &triggers);
        let mut child = spawn(tool.name, &db, &args);
        let pid = gate.reached(&mut child);
        kill(child);
        gate.open(pid);
        let lines = db.scalar("SELECT coalesce(max(lines), 0) FROM passive_file");
        // A statement outside a transaction block (recording the end)
        // completes when its client dies: the file is then finished.
        let finished = db.scalar("SELECT count(*) FROM passive_file WHERE finished") == 1;
        let expected = if finished {
            clean.clone()
        } else {
            clean_prefix(tool, &file, lines, dir.path())
        };
        assert_eq!(
            observations(&db),
            expected,
            "{}: killed after {lines} lines",
            tool.name
        );
        let again = run_ok(tool.name, &db, &args);
        let said = if finished {
            "already imported".to_string()
        } else if lines > 0 {
            format!("resuming after line {lines}")
        } else {
            String::new()
        };
        assert!(again.contains(&said), "{}: {again}", tool.name);
        assert_eq!(&observations(&db), clean, "{}", tool.name);
        assert_eq!(
            db.scalar("SELECT count(*) FROM passive_file WHERE finished"),
            1,
            "{}",
            tool.name
        );
    }
}

#[test]
fn passive_importers_killed_in_their_first_batch_resume_from_the_start() {
    passive_killed_at(&["CREATE TRIGGER gate_merge BEFORE INSERT ON passive
                         FOR EACH ROW EXECUTE FUNCTION gate()"]);
}

#[test]
fn passive_importers_killed_in_a_later_batch_resume_after_the_last_commit() {
    // The statement that advances the file's committed lines, in the
    // transaction of the second batch.
    passive_killed_at(&[
        "CREATE TRIGGER gate_second_batch BEFORE UPDATE ON passive_file
                         FOR EACH ROW WHEN (OLD.lines > 0 AND NOT NEW.finished)
                         EXECUTE FUNCTION gate()",
    ]);
}

#[test]
fn passive_importers_killed_during_a_commit_resume_after_it() {
    passive_killed_at(&[
        "CREATE CONSTRAINT TRIGGER gate_commit AFTER UPDATE ON passive_file
                         DEFERRABLE INITIALLY DEFERRED
                         FOR EACH ROW WHEN (OLD.lines > 0 AND NOT NEW.finished)
                         EXECUTE FUNCTION gate()",
    ]);
}

#[test]
fn passive_importers_killed_before_recording_the_end_finish_on_a_rerun() {
    // At the COMMIT of the last batch, which completes: every line is
    // stored, the file is not finished.
    passive_killed_at(&[
        "CREATE CONSTRAINT TRIGGER gate_last_commit AFTER UPDATE ON passive_file
                         DEFERRABLE INITIALLY DEFERRED
                         FOR EACH ROW WHEN (NEW.lines = {last} AND NOT NEW.finished)
                         EXECUTE FUNCTION gate()",
    ]);
}

#[test]
fn passive_importers_killed_while_recording_the_end_hold_the_whole_file() {
    passive_killed_at(
        &["CREATE TRIGGER gate_finished BEFORE UPDATE ON passive_file
                         FOR EACH ROW WHEN (NEW.finished) EXECUTE FUNCTION gate()"],
    );
}

// ----- two imports of one file at once ------------------------------------------

#[test]
fn passive_importers_run_twice_at_once_import_once() {
    for tool in PASSIVE_TOOLS {
        let dir = tempfile::tempdir().unwrap();
        let file = (tool.write)(dir.path());
        let args = ["--batch-size", BATCH, &file];
        let (clean, _) = clean_import(tool, &file);

        // The first import holds its first batch while the second starts:
        // they overlap for sure.
        let db = migrated_db();
        let mut gate = Gate::close(
            &db,
            &["CREATE TRIGGER gate_merge BEFORE INSERT ON passive
               FOR EACH ROW EXECUTE FUNCTION gate()"],
        );
        let mut first = spawn(tool.name, &db, &args);
        let pid = gate.reached(&mut first);
        let second = spawn(tool.name, &db, &args);
        let deadline = Instant::now() + Duration::from_secs(60);
        // The second waits for the first one's lock on the content.
        while db.scalar(
            "SELECT count(*) FROM pg_locks
             WHERE locktype = 'advisory' AND NOT granted AND classid = x'50415356'::int::oid",
        ) == 0
        {
            assert!(Instant::now() < deadline, "{}: no second import", tool.name);
            std::thread::sleep(Duration::from_millis(10));
        }
        gate.open(pid);
        let outputs = [first, second].map(|c| c.wait_with_output().unwrap());
        for out in &outputs {
            assert!(out.status.success(), "{}: {}", tool.name, stderr(out));
        }
        let err: Vec<String> = outputs.iter().map(stderr).collect();
        assert!(
            err[1].contains("another import of the same content is running")
                && err[1].contains("already imported")
                && !err[0].contains("already imported"),
            "{}: {err:?}",
            tool.name
        );
        assert_eq!(&observations(&db), clean, "{}", tool.name);
        assert_eq!(db.scalar("SELECT count(*) FROM passive_file"), 1);
    }
}

// ----- a session terminated during COMMIT -----------------------------------------

/// Runs `name args` on `db` with `commit_gate` (a deferred trigger) and
/// terminates its session while it waits inside COMMIT; the tool's
/// output.
fn terminated_at_commit(
    name: &str,
    db: &TestDb,
    args: &[&str],
    commit_gate: &str,
) -> std::process::Output {
    let mut gate = Gate::close(db, &[commit_gate]);
    let mut child = spawn(name, db, args);
    let pid = gate.reached(&mut child);
    let mut admin = db.client();
    assert!(admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get::<_, bool>(0));
    gate.open(pid);
    child.wait_with_output().unwrap()
}

#[test]
fn scan2db_losing_its_session_in_commit_says_the_outcome_is_unknown() {
    let file = sample("test-T22.xml.bz2");
    let db = scan_db_with_a_file();
    let before = scan_state(&db);
    let out = terminated_at_commit(
        "ivre-scan2db",
        &db,
        &[&file],
        "CREATE CONSTRAINT TRIGGER gate_commit AFTER UPDATE ON scan_file
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gate()",
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{file}: cannot commit"))
            && err.contains("whether the file was stored is unknown")
            && err.contains("running the same command again is safe")
            && !err.contains("not stored"),
        "{err}"
    );
    // PostgreSQL rolled it back; the re-run settles it either way.
    assert_eq!(scan_state(&db), before);
    run_ok("ivre-scan2db", &db, &[&file]);
    assert_eq!(scan_state(&db), clean_scan_state(&[&file]));
    // With --force, a re-run could store it twice: the message says so.
    let out = terminated_at_commit(
        "ivre-scan2db",
        &db,
        &["--force", &file],
        "CREATE CONSTRAINT TRIGGER gate_commit AFTER UPDATE ON scan_file
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gate()",
    );
    let err = stderr(&out);
    assert!(
        err.contains("whether the file was stored is unknown")
            && err.contains("with --force it would be stored twice"),
        "{err}"
    );
}

#[test]
fn passive_importers_losing_their_session_in_commit_say_the_outcome_is_unknown() {
    for tool in PASSIVE_TOOLS {
        let dir = tempfile::tempdir().unwrap();
        let file = (tool.write)(dir.path());
        let args = ["--batch-size", BATCH, &file];
        let (clean, _) = clean_import(tool, &file);
        let db = migrated_db();
        let out = terminated_at_commit(
            tool.name,
            &db,
            &args,
            "CREATE CONSTRAINT TRIGGER gate_commit AFTER UPDATE ON passive_file
             DEFERRABLE INITIALLY DEFERRED
             FOR EACH ROW WHEN (OLD.lines > 0 AND NOT NEW.finished)
             EXECUTE FUNCTION gate()",
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", tool.name);
        assert!(
            err.contains(&format!("{file}: import stopped"))
                && err.contains("whether the last one is")
                && err.contains("unknown")
                && err.contains("running the same command again is safe"),
            "{}: {err}",
            tool.name
        );
        let lines = db.scalar("SELECT lines FROM passive_file");
        assert_eq!(
            observations(&db),
            clean_prefix(tool, &file, lines, dir.path()),
            "{}",
            tool.name
        );
        let again = run_ok(tool.name, &db, &args);
        assert!(
            again.contains("resuming after line"),
            "{}: {again}",
            tool.name
        );
        assert_eq!(&observations(&db), clean, "{}", tool.name);
    }
}
