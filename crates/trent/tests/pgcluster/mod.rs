//! Helpers for tests that run PostgreSQL servers of their own (failover, TLS): the server
//! binaries (`initdb`, `pg_ctl`, `pg_basebackup`, run as `postgres` when the tests run as root,
//! since initdb refuses root), free ports and `psql`.
#![allow(dead_code)] // each test uses some

use std::path::{Path, PathBuf};
use std::process::Command;

/// The newest installed PostgreSQL's server binaries; `None` (the test skips) without them,
/// unless `TRENT_TEST_POSTGRES_REQUIRED=1` (CI), where their absence fails the test.
pub fn pg_bindir() -> Option<PathBuf> {
    let found = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
        let mut dirs: Vec<PathBuf> = d
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|d| d.join("initdb").exists())
            .collect();
        dirs.sort();
        dirs.pop()
    });
    if found.is_none() {
        assert!(
            std::env::var("TRENT_TEST_POSTGRES_REQUIRED").as_deref() != Ok("1"),
            "PostgreSQL server binaries required but not found under /usr/lib/postgresql"
        );
        eprintln!("SKIPPED: no PostgreSQL server binaries (initdb) under /usr/lib/postgresql");
    }
    found
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A temporary directory the server binaries may write (owned by `postgres` when we are root).
pub fn owned_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    if is_root() {
        let mut c = Command::new("chown");
        c.args(["-R", "postgres:postgres"]).arg(dir.path());
        run(c, "chown");
    }
    dir
}

/// A PostgreSQL server binary, run as `postgres` when we are root.
pub fn pg(bin: &Path, tool: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

pub fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("conf");
    f.write_all(text.as_bytes()).expect("append");
}

/// One statement through `psql` as `postgres` over TCP; its unaligned output.
pub fn psql(port: u16, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-Atc",
            sql,
        ])
        .env("PGSSLMODE", "prefer")
        .output()
        .expect("psql");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
