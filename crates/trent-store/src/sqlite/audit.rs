//! The audit trail tables: `audit_batches` (one row per batch of events, keyed by chain and
//! sequence since schema 9), `audit_anchor` (per chain: the newest pruned event) and
//! `audit_events` (one JSON event per row, written by schema 5 binaries and still read as
//! one-event batches of chain [`MAIN_CHAIN`], so the chain verifies across the upgrade). Appends
//! are one transaction and only continue the stored chain, so a batch is wholly on disk or
//! absent and two writers can never interleave sequence numbers.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{classify, Tx};
use crate::{AuditBatchRecord, AuditHead, StoreError, MAIN_CHAIN};

const BATCH_COLUMNS: &str = "first_seq, last_seq, first_time_ms, last_time_ms, body, last_hash";
/// Pre-batch rows read as one-event batches (`event` is TEXT; its bytes are what was hashed).
const LEGACY_AS_BATCH: &str = "seq, seq, time_ms, time_ms, CAST(event AS BLOB), chain_hash";

fn batch_row(r: &Row<'_>) -> rusqlite::Result<AuditBatchRecord> {
    Ok(AuditBatchRecord {
        first_seq: r.get(0)?,
        last_seq: r.get(1)?,
        first_time_ms: r.get(2)?,
        last_time_ms: r.get(3)?,
        body: r.get(4)?,
        last_hash: r.get(5)?,
    })
}

/// Legacy rows belong to the main chain only: `?1` is the chain, and the condition is false
/// for every other.
const LEGACY_CHAIN: &str = "?1 = 'main'";

fn head(c: &Connection, chain: &str) -> Result<Option<AuditHead>, StoreError> {
    let q = format!(
        "SELECT seq, hash FROM (SELECT last_seq AS seq, last_hash AS hash FROM audit_batches WHERE chain = ?1 \
         UNION ALL SELECT seq, chain_hash FROM audit_events WHERE {LEGACY_CHAIN}) ORDER BY seq DESC LIMIT 1"
    );
    c.query_row(&q, [chain], |r| {
        Ok(AuditHead {
            seq: r.get(0)?,
            hash: r.get(1)?,
        })
    })
    .optional()
    .map_err(classify)
}

pub(super) fn chains(c: &Connection) -> Result<Vec<String>, StoreError> {
    // A skip scan over the primary key (chain, first_seq): one probe per chain, not per batch.
    let q = "WITH RECURSIVE c(chain) AS ( \
               SELECT min(chain) FROM audit_batches \
               UNION ALL SELECT (SELECT min(chain) FROM audit_batches WHERE chain > c.chain) FROM c \
               WHERE c.chain IS NOT NULL) \
             SELECT chain FROM c WHERE chain IS NOT NULL \
             UNION SELECT chain FROM audit_anchor \
             UNION SELECT ?1 WHERE EXISTS (SELECT 1 FROM audit_events) \
             ORDER BY 1";
    let mut st = c.prepare(q).map_err(classify)?;
    let rows = st.query_map([MAIN_CHAIN], |r| r.get(0)).map_err(classify)?;
    rows.collect::<Result<Vec<String>, _>>().map_err(classify)
}

