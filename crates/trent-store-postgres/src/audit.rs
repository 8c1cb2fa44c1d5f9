//! The audit trail tables: `audit_batches` (one row per batch of events, keyed by chain and
//! sequence) and `audit_anchor` (per chain: the newest pruned event, where the remaining chain
//! verifies from). Each node appends to its own chain under a transaction-scoped advisory lock
//! on that chain alone, so the head check and the insert see the same head while nodes never
//! wait for each other (two servers given the same node id take turns on their shared chain).

use postgres::{Client, Row};
use trent_store::{AuditBatchRecord, AuditHead, StoreError};

use crate::{classify, col};

const BATCH_COLUMNS: &str = "first_seq, last_seq, first_time_ms, last_time_ms, body, last_hash";
/// First half of the two-key advisory lock of a chain ("tA"); the second is the chain's hash.
const LOCK_CLASS: i32 = 0x7441;

fn batch_row(r: &Row) -> Result<AuditBatchRecord, StoreError> {
    Ok(AuditBatchRecord {
        first_seq: col(r, 0)?,
        last_seq: col(r, 1)?,
        first_time_ms: col(r, 2)?,
        last_time_ms: col(r, 3)?,
        body: col(r, 4)?,
        last_hash: col(r, 5)?,
    })
}

/// Takes `chain`'s lock until the end of the transaction (appends and prunes of that chain
/// wait for each other; readers and other chains do not wait). A simple query with two integer
/// literals: one round trip, where a parameterised statement would take two (prepare, execute).
pub(crate) fn lock(c: &mut Client, chain: &str) -> Result<(), StoreError> {
    c.batch_execute(&format!(
        "SELECT pg_advisory_xact_lock({LOCK_CLASS}, {})",
        chain_lock_key(chain)
    ))
    .map_err(classify)
}

/// FNV-1a of the chain's name: a stable 32-bit key (two chains sharing one only take turns).
fn chain_lock_key(chain: &str) -> i32 {
    let h = chain
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    i32::from_ne_bytes(h.to_ne_bytes())
}

pub(crate) fn chains(c: &mut Client) -> Result<Vec<String>, StoreError> {
    // A skip scan over the primary key (chain, first_seq): one probe per chain, not per batch.
    let rows = c
        .query(
            "WITH RECURSIVE c(chain) AS ( \
               SELECT min(chain) FROM audit_batches \
               UNION ALL SELECT (SELECT min(chain) FROM audit_batches WHERE chain > c.chain) FROM c \
               WHERE c.chain IS NOT NULL) \
             SELECT chain FROM c WHERE chain IS NOT NULL \
             UNION SELECT chain FROM audit_anchor ORDER BY 1",
            &[],
        )
        .map_err(classify)?;
    rows.iter().map(|r| col(r, 0)).collect()
}

pub(crate) fn head(c: &mut Client, chain: &str) -> Result<Option<AuditHead>, StoreError> {
    let row = c
        .query_opt(
            "SELECT last_seq, last_hash FROM audit_batches WHERE chain = $1 ORDER BY last_seq DESC LIMIT 1",
            &[&chain],
        )
        .map_err(classify)?;
    row.map(|r| {
        Ok(AuditHead {
            seq: col(&r, 0)?,
            hash: col(&r, 1)?,
        })
    })
    .transpose()
}

pub(crate) fn anchor(c: &mut Client, chain: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    let row = c
        .query_opt("SELECT seq, chain_hash FROM audit_anchor WHERE chain = $1", &[&chain])
        .map_err(classify)?;
    row.map(|r| Ok((col(&r, 0)?, col(&r, 1)?))).transpose()
}

/// Inside a transaction: appends `batches` only if they continue the stored chain.
pub(crate) fn append(c: &mut Client, chain: &str, batches: &[AuditBatchRecord]) -> Result<(), StoreError> {
    lock(c, chain)?;
    let stored = match head(c, chain)? {
        Some(h) => h.seq,
        None => anchor(c, chain)?.map_or(0, |a| a.0),
    };
    let mut expected = stored + 1;
    let insert = c
        .prepare(&format!(
            "INSERT INTO audit_batches (chain, {BATCH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .map_err(classify)?;
    for b in batches {
        if b.first_seq != expected || b.last_seq < b.first_seq {
            return Err(StoreError::Conflict);
        }
        c.execute(
            &insert,
            &[
                &chain,
                &b.first_seq,
                &b.last_seq,
                &b.first_time_ms,
                &b.last_time_ms,
                &b.body,
                &b.last_hash,
            ],
        )
        .map_err(classify)?;
        expected = b.last_seq + 1;
    }
    Ok(())
}

pub(crate) fn after(
    c: &mut Client,
    chain: &str,
    after_seq: i64,
    limit: usize,
) -> Result<Vec<AuditBatchRecord>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {BATCH_COLUMNS} FROM audit_batches WHERE chain = $1 AND last_seq > $2 \
                 ORDER BY first_seq LIMIT $3"
            ),
            &[&chain, &after_seq, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )
        .map_err(classify)?;
    rows.iter().map(batch_row).collect()
}

pub(crate) fn before(
    c: &mut Client,
    chain: &str,
    before_seq: i64,
    limit: usize,
) -> Result<Vec<AuditBatchRecord>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {BATCH_COLUMNS} FROM audit_batches WHERE chain = $1 AND first_seq < $2 \
                 ORDER BY first_seq DESC LIMIT $3"
            ),
            &[&chain, &before_seq, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )
        .map_err(classify)?;
    rows.iter().map(batch_row).collect()
}

/// Inside a transaction: the anchor of a chain that holds no events.
pub(crate) fn import_anchor(c: &mut Client, chain: &str, seq: i64, hash: &[u8]) -> Result<(), StoreError> {
    lock(c, chain)?;
    if head(c, chain)?.is_some() {
        return Err(StoreError::Conflict);
    }
    set_anchor(c, chain, seq, hash)
}

fn set_anchor(c: &mut Client, chain: &str, seq: i64, hash: &[u8]) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO audit_anchor (chain, seq, chain_hash) VALUES ($1, $2, $3) \
         ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, chain_hash = excluded.chain_hash",
        &[&chain, &seq, &hash],
    )
    .map_err(classify)?;
    Ok(())
}

/// Inside a transaction: retention (see `Store::prune_audit`).
pub(crate) fn prune(c: &mut Client, chain: &str, before_ms: i64, max_events: usize) -> Result<usize, StoreError> {
    lock(c, chain)?;
    let cap = max_events.max(1);
    let rows = c
        .query(
            &format!("SELECT {BATCH_COLUMNS} FROM audit_batches WHERE chain = $1 ORDER BY first_seq LIMIT $2"),
            &[&chain, &i64::try_from(cap).unwrap_or(i64::MAX)],
        )
        .map_err(classify)?;
    let mut last: Option<(i64, Vec<u8>)> = None;
    let mut n = 0usize;
    for r in &rows {
        let b = batch_row(r)?;
        if b.last_time_ms >= before_ms || n >= cap {
            break;
        }
        n += usize::try_from(b.last_seq - b.first_seq + 1).unwrap_or(0);
        last = Some((b.last_seq, b.last_hash));
    }
    let Some((seq, hash)) = last else {
        return Ok(0);
    };
    c.execute(
        "DELETE FROM audit_batches WHERE chain = $1 AND last_seq <= $2",
        &[&chain, &seq],
    )
    .map_err(classify)?;
    set_anchor(c, chain, seq, &hash)?;
    Ok(n)
}
