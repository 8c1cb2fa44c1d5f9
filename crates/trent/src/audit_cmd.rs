//! `trent audit show` and `trent audit verify`: read the audit trail of a data directory or
//! database (safe while servers run: SQLite WAL readers and PostgreSQL readers do not block the
//! writers). The trail holds one hash chain per server (node id); `show` merges them by time,
//! `verify` checks each and prints its checkpoint.

use std::io::Write;

use trent_core::trail::{self, Checkpoint, Verification};
use trent_store::StoreError;

/// Prints stored events, one JSON document per line, oldest first: every chain merged by event
/// time, or only `chain` after its sequence number `after`.
pub fn show(
    at: &crate::datadir::Location,
    chain: Option<&str>,
    after: i64,
    limit: usize,
    key: Option<&str>,
) -> Result<(), String> {
    let store = crate::datadir::open_sealed(at)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut printed = 0usize;
    if limit == 0 {
        return Ok(());
    }
    let mut print = |entry: trail::Entry| {
        if key.is_some_and(|k| !trail::mentions(&entry, k)) {
            return Ok(true);
        }
        let line = trent_core::render_entry(&entry)?;
        writeln!(out, "{line}").map_err(|e| StoreError::Backend(e.to_string()))?;
        printed += 1;
        Ok(printed < limit)
    };
    match chain {
        Some(c) => trail::for_each_entry(store.as_ref(), c, after, print),
        None => trail::for_each_merged(store.as_ref(), |_, entry| print(entry)),
    }
    .map_err(|e| e.to_string())
}

/// Reads `checkpoint <chain> <seq> <hash>` lines (what `verify` prints; other lines are
/// ignored).
fn read_checkpoints(path: &std::path::Path) -> Result<Vec<Checkpoint>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let list: Vec<Checkpoint> = text.lines().filter_map(Checkpoint::parse).collect();
    if list.is_empty() && text.lines().any(|l| l.trim_start().starts_with("checkpoint")) {
        return Err(format!("{}: no well-formed checkpoint line", path.display()));
    }
    Ok(list)
}

/// Recomputes every chain (and checks the checkpoints in `checkpoints`, if given); an error
/// (non-zero exit) when one is broken or no longer reaches its checkpoint.
pub fn verify(at: &crate::datadir::Location, checkpoints: Option<&std::path::Path>) -> Result<(), String> {
    let expected = match checkpoints {
        Some(p) => read_checkpoints(p)?,
        None => Vec::new(),
    };
    let (store, root) = crate::datadir::open_store(at)?;
    match trent_core::verify_trail(store.as_ref(), &root, &expected).map_err(|e| e.to_string())? {
        Verification::Intact { events, chains, notes } => {
            println!(
                "audit trail intact: {events} events in {} chain{}{}",
                chains.len(),
                if chains.len() == 1 { "" } else { "s" },
                if expected.is_empty() {
                    String::new()
                } else {
                    format!("; {} checkpoints still in place", expected.len())
                }
            );
            for c in &chains {
                if let Some(head) = &c.head {
                    println!("{}", head.line());
                }
            }
            for n in notes {
                println!("note: {n}");
            }
            Ok(())
        }
        Verification::Broken { chain, seq, reason } => {
            Err(format!("audit trail broken in chain {chain} at event {seq}: {reason}"))
        }
    }
}