pub(super) fn append(c: &mut Connection, chain: &str, batches: &[AuditBatchRecord]) -> Result<(), StoreError> {
    let tx = Tx::begin(c)?;
    let stored = match head(&tx, chain)? {
        Some(h) => h.seq,
        None => anchor(&tx, chain)?.map_or(0, |a| a.0),
    };
    let mut expected = stored + 1;
    {
        let mut st = tx
            .prepare_cached(&format!(
                "INSERT INTO audit_batches (chain, {BATCH_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))
            .map_err(classify)?;
        for b in batches {
            if b.first_seq != expected || b.last_seq < b.first_seq {
                return Err(StoreError::Conflict);
            }
            st.execute(params![
                chain,
                b.first_seq,
                b.last_seq,
                b.first_time_ms,
                b.last_time_ms,
                b.body,
                b.last_hash
            ])
            .map_err(classify)?;
            expected = b.last_seq + 1;
        }
    }
    tx.commit()
}

pub(super) fn after(
    c: &Connection,
    chain: &str,
    after_seq: i64,
    limit: usize,
) -> Result<Vec<AuditBatchRecord>, StoreError> {
    let q = format!(
        "SELECT * FROM (SELECT {LEGACY_AS_BATCH} FROM audit_events WHERE {LEGACY_CHAIN} AND seq > ?2 \
         UNION ALL SELECT {BATCH_COLUMNS} FROM audit_batches WHERE chain = ?1 AND last_seq > ?2) \
         ORDER BY 1 LIMIT ?3"
    );
    let mut st = c.prepare_cached(&q).map_err(classify)?;
    let rows = st
        .query_map(
            params![chain, after_seq, i64::try_from(limit).unwrap_or(i64::MAX)],
            batch_row,
        )
        .map_err(classify)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(classify)
}

pub(super) fn before(
    c: &Connection,
    chain: &str,
    before_seq: i64,
    limit: usize,
) -> Result<Vec<AuditBatchRecord>, StoreError> {
    let q = format!(
        "SELECT * FROM (SELECT {LEGACY_AS_BATCH} FROM audit_events WHERE {LEGACY_CHAIN} AND seq < ?2 \
         UNION ALL SELECT {BATCH_COLUMNS} FROM audit_batches WHERE chain = ?1 AND first_seq < ?2) \
         ORDER BY 1 DESC LIMIT ?3"
    );
    let mut st = c.prepare_cached(&q).map_err(classify)?;
    let rows = st
        .query_map(
            params![chain, before_seq, i64::try_from(limit).unwrap_or(i64::MAX)],
            batch_row,
        )
        .map_err(classify)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(classify)
}

pub(super) fn last(c: &Connection, chain: &str) -> Result<Option<AuditHead>, StoreError> {
    head(c, chain)
}

fn set_anchor(tx: &Connection, chain: &str, seq: i64, hash: &[u8]) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit_anchor (chain, seq, chain_hash) VALUES (?1, ?2, ?3) \
         ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, chain_hash = excluded.chain_hash",
        params![chain, seq, hash],
    )
    .map_err(classify)?;
    Ok(())
}

pub(super) fn prune(c: &mut Connection, chain: &str, before_ms: i64, max_events: usize) -> Result<usize, StoreError> {
    let tx = Tx::begin(c)?;
    let mut last: Option<(i64, Vec<u8>)> = None;
    let mut n = 0usize;
    let cap = max_events.max(1);
    {
        let q = format!(
            "SELECT * FROM (SELECT {LEGACY_AS_BATCH} FROM audit_events WHERE {LEGACY_CHAIN} \
             UNION ALL SELECT {BATCH_COLUMNS} FROM audit_batches WHERE chain = ?1) ORDER BY 1 LIMIT ?2"
        );
        let mut st = tx.prepare(&q).map_err(classify)?;
        let mut rows = st
            .query(params![chain, i64::try_from(cap).unwrap_or(i64::MAX)])
            .map_err(classify)?;
        while let Some(r) = rows.next().map_err(classify)? {
            let b = batch_row(r).map_err(classify)?;
            if b.last_time_ms >= before_ms || n >= cap {
                break;
            }
            n += usize::try_from(b.last_seq - b.first_seq + 1).unwrap_or(0);
            last = Some((b.last_seq, b.last_hash));
        }
    }
    let Some((seq, hash)) = last else {
        return Ok(0);
    };
    if chain == MAIN_CHAIN {
        tx.execute("DELETE FROM audit_events WHERE seq <= ?1", [seq])
            .map_err(classify)?;
    }
    tx.execute(
        "DELETE FROM audit_batches WHERE chain = ?1 AND last_seq <= ?2",
        params![chain, seq],
    )
    .map_err(classify)?;
    set_anchor(&tx, chain, seq, &hash)?;
    tx.commit()?;
    Ok(n)
}

pub(super) fn import_anchor(c: &mut Connection, chain: &str, seq: i64, hash: &[u8]) -> Result<(), StoreError> {
    let tx = Tx::begin(c)?;
    if head(&tx, chain)?.is_some() {
        return Err(StoreError::Conflict);
    }
    set_anchor(&tx, chain, seq, hash)?;
    tx.commit()
}

pub(super) fn anchor(c: &Connection, chain: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    c.query_row(
        "SELECT seq, chain_hash FROM audit_anchor WHERE chain = ?1",
        [chain],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map_err(classify)
}
