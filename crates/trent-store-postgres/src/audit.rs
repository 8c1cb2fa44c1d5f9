//! The audit trail tables: `audit_batches` (one row per batch of events) and `audit_anchor` (the
//! newest pruned event, where the remaining chain verifies from). An append takes a table lock
//! that only other appends and prunes wait for, so the chain check and the insert see the same
//! head even when several nodes append.

use postgres::{Client, Row};
use trent_store::{AuditBatchRecord, AuditHead, StoreError};

use crate::{classify, col};

const BATCH_COLUMNS: &str = "first_seq, last_seq, first_time_ms, last_time_ms, body, last_hash";
/// Self-conflicting, and compatible with readers: serializes appends and prunes only.
const LOCK: &str = "LOCK TABLE audit_batches IN SHARE ROW EXCLUSIVE MODE";

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

/// Takes the chain's lock until the end of the transaction.
pub(crate) fn lock(c: &mut Client) -> Result<(), StoreError> {
    c.batch_execute(LOCK).map_err(classify)
}

pub(crate) fn head(c: &mut Client) -> Result<Option<AuditHead>, StoreError> {
    let row = c
        .query_opt(
            "SELECT last_seq, last_hash FROM audit_batches ORDER BY last_seq DESC LIMIT 1",
            &[],
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

pub(crate) fn anchor(c: &mut Client) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    let row = c
        .query_opt("SELECT seq, chain_hash FROM audit_anchor WHERE id = 1", &[])
        .map_err(classify)?;
    row.map(|r| Ok((col(&r, 0)?, col(&r, 1)?))).transpose()
}

/// Inside a transaction: appends `batches` only if they continue the stored chain.
pub(crate) fn append(c: &mut Client, batches: &[AuditBatchRecord]) -> Result<(), StoreError> {
    lock(c)?;
    let stored = match head(c)? {
        Some(h) => h.seq,
        None => anchor(c)?.map_or(0, |a| a.0),
    };
    let mut expected = stored + 1;
    let insert = c
        .prepare(&format!(
            "INSERT INTO audit_batches ({BATCH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .map_err(classify)?;
    for b in batches {
        if b.first_seq != expected || b.last_seq < b.first_seq {
            return Err(StoreError::Conflict);
        }
        c.execute(
            &insert,
            &[
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

pub(crate) fn after(c: &mut Client, after_seq: i64, limit: usize) -> Result<Vec<AuditBatchRecord>, StoreError> {
    let rows = c
        .query(
            &format!("SELECT {BATCH_COLUMNS} FROM audit_batches WHERE last_seq > $1 ORDER BY first_seq LIMIT $2"),
            &[&after_seq, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )
        .map_err(classify)?;
    rows.iter().map(batch_row).collect()
}

/// Inside a transaction: the anchor of a trail that holds no events.
pub(crate) fn import_anchor(c: &mut Client, seq: i64, hash: &[u8]) -> Result<(), StoreError> {
    lock(c)?;
    if head(c)?.is_some() {
        return Err(StoreError::Conflict);
    }
    set_anchor(c, seq, hash)
}

fn set_anchor(c: &mut Client, seq: i64, hash: &[u8]) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO audit_anchor (id, seq, chain_hash) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, chain_hash = excluded.chain_hash",
        &[&seq, &hash],
    )
    .map_err(classify)?;
    Ok(())
}

/// Inside a transaction: retention (see `Store::prune_audit`).
pub(crate) fn prune(c: &mut Client, before_ms: i64, max_events: usize) -> Result<usize, StoreError> {
    lock(c)?;
    let cap = max_events.max(1);
    let rows = c
        .query(
            &format!("SELECT {BATCH_COLUMNS} FROM audit_batches ORDER BY first_seq LIMIT $1"),
            &[&i64::try_from(cap).unwrap_or(i64::MAX)],
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
    c.execute("DELETE FROM audit_batches WHERE last_seq <= $1", &[&seq])
        .map_err(classify)?;
    set_anchor(c, seq, &hash)?;
    Ok(n)
}
