//! The server's local admin channel, and the commands that use it: `trent operator unseal` /
//! `status`, and the online `rotate-root-key`.
//!
//! A server listens on a Unix socket, `<data-dir>/trent.sock` by default, created mode 0600
//! inside the 0700 data directory, and talks only to peers running as its own user (or root),
//! checked with `SO_PEERCRED`. So the channel is authenticated by the operating system: whoever
//! may read the data directory may use it, nobody else, and nothing of it is reachable from the
//! network. A Shamir-sealed server cannot start without it; for the other seals a socket that
//! cannot be made (another server on the same directory) is logged and the server runs on.
//!
//! One request line, one JSON answer line per connection:
//! - `status` → sealed: `{"sealed":true,"seal":"shamir","threshold":3,"shares":5,"progress":1}`;
//!   open: `{"sealed":false,"rotating":false}` (with `"done"`/`"total"` while a root-key
//!   rotation runs)
//! - `unseal <share>` → the status after the share, or `{"error":…}` with the status
//! - `reset` → forgets the shares given so far
//! - `rotate <base64 root key> [batch size]` → starts an online root-key rotation to that key, whose seal
//!   the caller has staged beside the live one (`rotate_cmd`).
//!
//! Shares and keys are read into zeroizing buffers, never logged, and forgotten once used.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{oneshot, watch};
use trent_crypto::seal::Keyring;
use trent_crypto::RootKey;
use trent_seal::shamir::{Progress, Unsealer};

/// Records re-sealed per transaction when the command does not say.
pub const DEFAULT_BATCH: usize = 100;

/// The longest request line: a share is 44 characters of base64, a key 44 too.
const MAX_LINE: u64 = 4096;

pub fn default_socket(data_dir: &Path) -> PathBuf {
    data_dir.join("trent.sock")
}

/// Where a rotation's seal files are, to swap them when it is done.
#[derive(Debug, Clone)]
pub struct Finisher {
    pub live: PathBuf,
    pub staged: PathBuf,
    /// The file seal: the live file is the plain old key and is zeroed before the swap.
    pub plain: bool,
    /// Pause after each batch (debug builds, `TRENT_TEST_ROTATION_PAUSE_MS`: tests).
    pub pause_ms: u64,
}

enum State {
    Sealed {
        unsealer: Unsealer,
        done: Option<oneshot::Sender<Keyring>>,
    },
    /// Unsealed (or never sealed); the service once it is open.
    Open(Option<(Arc<trent_core::Kms>, Finisher)>),
}

/// A listening admin socket.
pub struct Admin {
    state: Arc<Mutex<State>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Admin {
    /// The service is open: status and rotation commands reach it from now on.
    pub fn set_open(&self, kms: Arc<trent_core::Kms>, finisher: Finisher) {
        if let Ok(mut g) = self.state.lock() {
            *g = State::Open(Some((kms, finisher)));
        }
    }
}

/// Listens on `path` until `stop`. With an `unsealer` the server is sealed: the keyring
/// arrives on the returned receiver once a threshold of shares was given.
pub fn listen(
    path: &Path,
    unsealer: Option<Unsealer>,
    mut stop: watch::Receiver<bool>,
) -> Result<(Admin, Option<oneshot::Receiver<Keyring>>), String> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!(
                "{} answers: another trent serves this data directory",
                path.display()
            ));
        }
        std::fs::remove_file(path).map_err(|e| format!("cannot remove the stale {}: {e}", path.display()))?;
    }
    let listener = UnixListener::bind(path).map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
    }
    let (state, rx) = match unsealer {
        Some(unsealer) => {
            let (tx, rx) = oneshot::channel();
            (
                State::Sealed {
                    unsealer,
                    done: Some(tx),
                },
                Some(rx),
            )
        }
        None => (State::Open(None), None),
    };
    let state = Arc::new(Mutex::new(state));
    let owner = rustix::process::getuid().as_raw();
    let shown = path.to_path_buf();
    let shared = Arc::clone(&state);
    let task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                () = async { drop(stop.wait_for(|s| *s).await) } => break,
                accepted = listener.accept() => match accepted {
                    Ok((s, _)) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "admin socket accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let state = Arc::clone(&shared);
            tokio::spawn(async move {
                if let Err(e) = connection(stream, owner, &state).await {
                    tracing::debug!(error = %e, "admin socket connection ended");
                }
            });
        }
        let _ = std::fs::remove_file(&shown);
    });
    Ok((Admin { state, task }, rx))
}

