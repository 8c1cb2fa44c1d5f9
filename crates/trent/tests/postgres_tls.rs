//! TLS to PostgreSQL (libpq's `sslmode`/`sslrootcert`): the test starts its own PostgreSQL that
//! accepts only TLS connections (`hostssl` … `trust`, `hostnossl` … `reject`) with a server
//! certificate for `localhost` issued by a test CA (made with the `openssl` CLI). `verify-full`
//! with that CA works and the server sees the connections encrypted; `verify-full` to a name the
//! certificate does not hold, or with another CA, is refused; `verify-ca` accepts the other name;
//! `require` encrypts without checking; `disable` is refused by the server. Skips without the
//! PostgreSQL server binaries unless `TRENT_TEST_POSTGRES_REQUIRED=1` (CI).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;
mod pgcluster;

use std::path::PathBuf;
use std::process::Command;

use common::{blob, Server};
use pgcluster::{append, free_port, pg, pg_bindir, psql, run};

struct TlsPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    certs: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsPostgres {
    fn start() -> Option<TlsPostgres> {
        let bin = pg_bindir()?;
        let certs_dir = tempfile::tempdir().expect("tmp");
        let certs = certs_dir.path().to_owned();
        common::certs::issue(&certs, "test-ca", "server", "DNS:localhost");
        common::certs::ca(&certs, "other-ca");
        let dir = pgcluster::owned_tempdir();
        let data = dir.path().join("data");
        let mut c = pg(&bin, "initdb");
        c.arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"]);
        run(c, "initdb");
        // The server's key must be its own and private.
        for f in ["server.pem", "server.key"] {
            std::fs::copy(certs.join(f), data.join(f)).expect("copy");
        }
        let mut c = Command::new("chmod");
        c.arg("600").arg(data.join("server.key"));
        run(c, "chmod");
        if pgcluster::is_root() {
            let mut c = Command::new("chown");
            c.arg("postgres:postgres")
                .arg(data.join("server.key"))
                .arg(data.join("server.pem"));
            run(c, "chown");
        }
        let port = free_port();
        append(
            &data.join("postgresql.conf"),
            &format!(
                "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n",
                dir.path().display()
            ),
        );
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .expect("hba");
        let s = TlsPostgres {
            bin,
            data,
            port,
            certs,
            _dir: dir,
        };
        s.ctl("start");
        // Kept alive by `s` (the certificates directory must outlive the test).
        std::mem::forget(certs_dir);
        psql(s.port, "CREATE DATABASE trent");
        Some(s)
    }

    fn ctl(&self, action: &str) {
        let mut c = pg(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.with_extension("log"))
            .args(["-w", action]);
        run(c, &format!("pg_ctl {action}"));
    }

    fn url(&self, host: &str, params: &str) -> String {
        format!(
            "postgres://postgres@{host}:{}/trent?connect_timeout=3&{params}",
            self.port
        )
    }

    fn cert(&self, name: &str) -> String {
        self.certs.join(name).display().to_string()
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let mut c = pg(&self.bin, "pg_ctl");
        c.arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]);
        let _ = c.output();
        let _ = std::fs::remove_dir_all(&self.certs);
    }
}

/// What `trent serve` on `url` says as it refuses to start (it must refuse).
fn refused(url: &str) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--database", url])
        .output()
        .expect("run trent");
    assert!(!out.status.success(), "{url} must be refused");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_database_connection_is_encrypted_and_checked_as_sslmode_says() {
    let Some(pg) = tokio::task::spawn_blocking(TlsPostgres::start).await.expect("start") else {
        return;
    };
    let ca = pg.cert("test-ca.pem");
    let other = pg.cert("other-ca.pem");

    // verify-full with the issuing CA, to the name in the certificate: serves, over TLS.
    let data = tempfile::tempdir().expect("tmp");
    let url = pg.url("localhost", &format!("sslmode=verify-full&sslrootcert={ca}"));
    let mut server = Server::start_in(&data.path().join("n1"), &["--database", &url]);
    let c = server.client();
    let key = c
        .create_key()
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    let ct = c
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"over tls"))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    let encrypted = psql(
        pg.port,
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) FROM pg_stat_ssl s \
         JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'trent'",
    );
    let (tls, plain) = encrypted.trim().split_once('|').expect("two counts");
    assert!(
        tls.parse::<u32>().expect("n") >= 1 && plain == "0",
        "trent's connections: {encrypted}"
    );
    assert!(server.stop(), "clean stop");

    // The wrong name, or another CA: refused before anything is sent.
    let e = refused(&pg.url("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={ca}")));
    assert!(e.contains("certificate"), "{e}");
    let e = refused(&pg.url("localhost", &format!("sslmode=verify-full&sslrootcert={other}")));
    assert!(e.contains("certificate"), "{e}");
    let e = refused(&pg.url("localhost", "sslmode=verify-ca"));
    assert!(e.contains("sslrootcert"), "{e}");
    // Plain TCP: the server refuses it (and Trent says so).
    let e = refused(&pg.url("localhost", "sslmode=disable"));
    assert!(e.contains("no encryption") || e.contains("pg_hba"), "{e}");

    // verify-ca checks the chain, not the name; require (no roots) only encrypts. Both reach the
    // same data.
    for params in [
        format!("sslmode=verify-ca&sslrootcert={ca}"),
        "sslmode=require".to_owned(),
    ] {
        let mut s = Server::start_in(&data.path().join("n1"), &["--database", &pg.url("127.0.0.1", &params)]);
        let out = s
            .client()
            .decrypt()
            .ciphertext_blob(ct.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{params}: {e:?}"));
        assert_eq!(out.plaintext().expect("pt").as_ref(), b"over tls");
        assert!(s.stop());
    }
}
