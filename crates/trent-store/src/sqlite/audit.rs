//! The audit trail table: append-only rows keyed by a contiguous sequence number. Appends of one
//! batch are one transaction, so a batch is either wholly on disk or absent.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::classify;
use crate::{AuditRecord, StoreError};

fn row(r: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.get(0)?,
        time_ms: r.get(1)?,
        event: r.get(2)?,
        chain_hash: r.get(3)?,
    })
}

pub(super) fn append(c: &mut Connection, events: &[AuditRecord]) -> Result<(), StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(classify)?;
    {
        let mut st = tx
            .prepare_cached("INSERT INTO audit_events (seq, time_ms, event, chain_hash) VALUES (?1, ?2, ?3, ?4)")
            .map_err(classify)?;
        for e in events {
            st.execute(params![e.seq, e.time_ms, e.event, e.chain_hash])
                .map_err(classify)?;
        }
    }
    tx.commit().map_err(classify)
}

pub(super) fn after(c: &Connection, after_seq: i64, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
    let mut st = c
        .prepare("SELECT seq, time_ms, event, chain_hash FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        .map_err(classify)?;
    let rows = st.query_map(params![after_seq, limit as i64], row).map_err(classify)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(classify)
}

pub(super) fn last(c: &Connection) -> Result<Option<AuditRecord>, StoreError> {
    c.query_row(
        "SELECT seq, time_ms, event, chain_hash FROM audit_events ORDER BY seq DESC LIMIT 1",
        [],
        row,
    )
    .optional()
    .map_err(classify)
}

pub(super) fn prune(c: &mut Connection, before_ms: i64, max_rows: usize) -> Result<usize, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(classify)?;
    let mut last: Option<(i64, Vec<u8>)> = None;
    let mut n = 0usize;
    {
        let mut st = tx
            .prepare("SELECT seq, time_ms, chain_hash FROM audit_events ORDER BY seq LIMIT ?1")
            .map_err(classify)?;
        let mut rows = st.query(params![max_rows as i64]).map_err(classify)?;
        while let Some(r) = rows.next().map_err(classify)? {
            let time_ms: i64 = r.get(1).map_err(classify)?;
            if time_ms >= before_ms {
                break;
            }
            last = Some((r.get(0).map_err(classify)?, r.get(2).map_err(classify)?));
            n += 1;
        }
    }
    let Some((seq, hash)) = last else {
        return Ok(0);
    };
    tx.execute("DELETE FROM audit_events WHERE seq <= ?1", [seq])
        .map_err(classify)?;
    tx.execute(
        "INSERT INTO audit_anchor (id, seq, chain_hash) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, chain_hash = excluded.chain_hash",
        params![seq, hash],
    )
    .map_err(classify)?;
    tx.commit().map_err(classify)?;
    Ok(n)
}

pub(super) fn anchor(c: &Connection) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    c.query_row("SELECT seq, chain_hash FROM audit_anchor WHERE id = 1", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
    .map_err(classify)
}
