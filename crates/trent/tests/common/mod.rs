//! Test harness: starts the real `trent` binary on an ephemeral port with a temporary data
//! directory, reads the credentials it writes to `admin.env`, and builds `aws-sdk-kms` clients.
#![allow(dead_code)]

pub mod certs;
pub mod xks;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::ProvideErrorMetadata;

pub struct Server {
    child: Option<Child>,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub endpoint: String,
    pub addr: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
    /// `http://host:port/metrics` (every test server serves metrics on a port of its own).
    pub metrics: Option<String>,
    /// `https://host:port/kms/xks/v1` when the server serves the XKS proxy API.
    pub xks: Option<String>,
}

pub fn env_value(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} missing from admin.env"))
        .to_owned()
}

impl Server {
    pub fn start() -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data");
        let mut s = Server::start_in(&dir, &[]);
        s._tmp = Some(tmp);
        s
    }

    /// Starts on `dir` (created or reused) with extra arguments.
    pub fn start_in(dir: &Path, extra: &[&str]) -> Server {
        Server::start_with(dir, extra, &[])
    }

    /// Starts on `dir` with extra arguments and environment variables.
    pub fn start_with(dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Server {
        Starting::spawn(dir, extra, envs).ready()
    }

    pub fn client(&self) -> aws_sdk_kms::Client {
        self.client_with(&self.access_key_id, &self.secret_access_key)
    }

    /// The admin's client for another Region of the deployment (its SigV4 scope names it).
    pub fn client_in(&self, region: &str) -> aws_sdk_kms::Client {
        self.client_for(&self.access_key_id, &self.secret_access_key, region)
    }

    pub fn client_with(&self, ak: &str, secret: &str) -> aws_sdk_kms::Client {
        self.client_for(ak, secret, &self.region.clone())
    }

    pub fn client_for(&self, ak: &str, secret: &str, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(Credentials::new(ak, secret, None, None, "test"))
            .endpoint_url(&self.endpoint)
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, std::process::Child::id)
    }

    /// Kills the server with SIGKILL (no shutdown work at all) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for a graceful exit; returns the exit status success.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        for _ in 0..100 {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        false
    }

    /// A raw HTTP/1.1 request; returns (status, body).
    pub fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
        raw(&self.addr, method, path, headers, body)
    }
}

/// Every regular file of a data directory with its contents, sorted by name (the admin
/// socket and subdirectories aside): what a refused start must leave unchanged, and where a
/// secret must not appear.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

/// One HTTP/1.1 request to `addr` (`host:port`) on a connection of its own: (status, body).
pub fn raw(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let (status, _, body) = raw_response(addr, method, path, headers, body);
    (status, body)
}

/// [`raw`], with the response's head (status line and headers) too: (status, head, body).
pub fn raw_response(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
            addr,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).expect("write");
        s.write_all(body).expect("write body");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status");
        let (head, body) = out.split_once("\r\n\r\n").unwrap_or((out.as_str(), ""));
        (status, head.to_owned(), body.to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The audit event line (`trent audit show`, one JSON document per line) that `matches`, waiting
/// up to 15 s for the server's once-a-second flush.
pub fn wait_for_audit_line(dir: &Path, matches: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let out = Command::new(env!("CARGO_BIN_EXE_trent"))
            .args(["audit", "show", "--data-dir"])
            .arg(dir)
            .output()
            .expect("audit show");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if let Some(line) = text.lines().find(|l| matches(l)) {
            return line.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "no such audit event:\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// (`__type`, message) of an SDK error.
pub fn err<E: ProvideErrorMetadata>(e: &E) -> (String, String) {
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

pub fn blob(b: &[u8]) -> aws_sdk_kms::primitives::Blob {
    aws_sdk_kms::primitives::Blob::new(b.to_vec())
}

/// Runs tasks through `tests/py/crosscheck.py` (the Python `cryptography` package).
pub fn crosscheck(tasks: &serde_json::Value) -> Vec<serde_json::Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/crosscheck.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with the cryptography package must be installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(tasks.to_string().as_bytes())
        .expect("write tasks");
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "crosscheck.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json results")
}

pub fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn unb64(s: &serde_json::Value) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().expect("string"))
        .expect("base64")
}

