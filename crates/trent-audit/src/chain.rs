//! The stored form of the trail and its hash chain.
//!
//! Events are written in batches, one store row per batch (at most [`BATCH_MAX`] events), so the
//! database does one insert per batch instead of one per request. A batch body is
//! `version ‖ postcard([(seq, event, hash), …])` where `hash` links `event` to its predecessor,
//! and `event` is, by version:
//!
//! - `0x02` (written today): the compact encoding of an [`Event`] (`compact.rs`: repeated strings
//!   once per batch, then by index);
//! - `0x01`: the postcard encoding of an [`Event`], self-contained.
//!
//! The chain, for every version:
//!
//! `hash_n = HMAC-SHA256(K, hash_{n-1} ‖ be64(n) ‖ event_n)`, `hash_0` = 32 zero bytes,
//! `K = HKDF-SHA256(root key, "trent-audit-chain-v1")`.
//!
//! Rows written before batches existed (one JSON event per row, same chain) read as one-event
//! batches whose body starts with `{`, so an upgraded data directory verifies end to end.
//!
//! A store holds one chain per writer, named by the server's node id (`trent_store::MAIN_CHAIN`
//! for a single server): sequence numbers and hashes are per chain, so servers sharing a
//! database append concurrently (see `read` and `verify` for how the chains are read together).

use std::borrow::Cow;

use std::sync::Arc;

use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};
use trent_store::{AuditBatchRecord, StoreError};

use crate::compact::{Decoder, Encoder};
use crate::event::Event;

/// Events per stored batch.
pub const BATCH_MAX: usize = 1000;
/// Batch bodies of self-contained postcard events (read only).
const BATCH_V1: u8 = 1;
/// Batch bodies of compact events (written today).
const BATCH_V2: u8 = 2;

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

/// Bytes written with `serialize_bytes` (postcard: varint length, then the bytes — the layout a
/// sequence of `u8` has too, so earlier batches read the same, at a fraction of the cost).
struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

#[derive(Serialize)]
struct EntryOut<'a> {
    seq: i64,
    event: RawBytes<'a>,
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
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: i64,
    /// The exact bytes the chain hash covers (compact or plain postcard, or JSON for pre-batch
    /// rows).
    pub event: Vec<u8>,
    pub hash: Vec<u8>,
    /// When the event happened (ms since the epoch): the decoded event's time, else its batch's
    /// first event's time. What `trent audit show` merges chains by.
    pub time_ms: i64,
    /// Compact events, decoded with their batch when it was read (they cannot be decoded alone).
    decoded: Option<Result<Arc<Event>, String>>,
}

