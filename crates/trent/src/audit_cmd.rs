//! `trent audit show` and `trent audit verify`: read the audit trail of a data directory (safe
//! while the server runs: SQLite WAL readers do not block the writer).

use std::io::Write;
use std::path::Path;

use trent_core::audit::{self, Verification};
use trent_store::Store;

/// Prints stored events, one JSON document per line, oldest first.
pub fn show(dir: &Path, after: i64, limit: usize, key: Option<&str>) -> Result<(), String> {
    let (store, _) = crate::datadir::open_store(dir)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut seq, mut printed) = (after, 0usize);
    while printed < limit {
        let page = store.audit_after(seq, 1000).map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        for r in page {
            if key.is_some_and(|k| !r.event.contains(k)) {
                continue;
            }
            writeln!(out, "{}", audit::render(&r)).map_err(|e| e.to_string())?;
            printed += 1;
            if printed == limit {
                break;
            }
        }
    }
    Ok(())
}

/// Recomputes the chain; an error (non-zero exit) when it is broken.
pub fn verify(dir: &Path) -> Result<(), String> {
    let (store, root) = crate::datadir::open_store(dir)?;
    match audit::verify(&store, &root).map_err(|e| e.to_string())? {
        Verification::Intact { events, head } => {
            match head {
                Some((seq, hash)) => println!("audit trail intact: {events} events; checkpoint seq {seq} hash {hash}"),
                None => println!("audit trail intact: 0 events"),
            }
            Ok(())
        }
        Verification::Broken { seq, reason } => Err(format!("audit trail broken at event {seq}: {reason}")),
    }
}
