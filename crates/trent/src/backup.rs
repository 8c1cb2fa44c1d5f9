//! `trent backup <file>` and `trent restore <file>` for the embedded store (issue 12): an online,
//! consistent snapshot of the SQLite database (SQLite's online backup API, with a progress
//! display), still sealed — it holds no root
//! key, so it is useless without the data directory's `root.key` or `seal.json` (and
//! passphrase), which are backed up apart. The file is self-checking:
//!
//! ```text
//! TRENT-BACKUP 1\n
//! sha256 <64 hex>\n
//! bytes <length of the database>\n
//! \n
//! <the database>
//! ```
//!
//! `restore` refuses a file whose header, length or checksum is wrong (a truncated or altered
//! backup) and an initialised data directory, and changes nothing when it refuses. For PostgreSQL
//! the database's own tools apply (`pg_dump`/`pg_restore`, or `pg_basebackup`), with the seal
//! file beside them.

use std::io::Write;
use std::path::Path;

use trent_store::sqlite::SqliteStore;

use crate::datadir::Location;

const MAGIC: &str = "TRENT-BACKUP 1";

fn sibling(path: &Path, tag: &str) -> Result<std::path::PathBuf, String> {
    let mut r = [0u8; 6];
    trent_crypto::random::fill(&mut r).map_err(|e| e.to_string())?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(path.with_file_name(format!(".{name}.{tag}-{}", hex::encode(r))))
}

fn write_atomically(path: &Path, parts: &[&[u8]]) -> Result<(), String> {
    let tmp = sibling(path, "tmp")?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        for p in parts {
            f.write_all(p)?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{}: {e}", path.display()));
    }
    Ok(())
}

pub fn backup(at: &Location, out: &Path) -> Result<(), String> {
    if at.database.is_some() {
        return Err("trent backup copies the embedded SQLite store; for PostgreSQL use pg_dump or pg_basebackup, and keep the seal file (root.key or seal.json) apart".into());
    }
    if out.exists() {
        return Err(format!("{} exists already", out.display()));
    }
    let db = at.data_dir.join("trent.db");
    if !db.exists() {
        return Err(format!(
            "{} is not an initialised data directory",
            at.data_dir.display()
        ));
    }
    let store = SqliteStore::open(&db).map_err(|e| e.to_string())?;
    let snapshot = sibling(out, "snapshot")?;
    eprintln!("trent backup: snapshot of {}", db.display());
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut shown = -1i64;
    let mut progress = |copied: i64, total: i64| {
        let percent = if total > 0 { copied * 100 / total } else { 100 };
        if tty {
            eprint!("\rtrent backup: {copied}/{total} pages ({percent}%)");
        } else if percent / 10 != shown / 10 {
            eprintln!("trent backup: {copied}/{total} pages ({percent}%)");
        }
        shown = percent;
    };
    let taken = store
        .backup_with_progress(&snapshot, 1024, &mut progress)
        .map_err(|e| e.to_string());
    if tty {
        eprintln!();
    }
    let bytes = taken.and_then(|()| std::fs::read(&snapshot).map_err(|e| e.to_string()));
    let _ = std::fs::remove_file(&snapshot);
    let bytes = bytes?;
    let sum = hex::encode(trent_crypto::sha256(&bytes));
    let header = format!("{MAGIC}\nsha256 {sum}\nbytes {}\n\n", bytes.len());
    write_atomically(out, &[header.as_bytes(), &bytes])?;
    println!(
        "trent backup: {} ({} bytes of database, sha256 {sum}); back up {} apart from it",
        out.display(),
        bytes.len(),
        match crate::seals::existing(at) {
            Ok(Some(trent_seal::SealKind::File)) | Ok(None) | Err(_) => "root.key",
            Ok(Some(_)) => "seal.json (and what unseals it)",
        }
    );
    Ok(())
}

/// The database in a backup file, after checking it whole.
fn read_backup(file: &Path) -> Result<Vec<u8>, String> {
    let data = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let bad = |why: &str| format!("{} is not a usable backup: {why}", file.display());
    let split = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or_else(|| bad("no header"))?;
    let (head, rest) = data.split_at(split);
    let body = rest.get(2..).unwrap_or_default();
    let head = std::str::from_utf8(head).map_err(|_| bad("the header is not text"))?;
    let mut lines = head.lines();
    if lines.next() != Some(MAGIC) {
        return Err(bad("it does not start with TRENT-BACKUP 1"));
    }
    let sum = lines
        .next()
        .and_then(|l| l.strip_prefix("sha256 "))
        .ok_or_else(|| bad("no checksum"))?;
    let len: usize = lines
        .next()
        .and_then(|l| l.strip_prefix("bytes "))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| bad("no length"))?;
    if body.len() != len {
        return Err(bad(&format!(
            "it holds {} bytes of database, its header says {len} (truncated?)",
            body.len()
        )));
    }
    if hex::encode(trent_crypto::sha256(body)) != sum {
        return Err(bad("its checksum does not match (altered or damaged)"));
    }
    Ok(body.to_vec())
}

pub fn restore(file: &Path, at: &Location) -> Result<(), String> {
    if at.database.is_some() {
        return Err("trent restore restores the embedded SQLite store; for PostgreSQL use pg_restore".into());
    }
    let body = read_backup(file)?;
    let db = at.data_dir.join("trent.db");
    if db.exists() {
        return Err(format!(
            "{} already holds a database: restore into a new data directory",
            at.data_dir.display()
        ));
    }
    std::fs::create_dir_all(&at.data_dir).map_err(|e| format!("{}: {e}", at.data_dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&at.data_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", at.data_dir.display()))?;
    }
    write_atomically(&db, &[&body])?;
    // It must open as a Trent database of a schema this binary reads.
    if let Err(e) = SqliteStore::open(&db) {
        let _ = std::fs::remove_file(&db);
        return Err(format!("the restored database does not open: {e}"));
    }
    println!(
        "trent restore: {} restored into {}; put the backed-up root.key (or seal.json) there, then start the server",
        file.display(),
        db.display()
    );
    Ok(())
}
