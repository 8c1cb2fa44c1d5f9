//! `trent audit show` and `trent audit verify`: read the audit trail of a data directory or
//! database (safe while the server runs: SQLite WAL readers and PostgreSQL readers do not block
//! the writer).

use std::io::Write;

use trent_core::trail::{self, Verification};
use trent_store::StoreError;

/// Prints stored events, one JSON document per line, oldest first.
pub fn show(at: &crate::datadir::Location, after: i64, limit: usize, key: Option<&str>) -> Result<(), String> {
    let (store, _) = crate::datadir::open_store(at)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut printed = 0usize;
    if limit == 0 {
        return Ok(());
    }
    trail::for_each_entry(store.as_ref(), after, |entry| {
        if key.is_some_and(|k| !trail::mentions(&entry, k)) {
            return Ok(true);
        }
        let line = trent_core::render_entry(&entry)?;
        writeln!(out, "{line}").map_err(|e| StoreError::Backend(e.to_string()))?;
        printed += 1;
        Ok(printed < limit)
    })
    .map_err(|e| e.to_string())
}

/// Recomputes the chain; an error (non-zero exit) when it is broken.
pub fn verify(at: &crate::datadir::Location) -> Result<(), String> {
    let (store, root) = crate::datadir::open_store(at)?;
    match trent_core::verify_trail(store.as_ref(), &root).map_err(|e| e.to_string())? {
        Verification::Intact { events, head, notes } => {
            match head {
                Some((seq, hash)) => println!("audit trail intact: {events} events; checkpoint seq {seq} hash {hash}"),
                None => println!("audit trail intact: 0 events"),
            }
            for n in notes {
                println!("note: {n}");
            }
            Ok(())
        }
        Verification::Broken { seq, reason } => Err(format!("audit trail broken at event {seq}: {reason}")),
    }
}