/// A server process that has not said it serves yet.
pub struct Starting {
    child: Child,
    dir: PathBuf,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    /// `http://host:port/metrics`, once the server said it.
    pub metrics: Option<String>,
    /// Where a sealed server answers 503 while it waits (`trent: sealed (…): listening on …`).
    pub sealed_endpoint: Option<String>,
    /// `https://host:port/kms/xks/v1`, once the server said it.
    pub xks: Option<String>,
}

impl Starting {
    pub fn spawn(dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Starting {
        let log = std::fs::File::create(dir.with_extension("log")).expect("log file");
        // An ephemeral port unless the test names one.
        let listen: &[&str] = if extra.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_trent"))
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(listen)
            .args(extra)
            .env_remove("TRENT_ACCOUNT_ID")
            .env_remove("TRENT_REGION")
            .env("TRENT_METRICS_LISTEN", "127.0.0.1:0")
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn trent");
        let stdout = child.stdout.take().expect("stdout");
        Starting {
            child,
            dir: dir.to_owned(),
            lines: BufReader::new(stdout).lines(),
            metrics: None,
            sealed_endpoint: None,
            xks: None,
        }
    }

    /// Reads stdout until the server says it is sealed (and where it answers meanwhile).
    pub fn sealed(mut self) -> Starting {
        for line in self.lines.by_ref() {
            let line = line.expect("read stdout");
            if let Some(url) = line.strip_prefix("trent: metrics on ") {
                self.metrics = Some(url.to_owned());
            }
            if let Some(rest) = line.strip_prefix("trent: sealed (") {
                let url = rest
                    .split("listening on ")
                    .nth(1)
                    .expect("sealed line names the endpoint");
                self.sealed_endpoint = Some(url.split(',').next().expect("url").to_owned());
                return self;
            }
        }
        let log = std::fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default();
        panic!("trent did not start sealed:\n{log}")
    }

    /// Waits for the process to exit (a start that must fail) and returns its log.
    pub fn fails(mut self) -> String {
        let status = self.child.wait().expect("wait");
        assert!(!status.success(), "trent was expected to refuse to start");
        std::fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default()
    }

    /// Reads stdout until the server serves.
    pub fn ready(mut self) -> Server {
        let mut endpoint = None;
        for line in self.lines.by_ref() {
            let line = line.expect("read stdout");
            if let Some(url) = line.strip_prefix("trent: metrics on ") {
                self.metrics = Some(url.to_owned());
            }
            if let Some(url) = line.strip_prefix("trent: XKS proxy API on ") {
                self.xks = Some(url.to_owned());
            }
            if let Some(url) = line.strip_prefix("trent: listening on ") {
                endpoint = Some(url.to_owned());
                break;
            }
        }
        let dir = self.dir.clone();
        let mut child = self.child;
        let endpoint = endpoint.unwrap_or_else(|| {
            let _ = child.kill();
            let mut log = String::new();
            let _ = std::fs::File::open(dir.with_extension("log")).and_then(|mut f| f.read_to_string(&mut log));
            panic!("trent did not start:\n{log}")
        });
        // Keep draining stdout so the child never blocks on a full pipe.
        let lines = self.lines;
        std::thread::spawn(move || for _ in lines {});
        let env = std::fs::read_to_string(dir.join("admin.env")).expect("admin.env");
        let addr = endpoint
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_owned();
        let access_key_id = env_value(&env, "AWS_ACCESS_KEY_ID");
        Server {
            child: Some(child),
            dir,
            _tmp: None,
            addr,
            access_key_id,
            secret_access_key: env_value(&env, "AWS_SECRET_ACCESS_KEY"),
            region: env_value(&env, "AWS_REGION"),
            endpoint,
            metrics: self.metrics,
            xks: self.xks,
        }
    }
}

impl Server {
    /// Asserts that `secret` appears in no file of the data directory in raw, hex or base64 form.
    pub fn assert_absent_from_data_dir(&self, secret: &[u8]) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let needles: Vec<(&str, Vec<u8>)> = vec![
            ("raw", secret.to_vec()),
            ("hex", hex_lower(secret).into_bytes()),
            ("HEX", hex_lower(secret).to_uppercase().into_bytes()),
            ("base64", b64.encode(secret).into_bytes()),
            (
                "base64url",
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(secret)
                    .into_bytes(),
            ),
            ("raw prefix", secret[..secret.len().min(16)].to_vec()),
        ];
        for (file, bytes) in snapshot(&self.dir) {
            if file == "root.key" {
                continue;
            }
            for (name, needle) in &needles {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "{name} found in {file}"
                );
            }
        }
    }
}