/// Runs a root-key rotation the service has begun to its end, then swaps the seal files: the
/// staged one (the new key) becomes the live one, and a plain old key is zeroed first.
pub async fn complete_rotation(kms: Arc<trent_core::Kms>, f: Finisher, batch: usize) {
    match kms.run_root_rotation(batch, f.pause_ms).await {
        Ok(report) => {
            if f.plain {
                if let Err(e) = crate::rotate_cmd::destroy_in_place(&f.live) {
                    tracing::error!(error = %e, "cannot zero the old root key");
                }
            }
            match std::fs::rename(&f.staged, &f.live) {
                Ok(()) => {
                    crate::rotate_cmd::sync_dir(f.live.parent().unwrap_or(Path::new(".")));
                    tracing::info!(
                        resealed = report.resealed,
                        already = report.already,
                        "root key rotated: every record is sealed under the new key, the old one is destroyed"
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, "root key rotated, but the staged seal could not replace the live one")
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "root-key rotation stopped; it resumes at the next start"),
    }
}

async fn connection(stream: UnixStream, owner: u32, state: &Mutex<State>) -> std::io::Result<()> {
    let peer = stream.peer_cred()?;
    let (read, mut write) = stream.into_split();
    if peer.uid() != owner && peer.uid() != 0 {
        tracing::warn!(uid = peer.uid(), "admin socket: refused a peer of another user");
        write
            .write_all(b"{\"error\":\"the admin socket answers only the server's own user\"}\n")
            .await?;
        return Ok(());
    }
    let mut line = zeroize::Zeroizing::new(Vec::with_capacity(128));
    let mut reader = BufReader::new(read).take(MAX_LINE);
    let n = tokio::time::timeout(Duration::from_secs(30), reader.read_until(b'\n', &mut line))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no request"))??;
    if n == 0 {
        return Ok(());
    }
    let answer = handle(&line, state);
    write.write_all(answer.to_string().as_bytes()).await?;
    write.write_all(b"\n").await
}

fn handle(line: &[u8], state: &Mutex<State>) -> serde_json::Value {
    let Ok(mut state) = state.lock() else {
        return serde_json::json!({"error": "internal error"});
    };
    let text = trim(line);
    let (command, arg) = match text.iter().position(|b| *b == b' ') {
        Some(i) => (text.get(..i).unwrap_or_default(), text.get(i + 1..).unwrap_or_default()),
        None => (text, &[][..]),
    };
    let (unsealer, done) = match &mut *state {
        State::Open(open) => return handle_open(command, arg, open.as_ref()),
        State::Sealed { unsealer, done } => (unsealer, done),
    };
    let status = |u: &Unsealer| {
        serde_json::json!({
            "sealed": true,
            "seal": "shamir",
            "threshold": u.threshold(),
            "shares": u.shares(),
            "progress": u.given(),
        })
    };
    let mut opened = false;
    let answer = match command {
        b"status" => status(unsealer),
        b"reset" => {
            unsealer.reset();
            tracing::info!("unseal progress reset");
            status(unsealer)
        }
        b"unseal" => match unsealer.add(arg) {
            Ok(Progress::Need { given, threshold }) => {
                tracing::info!(given, threshold, "unseal share accepted");
                status(unsealer)
            }
            Ok(Progress::Unsealed(key)) => {
                let ring = match unsealer.take_staged() {
                    Some(new) => Keyring::rotating(new, key),
                    None => Keyring::new(key),
                };
                if let Some(tx) = done.take() {
                    let _ = tx.send(ring);
                }
                tracing::info!("threshold of shares reached: unsealed");
                opened = true;
                serde_json::json!({"sealed": false})
            }
            Err(e) => {
                tracing::warn!(error = %e, "unseal share refused");
                with_error(status(unsealer), &e.to_string())
            }
        },
        _ => with_error(status(unsealer), "unknown command (status, unseal <share>, reset)"),
    };
    if opened {
        *state = State::Open(None);
    }
    answer
}

fn handle_open(command: &[u8], arg: &[u8], open: Option<&(Arc<trent_core::Kms>, Finisher)>) -> serde_json::Value {
    let status = |kms: Option<&Arc<trent_core::Kms>>| {
        let mut v = serde_json::json!({"sealed": false, "rotating": kms.is_some_and(|k| k.root_rotating())});
        if let (Some((done, total)), Some(o)) = (kms.and_then(|k| k.root_rotation_progress()), v.as_object_mut()) {
            o.insert("done".into(), done.into());
            o.insert("total".into(), total.into());
        }
        v
    };
    match command {
        b"status" | b"unseal" | b"reset" => status(open.map(|o| &o.0)),
        b"rotate" => {
            let Some((kms, finisher)) = open else {
                return with_error(status(None), "the server is still opening: try again");
            };
            if kms.root_rotating() {
                return with_error(status(Some(kms)), "a root-key rotation is already running");
            }
            if !finisher.staged.exists() {
                return with_error(
                    status(Some(kms)),
                    "no staged seal: run `trent operator rotate-root-key`",
                );
            }
            use base64::Engine;
            // `<base64 key> [batch size]`
            let mut words = arg.split(|b| *b == b' ').filter(|w| !w.is_empty());
            let key = zeroize::Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(words.next().unwrap_or_default())
                    .unwrap_or_default(),
            );
            let batch = words
                .next()
                .and_then(|w| std::str::from_utf8(w).ok())
                .and_then(|w| w.parse::<usize>().ok())
                .filter(|b| (1..=100_000).contains(b))
                .unwrap_or(DEFAULT_BATCH);
            let Some(key) = RootKey::from_slice(&key) else {
                return with_error(status(Some(kms)), "the new root key is not 32 bytes of base64");
            };
            if let Err(e) = kms.begin_root_rotation(key) {
                return with_error(status(Some(kms)), &e.to_string());
            }
            tracing::info!("online root-key rotation started");
            tokio::spawn(complete_rotation(Arc::clone(kms), finisher.clone(), batch));
            status(Some(kms))
        }
        _ => with_error(status(open.map(|o| &o.0)), "unknown command (status, rotate)"),
    }
}

fn with_error(mut v: serde_json::Value, error: &str) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("error".into(), serde_json::Value::String(error.to_owned()));
    }
    v
}

