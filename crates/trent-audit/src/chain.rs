//! The stored form of the trail and its hash chain.
//!
//! Events are written in batches, one store row per batch (at most [`BATCH_MAX`] events), so the
//! database does one insert per batch instead of one per request. A batch body is
//! `0x01 ‖ postcard([(seq, event, hash), …])` where `event` is the postcard encoding of an
//! [`Event`] (format version 1) and `hash` links it to its predecessor:
//!
//! `hash_n = HMAC-SHA256(K, hash_{n-1} ‖ be64(n) ‖ event_n)`, `hash_0` = 32 zero bytes,
//! `K = HKDF-SHA256(root key, "trent-audit-chain-v1")`.
//!
//! Rows written before batches existed (one JSON event per row, same chain) read as one-event
//! batches whose body starts with `{`, so an upgraded data directory verifies end to end.

use std::borrow::Cow;

use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use trent_store::{AuditBatchRecord, StoreError, StoreRead};

use crate::event::Event;

/// Events per stored batch.
pub const BATCH_MAX: usize = 1000;
/// The batch body format written today.
const BATCH_V1: u8 = 1;

/// The chain's HMAC key (derived from the root key by the service).
pub struct ChainKey(hmac::Key);

impl ChainKey {
    pub fn new(key: &[u8]) -> ChainKey {
        ChainKey(hmac::Key::new(hmac::HMAC_SHA256, key))
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(<redacted>)")
    }
}

pub(crate) fn link(key: &ChainKey, prev: &[u8], seq: i64, event: &[u8]) -> [u8; 32] {
    let mut ctx = hmac::Context::with_key(&key.0);
    ctx.update(prev);
    ctx.update(&seq.to_be_bytes());
    ctx.update(event);
    let tag = ctx.sign();
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

#[derive(Serialize)]
struct EntryOut<'a> {
    seq: i64,
    event: &'a [u8],
    hash: [u8; 32],
}

#[derive(Deserialize)]
struct EntryIn<'a> {
    seq: i64,
    #[serde(borrow)]
    event: Cow<'a, [u8]>,
    hash: [u8; 32],
}

/// One stored event, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    /// The exact bytes the chain hash covers (postcard, or JSON for pre-batch rows).
    pub event: Vec<u8>,
    pub hash: Vec<u8>,
}

