//! Process hardening: a running server has a core-file limit of 0 (and cannot raise it), and with
//! `--mlock` its memory is locked (`VmLck` in /proc) while its resident size stays small
//! (`MCL_ONFAULT`). Linux only; `--mlock` needs CAP_IPC_LOCK (root here), else it must fail
//! with a message that says so.
#![cfg(target_os = "linux")]
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use common::Server;

fn proc_field(pid: u32, file: &str, prefix: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .expect("proc")
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("{prefix} in /proc/{pid}/{file}"))
        .to_owned()
}

fn kib(line: &str) -> u64 {
    line.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("kB value")
}

#[test]
fn no_core_files_and_locked_memory_on_request() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start_in(&tmp.path().join("plain"), &[]);
    let core = proc_field(s.pid(), "limits", "Max core file size");
    assert_eq!(
        core.split_whitespace().skip(4).take(2).collect::<Vec<_>>(),
        ["0", "0"],
        "{core}"
    );
    drop(s);

    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_trent"))
            .args(["serve", "--listen", "127.0.0.1:0", "--mlock", "--data-dir"])
            .arg(tmp.path().join("unprivileged"))
            .output()
            .expect("run");
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("CAP_IPC_LOCK"));
        return;
    }
    let s = Server::start_in(&tmp.path().join("locked"), &["--mlock"]);
    let locked = kib(&proc_field(s.pid(), "status", "VmLck:"));
    let resident = kib(&proc_field(s.pid(), "status", "VmRSS:"));
    assert!(locked > 0, "memory is locked");
    assert!(
        resident < 512 * 1024,
        "locking on fault keeps the resident size small: {resident} kB"
    );
}
