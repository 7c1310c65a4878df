//! `ivre-db`: the private cluster's status, start, stop, psql and destroy, on
//! a cluster in a temporary directory (XDG_DATA_HOME), and the default
//! location the tools' `--help` names.

use crate::common::{stderr, stdout, tool_command};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Output, Stdio};

/// Runs `ivre-db ARGS` with its private cluster under `data_home`, stdin closed.
fn ivre_db(data_home: &Path, args: &[&str]) -> Output {
    tool_command("ivre-db", None)
        .args(args)
        .env("XDG_DATA_HOME", data_home)
        .stdin(Stdio::null())
        .output()
        .expect("run ivre-db")
}

/// A temporary XDG_DATA_HOME the server's account (root's cluster runs as
/// `postgres`) may traverse.
fn data_home() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn status_start_psql_stop_destroy() {
    let home = data_home();
    let cluster = home.path().join("ivre/pg");
    let shown = cluster.display().to_string();

    let out = ivre_db(home.path(), &["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("cluster:   {shown}\n")),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("not created"), "{}", stdout(&out));
    assert!(stdout(&out).contains("tools use: this cluster"));

    let out = ivre_db(home.path(), &["start"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("created and started"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("`ivre db stop`"), "{}", stderr(&out));
    let out = ivre_db(home.path(), &["start"]);
    assert!(stderr(&out).contains("already running"), "{}", stderr(&out));

    let out = ivre_db(home.path(), &["status"]);
    let text = stdout(&out);
    assert!(text.contains("state:     running (pid "), "{text}");
    assert!(text.contains(" MiB"), "{text}");
    assert!(
        text.contains(&format!("psql \"host={shown} user=ivre dbname=ivre\"")),
        "{text}"
    );

    // psql on the cluster, with psql's own flags passed through.
    let out = ivre_db(home.path(), &["psql", "-tAc", "SELECT 6 * 7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "42\n");

    // The cluster is the tools' default database.
    let out = tool_command("ivre-scancli", None)
        .args(["--count"])
        .env("XDG_DATA_HOME", home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "0\n");

    let out = ivre_db(home.path(), &["stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("stopped"), "{}", stderr(&out));
    let text = stdout(&ivre_db(home.path(), &["status"]));
    assert!(text.contains("state:     stopped, "), "{text}");

    // Without a terminal, destroy wants --yes and leaves everything in place.
    let out = ivre_db(home.path(), &["destroy"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("ivre-db: error: destroy deletes the private cluster in "),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(cluster.join("data/PG_VERSION").is_file());

    let out = ivre_db(home.path(), &["destroy", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("deleted the private cluster"),
        "{}",
        stderr(&out)
    );
    assert!(!cluster.exists());
    assert!(!home.path().join("ivre/pg.lock").exists());
    assert!(stdout(&ivre_db(home.path(), &["status"])).contains("not created"));
}

#[test]
fn a_tool_creates_the_cluster_names_ivre_db_stop_and_destroy_stops_it() {
    let home = data_home();
    // A tool with no database configured creates the cluster and says how
    // to stop it, in one line.
    let out = tool_command("ivre-scancli", None)
        .arg("--count")
        .env("XDG_DATA_HOME", home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let notice = stderr(&out);
    assert_eq!(notice.lines().count(), 1, "{notice}");
    assert!(notice.contains("created and started in "), "{notice}");
    assert!(notice.contains("`ivre db stop`"), "{notice}");
    let pid = std::fs::read_to_string(home.path().join("ivre/pg/data/postmaster.pid")).unwrap();
    let pid = pid.lines().next().unwrap().to_owned();
    let out = ivre_db(home.path(), &["destroy", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!home.path().join("ivre/pg").exists());
    // Gone, or a zombie left for an init that does not reap (containers).
    let gone = std::fs::read_to_string(Path::new("/proc").join(&pid).join("stat"))
        .map(|stat| stat.rsplit(") ").next().unwrap_or("").starts_with('Z'))
        .unwrap_or(true);
    assert!(gone, "the server (pid {pid}) still runs");
}

#[test]
fn a_socket_path_over_the_unix_limit_is_refused_clearly() {
    let home = data_home();
    // 120 bytes of directory names: the socket path is well over 107 bytes.
    let deep = home.path().join("d".repeat(60)).join("e".repeat(60));
    for (tool, args) in [
        ("ivre-db", &["start"][..]),
        ("ivre-scancli", &["--count"][..]),
    ] {
        let out = tool_command(tool, None)
            .args(args)
            .env("XDG_DATA_HOME", &deep)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{tool}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(
            message.starts_with(&format!("{tool}: error: the cluster directory ")),
            "{message}"
        );
        assert!(message.contains("too deep for a unix socket"), "{message}");
        assert!(message.contains("the limit is 107"), "{message}");
        assert!(!message.contains("pg_ctl"), "{message}");
    }
    assert!(!deep.join("ivre/pg").exists(), "nothing is created");
}

#[test]
fn help_names_the_real_default_location() {
    let home = data_home();
    let out = tool_command("ivre-scancli", None)
        .arg("--help")
        .env("XDG_DATA_HOME", home.path())
        .output()
        .unwrap();
    let flat = stdout(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains(&format!("{}/ivre/pg", home.path().display())),
        "{flat}"
    );

    // Without XDG_DATA_HOME: root's cluster is under /var/lib (root's home
    // is closed to the server's account), anyone else's under ~/.local/share.
    let is_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let expected = if is_root {
        "/var/lib/ivre/pg".to_owned()
    } else {
        format!("{}/.local/share/ivre/pg", home.path().display())
    };
    for tool in ["ivre-scan2db", "ivre-scancli", "ivre-ipinfo", "ivre-db"] {
        let out = tool_command(tool, None)
            .arg("--help")
            .env_remove("XDG_DATA_HOME")
            .env("HOME", home.path())
            .output()
            .unwrap();
        let flat = stdout(&out)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(flat.contains(&expected), "{tool}: {flat}");
        assert!(!flat.contains("~/.local/share"), "{tool}: {flat}");
    }
}