impl Entry {
    /// The event, decoded.
    pub fn decode(&self) -> Result<Stored, StoreError> {
        if self.event.first() == Some(&b'{') {
            let v = serde_json::from_slice(&self.event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            return Ok(Stored::Legacy(v));
        }
        postcard::from_bytes(&self.event)
            .map(Stored::Event)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// A decoded stored event.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    Event(Box<Event>),
    /// A CloudTrail JSON event written before binary batches.
    Legacy(serde_json::Value),
}

/// The newest event of a chain: its sequence number and chain hash.
pub type ChainHead = (i64, Vec<u8>);

/// Encodes `events` as batches continuing the chain from `head`; returns the batches and the
/// new head.
pub fn seal(
    key: &ChainKey,
    head: ChainHead,
    events: &[Event],
) -> Result<(Vec<AuditBatchRecord>, ChainHead), StoreError> {
    let (mut seq, mut hash) = head;
    let mut batches = Vec::with_capacity(events.len().div_ceil(BATCH_MAX));
    for chunk in events.chunks(BATCH_MAX) {
        let first_seq = seq + 1;
        let mut encoded: Vec<(i64, Vec<u8>, [u8; 32])> = Vec::with_capacity(chunk.len());
        for e in chunk {
            let bytes = postcard::to_allocvec(e).map_err(|e| StoreError::Backend(e.to_string()))?;
            seq += 1;
            let h = link(key, &hash, seq, &bytes);
            hash = h.to_vec();
            encoded.push((seq, bytes, h));
        }
        let entries: Vec<EntryOut<'_>> = encoded
            .iter()
            .map(|(s, e, h)| EntryOut {
                seq: *s,
                event: e,
                hash: *h,
            })
            .collect();
        let mut body = vec![BATCH_V1];
        body = postcard::to_extend(&entries, body).map_err(|e| StoreError::Backend(e.to_string()))?;
        batches.push(AuditBatchRecord {
            first_seq,
            last_seq: seq,
            first_time_ms: chunk.first().map_or(0, |e| e.time_ms),
            last_time_ms: chunk.iter().map(|e| e.time_ms).max().unwrap_or(0),
            body,
            last_hash: hash.clone(),
        });
    }
    Ok((batches, (seq, hash)))
}

/// The events of a stored batch, in order.
pub fn entries(batch: &AuditBatchRecord) -> Result<Vec<Entry>, StoreError> {
    match batch.body.split_first() {
        Some((b'{', _)) => Ok(vec![Entry {
            seq: batch.first_seq,
            event: batch.body.clone(),
            hash: batch.last_hash.clone(),
        }]),
        Some((&BATCH_V1, rest)) => {
            let list: Vec<EntryIn<'_>> = postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(list
                .into_iter()
                .map(|e| Entry {
                    seq: e.seq,
                    event: e.event.into_owned(),
                    hash: e.hash.to_vec(),
                })
                .collect())
        }
        _ => Err(StoreError::Corrupt(format!(
            "audit batch {}..{} has an unknown format",
            batch.first_seq, batch.last_seq
        ))),
    }
}

/// Every stored event after `after_seq`, in order, read in pages of batches.
pub fn for_each_entry(
    store: &dyn StoreRead,
    after_seq: i64,
    mut f: impl FnMut(Entry) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut cursor = after_seq;
    loop {
        let page = store.audit_batches_after(cursor, 16)?;
        if page.is_empty() {
            return Ok(());
        }
        for batch in &page {
            cursor = cursor.max(batch.last_seq);
            for e in entries(batch)? {
                if e.seq <= after_seq {
                    continue;
                }
                if !f(e)? {
                    return Ok(());
                }
            }
        }
    }
}

/// The result of checking the whole stored trail.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every event links to its predecessor; `(seq, hash)` of the newest is the checkpoint.
    Intact { events: i64, head: Option<(i64, String)> },
    /// The first event whose sequence or hash does not follow.
    Broken { seq: i64, reason: String },
}

/// Recomputes the chain over every stored event.
pub fn verify(store: &dyn StoreRead, key: &ChainKey) -> Result<Verification, StoreError> {
    // After retention pruning the chain starts at the anchor left by the last prune.
    let (first, anchor_hash) = store.audit_anchor()?.unwrap_or((0, vec![0u8; 32]));
    let (mut seq, mut hash) = (first, anchor_hash);
    let mut broken = None;
    for_each_entry(store, first, |e| {
        if e.seq != seq + 1 {
            broken = Some(Verification::Broken {
                seq: seq + 1,
                reason: format!("event {} is missing (next stored is {})", seq + 1, e.seq),
            });
            return Ok(false);
        }
        let expected = link(key, &hash, e.seq, &e.event);
        if !bool::from(expected.as_slice().ct_eq(e.hash.as_slice())) {
            broken = Some(Verification::Broken {
                seq: e.seq,
                reason: format!("event {} does not match its chain hash", e.seq),
            });
            return Ok(false);
        }
        seq = e.seq;
        hash = expected.to_vec();
        Ok(true)
    })?;
    if let Some(b) = broken {
        return Ok(b);
    }
    Ok(Verification::Intact {
        events: seq - first,
        head: (seq > 0).then(|| (seq, hex::encode(&hash))),
    })
}

/// Re-encodes a batch from (possibly edited) entries without touching their hashes: what an
/// attacker with write access to the database could do. For tests of `verify`.
pub fn reencode_for_tests(batch: &AuditBatchRecord, entries: &[Entry]) -> Result<AuditBatchRecord, StoreError> {
    let out: Vec<EntryOut<'_>> = entries
        .iter()
        .map(|e| {
            let mut h = [0u8; 32];
            if e.hash.len() == 32 {
                h.copy_from_slice(&e.hash);
            }
            EntryOut {
                seq: e.seq,
                event: &e.event,
                hash: h,
            }
        })
        .collect();
    let body = postcard::to_extend(&out, vec![BATCH_V1]).map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(AuditBatchRecord { body, ..batch.clone() })
}