fn is_sealed(v: &serde_json::Value) -> bool {
    v.get("sealed") == Some(&serde_json::Value::Bool(true))
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// Sends one request line and returns the answer (client side).
pub fn ask(socket: &Path, request: &[u8]) -> Result<serde_json::Value, String> {
    use std::io::{BufRead, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).map_err(|e| {
        format!(
            "cannot reach the server's admin socket {}: {e} (is a sealed server running on this data directory?)",
            socket.display()
        )
    })?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    stream.write_all(request).map_err(|e| e.to_string())?;
    stream.write_all(b"\n").map_err(|e| e.to_string())?;
    let mut line = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut line)
        .map_err(|e| format!("no answer from {}: {e}", socket.display()))?;
    serde_json::from_str(&line).map_err(|_| format!("unexpected answer from {}", socket.display()))
}

fn describe(v: &serde_json::Value) -> String {
    if !is_sealed(v) {
        if v.get("rotating") == Some(&serde_json::Value::Bool(true)) {
            let field = |k: &str| v.get(k).map(|x| x.to_string()).unwrap_or_else(|| "?".into());
            return format!(
                "unsealed; rotating the root key: {} of {} records re-sealed",
                field("done"),
                field("total")
            );
        }
        return "unsealed".into();
    }
    let field = |k: &str| v.get(k).map(|x| x.to_string()).unwrap_or_default();
    format!(
        "sealed ({} seal): {} of {} shares given, {} shares exist",
        v.get("seal").and_then(|s| s.as_str()).unwrap_or("?"),
        field("progress"),
        field("threshold"),
        field("shares")
    )
}

/// `trent operator unseal`: one share, read from the terminal without echo or from stdin's
/// first line (never from argv, which every user of the machine can read).
pub fn unseal(socket: &Path, reset: bool) -> Result<(), String> {
    if reset {
        let v = ask(socket, b"reset")?;
        println!("trent: {}", describe(&v));
        return Ok(());
    }
    let share = read_share("Unseal share: ")?;
    let mut request = zeroize::Zeroizing::new(b"unseal ".to_vec());
    request.extend_from_slice(share.as_bytes());
    let v = ask(socket, &request)?;
    if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
        return Err(format!("{e}; {}", describe(&v)));
    }
    println!("trent: {}", describe(&v));
    Ok(())
}

/// `trent operator status`: exit status 2 while sealed (as `vault status`).
pub fn status(socket: &Path) -> Result<bool, String> {
    let v = ask(socket, b"status")?;
    println!("trent: {}", describe(&v));
    Ok(is_sealed(&v))
}

/// A share (or other secret line) from the terminal without echo, else stdin's first line.
pub fn read_share(prompt: &str) -> Result<zeroize::Zeroizing<String>, String> {
    use std::io::{BufRead, IsTerminal};
    let text = if std::io::stdin().is_terminal() {
        zeroize::Zeroizing::new(rpassword::prompt_password(prompt).map_err(|e| format!("prompt: {e}"))?)
    } else {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("stdin: {e}"))?;
        line
    };
    let trimmed = zeroize::Zeroizing::new(text.trim().to_owned());
    if trimmed.is_empty() {
        return Err("no share given (type it at the prompt, or pipe it on stdin)".into());
    }
    Ok(trimmed)
}