pub fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Server {
    /// A signed IAM Query request (form-encoded) as the account root; returns (status, XML).
    pub fn iam(&self, params: &[(&str, &str)]) -> (u16, String) {
        self.query(
            "iam",
            "2010-05-08",
            (&self.access_key_id, &self.secret_access_key, None),
            params,
        )
    }

    /// A signed STS Query request as the account root.
    pub fn sts(&self, params: &[(&str, &str)]) -> (u16, String) {
        self.query(
            "sts",
            "2011-06-15",
            (&self.access_key_id, &self.secret_access_key, None),
            params,
        )
    }

    /// A signed Query request for `service` with the given credentials.
    pub fn query(
        &self,
        service: &str,
        version: &str,
        creds: (&str, &str, Option<&str>),
        params: &[(&str, &str)],
    ) -> (u16, String) {
        use aws_credential_types::Credentials;
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        use aws_sigv4::sign::v4;
        use aws_smithy_runtime_api::client::identity::Identity;
        let mut body = format!("Version={version}");
        for (k, v) in params {
            body.push('&');
            body.push_str(k);
            body.push('=');
            for b in v.bytes() {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    body.push(b as char);
                } else {
                    body.push_str(&format!("%{b:02X}"));
                }
            }
        }
        let identity: Identity = Credentials::new(creds.0, creds.1, creds.2.map(str::to_owned), None, "t").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let headers = [
            ("host", self.addr.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        let req = SignableRequest::new(
            "POST",
            "/",
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .expect("signable");
        let (instructions, _) = sign(req, &params).expect("sign").into_parts();
        let mut h: Vec<(String, String)> = vec![("content-type".into(), "application/x-www-form-urlencoded".into())];
        for (k, v) in instructions.headers() {
            h.push((k.to_owned(), v.to_owned()));
        }
        let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.raw("POST", "/", &refs, body.as_bytes())
    }

    /// A signed KMS request built by hand, for the SigV4 rules SDKs never break: `extra` headers
    /// are sent (and signed unless listed in `unsigned`), `removed` headers are signed and then
    /// not sent, `token` is sent as `X-Amz-Security-Token`. Returns (status, body).
    #[allow(clippy::too_many_arguments)] // each knob is one SigV4 rule under test
    pub fn kms_signed(
        &self,
        (ak, sk): (&str, &str),
        target: &str,
        body: &str,
        extra: &[(&str, &str)],
        unsigned: &[&str],
        removed: &[&str],
        token: Option<&str>,
    ) -> (u16, String) {
        use aws_credential_types::Credentials;
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        use aws_sigv4::sign::v4;
        use aws_smithy_runtime_api::client::identity::Identity;
        let identity: Identity = Credentials::new(ak, sk, token.map(str::to_owned), None, "t").into();
        let mut settings = SigningSettings::default();
        settings.excluded_headers = Some(
            unsigned
                .iter()
                .map(|h| std::borrow::Cow::Owned((*h).to_owned()))
                .chain(
                    ["user-agent", "x-amzn-trace-id"]
                        .iter()
                        .map(|h| std::borrow::Cow::Borrowed(*h)),
                )
                .collect(),
        );
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("kms")
            .time(std::time::SystemTime::now())
            .settings(settings)
            .build()
            .expect("params")
            .into();
        let target = format!("TrentService.{target}");
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.addr.clone()),
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), target),
        ];
        headers.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let req = SignableRequest::new(
            "POST",
            "/",
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body.as_bytes()),
        )
        .expect("signable");
        let (instructions, _) = sign(req, &params).expect("sign").into_parts();
        for (k, v) in instructions.headers() {
            headers.push((k.to_owned(), v.to_owned()));
        }
        headers.retain(|(k, _)| k != "host" && !removed.contains(&k.as_str()));
        let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.raw("POST", "/", &refs, body.as_bytes())
    }

    /// Creates an IAM user with an access key; returns (user ARN, client for it).
    pub fn user(&self, name: &str) -> (String, aws_sdk_kms::Client) {
        let (status, xml) = self.iam(&[("Action", "CreateUser"), ("UserName", name)]);
        assert_eq!(status, 200, "{xml}");
        let arn = between(&xml, "<Arn>", "</Arn>");
        let (status, xml) = self.iam(&[("Action", "CreateAccessKey"), ("UserName", name)]);
        assert_eq!(status, 200, "{xml}");
        let ak = between(&xml, "<AccessKeyId>", "</AccessKeyId>");
        let sk = between(&xml, "<SecretAccessKey>", "</SecretAccessKey>");
        (arn, self.client_with(&ak, &sk))
    }
}

