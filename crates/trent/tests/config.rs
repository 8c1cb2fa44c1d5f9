//! The configuration file: `--config` sets flags by their long names, a flag or an environment
//! variable wins over it, and `trent config check` names each unknown key and invalid value with
//! its line.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;

use common::Server;

fn trent(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(args)
        .env_remove("TRENT_REGION")
        .env_remove("TRENT_CONFIG")
        .output()
        .expect("run trent")
}

#[test]
fn a_config_file_sets_flags_below_the_command_line_and_the_environment() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("trent.toml");
    std::fs::write(
        &file,
        "# Trent\nregion = \"eu-west-1\"\naudit-retention-days = 30\naccount_id = \"123456789012\"\n",
    )
    .expect("write");
    let path = file.to_str().expect("utf-8");
    // The file alone.
    let s = Server::start_in(&tmp.path().join("a"), &["--config", path]);
    assert_eq!(s.region, "eu-west-1");
    let env = std::fs::read_to_string(s.dir.join("admin.env")).expect("env");
    assert!(env.contains("AWS_REGION=eu-west-1"), "{env}");
    drop(s);
    // A flag wins over the file.
    let s = Server::start_in(&tmp.path().join("b"), &["--config", path, "--region", "us-west-2"]);
    assert_eq!(s.region, "us-west-2");
    drop(s);
    // So does the environment.
    let s = Server::start_with(
        &tmp.path().join("c"),
        &["--config", path],
        &[("TRENT_REGION", "ap-south-1")],
    );
    assert_eq!(s.region, "ap-south-1");
    drop(s);

    let ok = trent(&["config", "check", path]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("3 settings, all valid"));

    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "listen = \"127.0.0.1:0\"\nmax_connections = 0\n\nbogus = true\nnode_id = \"has spaces\"\nregion = [1]\n",
    )
    .expect("write");
    let out = trent(&["config", "check", bad.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    let bad = bad.display().to_string();
    for expected in [
        format!("{bad}:2: `max_connections`: invalid value '0'"),
        format!("{bad}:4: unknown key `bogus`"),
        format!("{bad}:5: `node_id`: invalid value 'has spaces'"),
        format!("{bad}:6: `region`: expected a string, number or boolean, found array"),
    ] {
        assert!(text.contains(&expected), "{expected:?} missing from:\n{text}");
    }
    // A file that is not TOML is refused at start, with its line.
    let broken = tmp.path().join("broken.toml");
    std::fs::write(&broken, "listen = \"127.0.0.1:0\"\nregion = \n").expect("write");
    let out = trent(&[
        "serve",
        "--config",
        broken.to_str().expect("utf-8"),
        "--data-dir",
        "unused",
    ]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("broken.toml:2:"), "{text}");
}
