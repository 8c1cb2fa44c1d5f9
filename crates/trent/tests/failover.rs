//! Database failover under write load (issue 11): the test starts its own PostgreSQL primary
//! and a synchronous streaming standby on free ports (`initdb`, `pg_basebackup`, `pg_ctl`; as the
//! `postgres` user when run as root), points a `trent` node at both through a multi-host URL
//! with `target_session_attrs=read-write`, crashes the primary mid-load (`pg_ctl -m immediate`)
//! and promotes the standby. Trent reconnects and carries on; no acknowledged write is lost;
//! requests during the switch fail with a retryable server error, never a wrong answer. Skips
//! without the PostgreSQL server binaries unless `TRENT_TEST_POSTGRES_REQUIRED=1` (CI).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;
mod pgcluster;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{blob, err, Server};
use pgcluster::{append, free_port, pg, pg_bindir, psql, run};
use tokio::sync::Mutex;

/// A primary and a synchronous standby in a temporary directory; both stopped when dropped.
struct Pair {
    bin: PathBuf,
    dir: tempfile::TempDir,
    primary_port: u16,
    standby_port: u16,
}

impl Pair {
    fn primary(&self) -> PathBuf {
        self.dir.path().join("primary")
    }
    fn standby(&self) -> PathBuf {
        self.dir.path().join("standby")
    }

    fn start() -> Option<Pair> {
        let bin = pg_bindir()?;
        let dir = pgcluster::owned_tempdir();
        let pair = Pair {
            bin,
            dir,
            primary_port: free_port(),
            standby_port: free_port(),
        };
        let sockets = pair.dir.path().display().to_string();
        let mut c = pg(&pair.bin, "initdb");
        c.arg("-D")
            .arg(pair.primary())
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"]);
        run(c, "initdb");
        let conf = format!(
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{sockets}'\nwal_level = replica\n\
             max_wal_senders = 5\nsynchronous_standby_names = '*'\nsynchronous_commit = on\nfsync = on\n",
            pair.primary_port
        );
        append(&pair.primary().join("postgresql.conf"), &conf);
        pair.ctl(&pair.primary(), "start");
        let mut c = pg(&pair.bin, "pg_basebackup");
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &pair.primary_port.to_string(),
            "-U",
            "postgres",
            "-D",
        ])
        .arg(pair.standby())
        .args(["-R", "-X", "stream"]);
        run(c, "pg_basebackup");
        append(
            &pair.standby().join("postgresql.conf"),
            // Once promoted it has no standby of its own: it must not wait for one.
            &format!(
                "port = {}\nhot_standby = on\nsynchronous_standby_names = ''\n",
                pair.standby_port
            ),
        );
        pair.ctl(&pair.standby(), "start");
        pair.psql(pair.primary_port, "CREATE DATABASE trent");
        // Synchronous: a commit is acknowledged only once the standby has it.
        let deadline = Instant::now() + Duration::from_secs(30);
        while pair
            .psql(pair.primary_port, "SELECT sync_state FROM pg_stat_replication")
            .trim()
            != "sync"
        {
            assert!(Instant::now() < deadline, "the standby never became synchronous");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(pair)
    }

    fn ctl(&self, data: &Path, action: &str) {
        let mut c = pg(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(data)
            .arg("-l")
            .arg(data.with_extension("log"))
            .args(["-w", action]);
        run(c, &format!("pg_ctl {action}"));
    }

    fn crash_primary(&self) {
        let mut c = pg(&self.bin, "pg_ctl");
        c.arg("-D").arg(self.primary()).args(["-m", "immediate", "-w", "stop"]);
        run(c, "crash the primary");
    }

    fn psql(&self, port: u16, sql: &str) -> String {
        psql(port, sql)
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/trent?target_session_attrs=read-write&connect_timeout=2",
            self.primary_port, self.standby_port
        )
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for data in [self.primary(), self.standby()] {
            let mut c = pg(&self.bin, "pg_ctl");
            c.arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]);
            let _ = c.output();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn trent_carries_on_after_a_database_failover_and_loses_no_acknowledged_write() {
    let Some(pair) = tokio::task::spawn_blocking(Pair::start).await.expect("start") else {
        return;
    };
    let data = pair.dir.path().join("trent-data");
    let server = Server::start_in(&data, &["--database", &pair.url()]);
    let client = server.client();
    let acked = Arc::new(Mutex::new(Vec::<(String, Vec<u8>, Vec<u8>)>::new()));
    let times = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4usize {
        let (client, acked, errors, stop) = (client.clone(), acked.clone(), errors.clone(), stop.clone());
        let times = times.clone();
        workers.push(tokio::spawn(async move {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let key = match client.create_key().send().await {
                    Ok(k) => k.key_metadata.expect("metadata").key_id().to_owned(),
                    Err(e) => {
                        errors.lock().await.push(format!("CreateKey {}", err(&e).0));
                        continue;
                    }
                };
                let plain = format!("{w}/{i}").into_bytes();
                match client.encrypt().key_id(&key).plaintext(blob(&plain)).send().await {
                    Ok(out) => {
                        let ct = out.ciphertext_blob.expect("ciphertext").into_inner();
                        acked.lock().await.push((key, ct, plain));
                        times.lock().await.push(Instant::now());
                    }
                    Err(e) => errors.lock().await.push(format!("Encrypt {}", err(&e).0)),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = acked.lock().await.len();
    tokio::task::block_in_place(|| pair.crash_primary());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let promoted_at = Instant::now();
    tokio::task::block_in_place(|| pair.ctl(&pair.standby(), "promote"));
    // Carries on: new writes are acknowledged after the promotion.
    let after_promotion = loop {
        let n = acked.lock().await.len();
        if n > before + 20 || promoted_at.elapsed() > Duration::from_secs(30) {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("worker");
    }
    let acked = acked.lock().await;
    let errors = errors.lock().await;
    let mut times = times.lock().await.clone();
    times.sort();
    let pause = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or_default();
    println!(
        "failover: {before} writes acknowledged before the crash, {} in all ({} after promotion); longest pause between acknowledgements {pause:?} (1 s of it before the promotion); {} refused: {:?}",
        acked.len(),
        after_promotion - before,
        errors.len(),
        errors.iter().take(10).collect::<Vec<_>>()
    );
    assert!(
        after_promotion > before + 20,
        "trent did not carry on after the failover"
    );
    // Refusals during the switch are server errors the SDK retries (or a connection that
    // timed out), never an answer about the request itself.
    for e in errors.iter() {
        let code = e.split_once(' ').map_or("", |(_, c)| c);
        assert!(
            ["KMSInternalException", "", "ServiceUnavailableException"].contains(&code),
            "a wrong answer during the failover: {e}"
        );
    }
    for (key, ct, plain) in acked.iter() {
        let out = client
            .decrypt()
            .ciphertext_blob(blob(ct))
            .send()
            .await
            .unwrap_or_else(|e| panic!("acknowledged ciphertext under {key} lost: {e:?}"));
        assert_eq!(out.plaintext.expect("plaintext").as_ref(), plain.as_slice());
    }
}
