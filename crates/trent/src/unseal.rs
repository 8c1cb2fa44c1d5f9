//! The local admin channel of a sealed server, and `trent operator unseal` / `status`.
//!
//! A server whose seal needs an operator (Shamir shares) listens on a Unix socket,
//! `<data-dir>/trent.sock` by default, created mode 0600 inside the 0700 data directory, and
//! talks only to peers running as its own user (or root), checked with `SO_PEERCRED`. So the
//! channel is authenticated by the operating system: whoever may read the data directory may
//! unseal, nobody else, and nothing of it is reachable from the network.
//!
//! One request line, one JSON answer line per connection:
//! - `status` → `{"sealed":true,"seal":"shamir","threshold":3,"shares":5,"progress":1}`
//! - `unseal <share>` → the status after the share, or `{"error":…}` with the status
//! - `reset` → forgets the shares given so far.
//!
//! Shares are read into zeroizing buffers, never logged, and forgotten once combined.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{oneshot, watch};
use trent_crypto::RootKey;
use trent_seal::shamir::{Progress, ShamirSeal, Unsealer};

/// The longest request line: a share is 44 characters of base64.
const MAX_LINE: u64 = 4096;

pub fn default_socket(data_dir: &Path) -> PathBuf {
    data_dir.join("trent.sock")
}

enum State {
    Sealed {
        unsealer: Unsealer,
        done: Option<oneshot::Sender<RootKey>>,
    },
    Unsealed,
}

/// Listens on `path` until `stop`; the root key arrives on the returned receiver once a
/// threshold of shares was given.
pub fn listen(
    path: &Path,
    seal: &ShamirSeal,
    mut stop: watch::Receiver<bool>,
) -> Result<(oneshot::Receiver<RootKey>, tokio::task::JoinHandle<()>), String> {
    let unsealer = seal.unsealer().map_err(|e| e.to_string())?;
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
    let (tx, rx) = oneshot::channel();
    let state = Arc::new(Mutex::new(State::Sealed {
        unsealer,
        done: Some(tx),
    }));
    let owner = rustix::process::getuid().as_raw();
    let shown = path.to_path_buf();
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
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                if let Err(e) = connection(stream, owner, &state).await {
                    tracing::debug!(error = %e, "admin socket connection ended");
                }
            });
        }
        let _ = std::fs::remove_file(&shown);
    });
    Ok((rx, task))
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
    let State::Sealed { unsealer, done } = &mut *state else {
        return match command {
            b"status" | b"unseal" | b"reset" => serde_json::json!({"sealed": false}),
            _ => serde_json::json!({"error": "unknown command (status, unseal <share>, reset)", "sealed": false}),
        };
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
                if let Some(tx) = done.take() {
                    let _ = tx.send(key);
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
        *state = State::Unsealed;
    }
    answer
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
fn ask(socket: &Path, request: &[u8]) -> Result<serde_json::Value, String> {
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