impl Entry {
    /// The event, decoded.
    pub fn decode(&self) -> Result<Stored, StoreError> {
        if let Some(d) = &self.decoded {
            return match d {
                Ok(e) => Ok(Stored::Event(Box::new(Event::clone(e)))),
                Err(why) => Err(StoreError::Corrupt(why.clone())),
            };
        }
        if self.event.first() == Some(&b'{') {
            let v = serde_json::from_slice(&self.event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            return Ok(Stored::Legacy(v));
        }
        postcard::from_bytes(&self.event)
            .map(|e| Stored::Event(Box::new(e)))
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
    seal_into(key, head, events, &mut Vec::new())
}

/// [`seal`], taking the batch bodies' buffers from `buffers` (emptied buffers of earlier
/// batches): a flush then writes into memory that is already mapped instead of faulting in
/// fresh pages for every batch.
pub fn seal_into(
    key: &ChainKey,
    head: ChainHead,
    events: &[Event],
    buffers: &mut Vec<Vec<u8>>,
) -> Result<(Vec<AuditBatchRecord>, ChainHead), StoreError> {
    let backend = |e: postcard::Error| StoreError::Backend(e.to_string());
    let (mut seq, mut hash) = head;
    let mut batches = Vec::with_capacity(events.len().div_ceil(BATCH_MAX));
    // One scratch buffer for every event's encoding; each entry is appended to the batch body
    // as it is chained. The body is exactly `postcard(Vec<EntryOut>)`: the sequence length,
    // then the entries.
    let mut scratch = Vec::with_capacity(1024);
    for chunk in events.chunks(BATCH_MAX) {
        let first_seq = seq + 1;
        let mut body = buffers.pop().unwrap_or_default();
        body.clear();
        body.reserve(chunk.len() * 160);
        body.push(BATCH_V2);
        body = postcard::to_extend(&chunk.len(), body).map_err(backend)?;
        let mut encoder = Encoder::default();
        for e in chunk {
            scratch.clear();
            scratch = encoder.encode(e, scratch).map_err(backend)?;
            seq += 1;
            let h = link(key, &hash, seq, &scratch);
            hash.clear();
            hash.extend_from_slice(&h);
            let entry = EntryOut {
                seq,
                event: RawBytes(&scratch),
                hash: h,
            };
            body = postcard::to_extend(&entry, body).map_err(backend)?;
        }
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
            time_ms: batch.first_time_ms,
            decoded: None,
        }]),
        Some((&BATCH_V1, rest)) => {
            let list: Vec<EntryIn<'_>> = postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(list
                .into_iter()
                .map(|e| Entry {
                    seq: e.seq,
                    event: e.event.into_owned(),
                    hash: e.hash.to_vec(),
                    time_ms: batch.first_time_ms,
                    decoded: None,
                })
                .collect())
        }
        Some((&BATCH_V2, rest)) => {
            let list: Vec<EntryIn<'_>> = postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut decoder = Decoder::default();
            let mut failed: Option<String> = None;
            Ok(list
                .into_iter()
                .map(|e| {
                    // Once one event fails to decode, the tables after it are unknown.
                    let decoded = match &failed {
                        Some(why) => Err(why.clone()),
                        None => decoder.decode(&e.event).map(Arc::new).map_err(|why| {
                            let why = format!("event {} does not decode: {why}", e.seq);
                            failed = Some(why.clone());
                            why
                        }),
                    };
                    Entry {
                        seq: e.seq,
                        event: e.event.into_owned(),
                        hash: e.hash.to_vec(),
                        time_ms: decoded.as_ref().map_or(batch.first_time_ms, |d| d.time_ms),
                        decoded: Some(decoded),
                    }
                })
                .collect())
        }
        _ => Err(StoreError::Corrupt(format!(
            "audit batch {}..{} has an unknown format",
            batch.first_seq, batch.last_seq
        ))),
    }
}

/// Seals `events` in the version-1 format (self-contained postcard events) that earlier
/// releases wrote: for tests that data written then still reads and verifies.
pub fn seal_v1_for_tests(
    key: &ChainKey,
    head: ChainHead,
    events: &[Event],
) -> Result<(AuditBatchRecord, ChainHead), StoreError> {
    let backend = |e: postcard::Error| StoreError::Backend(e.to_string());
    let (mut seq, mut hash) = head;
    let first_seq = seq + 1;
    let mut encoded = Vec::new();
    for e in events {
        let bytes = postcard::to_allocvec(e).map_err(backend)?;
        seq += 1;
        let h = link(key, &hash, seq, &bytes);
        hash = h.to_vec();
        encoded.push((seq, bytes, h));
    }
    let out: Vec<EntryOut<'_>> = encoded
        .iter()
        .map(|(s, e, h)| EntryOut {
            seq: *s,
            event: RawBytes(e),
            hash: *h,
        })
        .collect();
    let body = postcard::to_extend(&out, vec![BATCH_V1]).map_err(backend)?;
    let record = AuditBatchRecord {
        first_seq,
        last_seq: seq,
        first_time_ms: events.first().map_or(0, |e| e.time_ms),
        last_time_ms: events.iter().map(|e| e.time_ms).max().unwrap_or(0),
        body,
        last_hash: hash.clone(),
    };
    Ok((record, (seq, hash)))
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
                event: RawBytes(&e.event),
                hash: h,
            }
        })
        .collect();
    let version = batch.body.first().copied().unwrap_or(BATCH_V2);
    let body = postcard::to_extend(&out, vec![version]).map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(AuditBatchRecord { body, ..batch.clone() })
}