/// Encrypts `plaintext` under `key`; the ciphertext blob.
pub async fn encrypt(c: &aws_sdk_kms::Client, key: &str, plaintext: &[u8]) -> aws_sdk_kms::primitives::Blob {
    c.encrypt()
        .key_id(key)
        .plaintext(blob(plaintext))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ciphertext")
}

/// Decrypts `ciphertext` (the key named by the blob); the plaintext.
pub async fn decrypt(c: &aws_sdk_kms::Client, ciphertext: &aws_sdk_kms::primitives::Blob) -> Vec<u8> {
    c.decrypt()
        .ciphertext_blob(ciphertext.clone())
        .send()
        .await
        .expect("decrypt")
        .plaintext
        .expect("plaintext")
        .into_inner()
}

/// Creates a symmetric encryption key with default settings; its key id.
pub async fn new_key(c: &aws_sdk_kms::Client) -> String {
    c.create_key()
        .send()
        .await
        .expect("create key")
        .key_metadata
        .expect("key metadata")
        .key_id
}

/// The text between two markers (tests parse small XML answers this way).
pub fn between(text: &str, start: &str, end: &str) -> String {
    let from = text
        .find(start)
        .map(|i| i + start.len())
        .unwrap_or_else(|| panic!("{start} not in {text}"));
    let to = text[from..]
        .find(end)
        .map(|i| from + i)
        .unwrap_or_else(|| panic!("{end} not in {text}"));
    text[from..to].to_owned()
}

/// Imports `material` into `id` (RSAES_OAEP_SHA_256 wrapping by the Python `cryptography`
/// package, material that does not expire); the error code when refused.
pub async fn import_material(c: &aws_sdk_kms::Client, id: &str, material: &[u8]) -> Result<(), String> {
    use aws_sdk_kms::types::{AlgorithmSpec, ExpirationModelType, WrappingKeySpec};
    let p = c
        .get_parameters_for_import()
        .key_id(id)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .expect("parameters");
    let wrapped = crosscheck(&serde_json::json!([{
        "op": "wrap",
        "spki": b64(p.public_key().expect("pk").as_ref()),
        "alg": "RSAES_OAEP_SHA_256",
        "material": b64(material),
    }]));
    c.import_key_material()
        .key_id(id)
        .import_token(p.import_token().expect("token").clone())
        .encrypted_key_material(blob(&unb64(&wrapped[0])))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| err(&e).0)
}

/// Runs `tests/py/<script>` against `s` (its endpoint as TRENT_ENDPOINT, its admin's access key
/// as the AWS credentials, no other AWS configuration) with `envs`; asserts it succeeded and
/// printed `done`.
pub fn run_python(s: &Server, script: &str, envs: &[(&str, &str)], done: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py").join(script);
    let mut cmd = Command::new("python3");
    cmd.arg(path)
        .env("TRENT_ENDPOINT", &s.endpoint)
        .env("AWS_ACCESS_KEY_ID", &s.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &s.secret_access_key)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("python3 with the test packages (scripts/test installs them)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(done), "{script}: {stdout}");
}
