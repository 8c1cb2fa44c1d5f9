//! Dev mode (`trent serve --dev`), the replacement for a KMS mock in an application's tests: any
//! access key with a well-formed signature is the root of account 000000000000, the data directory
//! is temporary (and gone after the server), a seed file creates keys with given ids, aliases,
//! tags and — for symmetric keys — material, so a ciphertext made by one seeded server decrypts
//! on the next. A request without a signature is still refused, and dev mode does not listen
//! beyond loopback unless told twice.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use common::{blob, err};

const SEED: &str = r#"
keys:
  - id: 11111111-2222-3333-4444-555555555555
    description: fixture key
    aliases: [alias/fixture]
    tags: {team: qa}
    material: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
  - spec: ECC_NIST_P256
    aliases: [alias/signer]
    policy: '{"Version":"2012-10-17","Statement":[{"Sid":"seeded","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}'
"#;

struct Dev {
    child: Child,
    endpoint: String,
    data_dir: PathBuf,
}

fn start(seed: &std::path::Path) -> Dev {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args([
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
            "--seed",
        ])
        .arg(seed)
        .env_remove("TRENT_DATA_DIR")
        .env_remove("TRENT_ACCOUNT_ID")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut endpoint, mut data_dir, mut banner) = (None, None, false);
    for line in lines.by_ref() {
        let line = line.expect("line");
        banner |= line.contains("DEV MODE");
        if let Some(p) = line.strip_prefix("trent: credentials in ") {
            data_dir = PathBuf::from(p).parent().map(PathBuf::from);
        }
        if let Some(url) = line.strip_prefix("trent: listening on ") {
            endpoint = Some(url.to_owned());
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    assert!(banner, "dev mode says so when it starts");
    Dev {
        child,
        endpoint: endpoint.expect("started"),
        data_dir: data_dir.expect("data dir"),
    }
}

impl Dev {
    fn client(&self, ak: &str, sk: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new(ak, sk, None, None, "test"))
                .endpoint_url(&self.endpoint)
                .build(),
        )
    }

    fn stop(mut self) -> PathBuf {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.data_dir.clone()
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_mode_accepts_any_key_seeds_fixtures_and_stays_local() {
    let tmp = tempfile::tempdir().expect("tmp");
    let seed = tmp.path().join("keys.yaml");
    std::fs::write(&seed, SEED).expect("seed");

    let a = start(&seed);
    assert!(a.data_dir.starts_with(std::env::temp_dir()), "{}", a.data_dir.display());
    let c = a.client("test", "test");
    let m = c
        .describe_key()
        .key_id("alias/fixture")
        .send()
        .await
        .expect("seeded alias")
        .key_metadata
        .expect("m");
    assert_eq!(
        m.arn(),
        Some("arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555")
    );
    assert_eq!(m.description(), Some("fixture key"));
    let tags = c.list_resource_tags().key_id(m.key_id()).send().await.expect("tags");
    assert_eq!(tags.tags()[0].tag_key(), "team");
    // GetKeyPolicy takes a key id or ARN, not an alias (as in AWS).
    let signer_id = c
        .describe_key()
        .key_id("alias/signer")
        .send()
        .await
        .expect("signer")
        .key_metadata
        .expect("m")
        .key_id;
    let signer = c.get_key_policy().key_id(&signer_id).send().await.expect("policy");
    assert!(signer.policy().expect("text").contains("seeded"));
    let ct = c
        .encrypt()
        .key_id("alias/fixture")
        .plaintext(blob(b"fixture plaintext"))
        .encryption_context("app", "tests")
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    // Any other key works too: it is the same account's root.
    let other = a.client("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    other.list_keys().send().await.expect("any key");
    // No signature at all is still refused.
    let addr = a.endpoint.trim_start_matches("http://").to_owned();
    let mut tcp = std::net::TcpStream::connect(&addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    write!(
        tcp,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .expect("write");
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 400") && answer.contains("MissingAuthenticationToken"),
        "{answer}"
    );
    let dir = a.stop();
    assert!(!dir.exists(), "the temporary data directory goes with the server");

    // A new server with the same seed decrypts what the first one made.
    let b = start(&seed);
    let pt = b
        .client("test", "test")
        .decrypt()
        .ciphertext_blob(ct)
        .encryption_context("app", "tests")
        .send()
        .await
        .expect("a fixture made by an earlier seeded server decrypts");
    assert_eq!(pt.plaintext().expect("pt").as_ref(), b"fixture plaintext");
    let e = b
        .client("test", "test")
        .create_alias()
        .alias_name("alias/fixture")
        .target_key_id("11111111-2222-3333-4444-555555555555")
        .send()
        .await
        .expect_err("the seeded alias exists");
    assert_eq!(err(&e).0, "AlreadyExistsException");
    drop(b);

    // Beyond loopback only with a second flag; a seed only in dev mode.
    let out = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["serve", "--dev", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dev-allow-remote"));
    let out = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["serve", "--seed"])
        .arg(&seed)
        .output()
        .expect("run");
    assert!(!out.status.success(), "--seed needs --dev");
}
