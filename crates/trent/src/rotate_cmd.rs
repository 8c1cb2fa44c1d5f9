//! `trent operator rotate-root-key`: a new root key, every sealed record re-sealed under it
//! (`trent_core::rotation`), the old one destroyed. Run with the server stopped (every server of
//! a shared database: each keeps the root key in its own seal file).
//!
//! Crash-safe and resumable:
//! 1. The new key is sealed first, the way the live seal is (same passphrase, shares, HSM key
//!    or KMS key), into `root.key.rotating` / `seal.json.rotating`, and read back. While that
//!    file exists the server and every other command refuse to open the directory.
//! 2. Records are re-sealed in batches, each one transaction; a record that already opens
//!    under the new key is skipped, so running the command again after a crash finishes the
//!    job with the same staged key.
//! 3. The staged seal replaces the live one (a plain `root.key` is overwritten with zeros and
//!    synced first: by then nothing needs the old key), and SQLite is vacuumed so no old
//!    sealed bytes stay in free pages.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use trent_seal::SealKind;

use crate::datadir::{self, Location};
use crate::seals;

/// The staged seal file beside the live one.
pub fn staged_of(live: &Path) -> PathBuf {
    let mut name = live.file_name().unwrap_or_default().to_os_string();
    name.push(".rotating");
    live.with_file_name(name)
}

/// `Err` while a rotation is unfinished in `at` (nothing may open the directory then).
pub fn refuse_if_unfinished(at: &Location) -> Result<(), String> {
    for live in ["root.key", "seal.json"] {
        let staged = staged_of(&at.data_dir.join(live));
        if staged.exists() {
            return Err(format!(
                "a root-key rotation is unfinished ({} exists): run `trent operator rotate-root-key` again to finish it",
                staged.display()
            ));
        }
    }
    Ok(())
}

pub fn run(at: &Location, socket: &Path, batch: usize, pause_ms: u64) -> Result<(), String> {
    // A server that answers on its admin socket rotates online.
    if let Ok(v) = crate::admin_socket::ask(socket, b"status") {
        if v.get("sealed") == Some(&serde_json::Value::Bool(true)) {
            return Err("the server is sealed: unseal it first".into());
        }
        return online(at, socket, batch);
    }
    let _lock = datadir::lock(&at.data_dir, datadir::Lock::Exclusive)?;
    let Some(kind) = seals::existing(at)? else {
        return Err(format!("{} is not initialised", at.data_dir.display()));
    };
    let store = datadir::open_sealed(at)?;
    let live = seals::file_of(&at.data_dir, kind);
    let staged = staged_of(&live);
    let given = seals::read_given(at, kind)?;
    let old = seals::unlock_at(at, kind, &live, given.clone())?;
    let new = if staged.exists() {
        eprintln!("trent: resuming the rotation staged in {}", staged.display());
        seals::unlock_at(at, kind, &staged, given.clone())?
    } else {
        let new = trent_crypto::RootKey::generate().map_err(|e| e.to_string())?;
        seals::stage(at, kind, &live, &given, &new, &staged)?;
        if seals::unlock_at(at, kind, &staged, given.clone())? != new {
            let _ = std::fs::remove_file(&staged);
            return Err("the staged seal does not give back the new root key; nothing changed".into());
        }
        new
    };
    if new == old {
        return Err("the staged root key is the live one: nothing to rotate".into());
    }
    let tty = std::io::stderr().is_terminal();
    let mut progress = |done: usize, total: usize| {
        if tty {
            eprint!("\rtrent: re-sealed {done}/{total} records");
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("trent: re-sealed {done}/{total} records");
        }
        if pause_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(pause_ms));
        }
    };
    let report = trent_core::rotation::rotate(store.as_ref(), &old, &new, batch, &mut progress)
        .map_err(|e| format!("rotation stopped (run the command again to resume): {e}"))?;
    if tty {
        eprintln!();
    }
    drop(store);
    // Everything opens under the new key: the old one goes.
    if kind == SealKind::File {
        destroy_in_place(&live)?;
    }
    std::fs::rename(&staged, &live).map_err(|e| format!("{}: {e}", live.display()))?;
    sync_dir(&at.data_dir);
    if at.database.is_none() {
        let db = trent_store::sqlite::SqliteStore::open(&at.data_dir.join("trent.db")).map_err(|e| e.to_string())?;
        db.compact().map_err(|e| format!("vacuum: {e}"))?;
    }
    println!(
        "trent: root key rotated: {} records re-sealed ({} already were), the old root key destroyed; \
         every other node of this database needs the new {}",
        report.resealed,
        report.already,
        live.file_name().unwrap_or_default().to_string_lossy()
    );
    Ok(())
}

/// The server runs: the new key is staged here (as offline), then handed to the server over its
/// admin socket, which re-seals while it keeps serving and swaps the seal files at the end.
fn online(at: &Location, socket: &Path, batch: usize) -> Result<(), String> {
    let Some(kind) = seals::existing(at)? else {
        return Err(format!("{} is not initialised", at.data_dir.display()));
    };
    let live = seals::file_of(&at.data_dir, kind);
    let staged = staged_of(&live);
    if staged.exists() {
        return Err(format!(
            "{} exists: a rotation is under way (the server resumes an interrupted one at start); `trent operator status` shows it",
            staged.display()
        ));
    }
    let given = seals::read_given(at, kind)?;
    // What opens the live seal opens the staged one: check it does before staging.
    let old = seals::unlock_at(at, kind, &live, given.clone())?;
    let new = trent_crypto::RootKey::generate().map_err(|e| e.to_string())?;
    seals::stage(at, kind, &live, &given, &new, &staged)?;
    if seals::unlock_at(at, kind, &staged, given)? != new || new == old {
        let _ = std::fs::remove_file(&staged);
        return Err("the staged seal does not give back the new root key; nothing changed".into());
    }
    use base64::Engine;
    let mut request = zeroize::Zeroizing::new(b"rotate ".to_vec());
    request.extend_from_slice(
        base64::engine::general_purpose::STANDARD
            .encode(new.expose())
            .as_bytes(),
    );
    request.extend_from_slice(format!(" {batch}").as_bytes());
    let v = crate::admin_socket::ask(socket, &request)?;
    if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
        let _ = std::fs::remove_file(&staged);
        return Err(format!("the server refused the rotation: {e}"));
    }
    let tty = std::io::stderr().is_terminal();
    loop {
        let v = crate::admin_socket::ask(socket, b"status")?;
        let done = v.get("done").and_then(|d| d.as_u64());
        let total = v.get("total").and_then(|d| d.as_u64());
        if let (Some(done), Some(total)) = (done, total) {
            if tty {
                eprint!("\rtrent: re-sealed {done}/{total} records (online)");
            } else {
                eprintln!("trent: re-sealed {done}/{total} records (online)");
            }
        }
        if v.get("rotating") != Some(&serde_json::Value::Bool(true)) && !staged.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    if tty {
        eprintln!();
    }
    println!(
        "trent: root key rotated online: every record is sealed under the new key and the old one is destroyed; \
         every other node of this database needs the new {}",
        live.file_name().unwrap_or_default().to_string_lossy()
    );
    Ok(())
}

/// Overwrites a file with zeros where it lies and syncs it (the rename that follows frees it).
pub(crate) fn destroy_in_place(path: &Path) -> Result<(), String> {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(&vec![0u8; usize::try_from(len).unwrap_or(0)])
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
