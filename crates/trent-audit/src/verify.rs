//! `trent audit verify`: recomputes every chain of the stored trail and checks it against the
//! checkpoints an operator kept from earlier runs.
//!
//! A chain proves that nothing inside it was edited, reordered or removed; it cannot prove by
//! itself that its newest events were not cut off (the shortened chain still links). That is
//! what checkpoints are for: every run prints `checkpoint <chain> <seq> <hash>` per chain; given
//! those lines back (`--checkpoints FILE`), a later run reports a chain that no longer reaches a
//! checkpoint, or reaches it with another hash, or is gone. Retention legitimately removes the
//! oldest events: a checkpoint older than a chain's anchor is reported as no longer checkable,
//! never as tampering.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use subtle::ConstantTimeEq;
use trent_store::{StoreError, StoreRead};

use crate::chain::{link, ChainKey, Entry, Stored};
use crate::read::for_each_entry;

/// A chain's head as recorded by an earlier verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub chain: String,
    pub seq: i64,
    /// Lowercase hex of the chain hash of event `seq`.
    pub hash: String,
}

impl Checkpoint {
    /// The line `verify` prints for it (and [`Checkpoint::parse`] reads).
    pub fn line(&self) -> String {
        format!("checkpoint {} {} {}", self.chain, self.seq, self.hash)
    }

    /// Reads a `checkpoint <chain> <seq> <hash>` line (other lines: `None`).
    pub fn parse(line: &str) -> Option<Checkpoint> {
        let mut parts = line.split_whitespace();
        if parts.next()? != "checkpoint" {
            return None;
        }
        let chain = parts.next()?.to_owned();
        let seq = parts.next()?.parse().ok()?;
        let hash = parts.next()?.to_ascii_lowercase();
        if parts.next().is_some() || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Checkpoint { chain, seq, hash })
    }
}

/// What one chain holds.
#[derive(Debug, PartialEq, Eq)]
pub struct ChainReport {
    pub chain: String,
    /// Events stored (after the anchor).
    pub events: i64,
    /// The newest event (or, everything pruned, the anchor): the checkpoint to keep.
    pub head: Option<Checkpoint>,
    /// The sequence number of the newest event retention removed, if any.
    pub anchor: Option<i64>,
}

/// The result of checking the whole stored trail.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every event of every chain links to its predecessor and every checkpoint given is still
    /// in its chain. `notes` say what the chains cannot prove was kept: a server that stopped
    /// without a clean shutdown may have lost the events it had not written yet (its last second
    /// of cryptographic operations; control-plane events are written with their changes), and
    /// checkpoints older than retention can no longer be checked.
    Intact {
        events: i64,
        chains: Vec<ChainReport>,
        notes: Vec<String>,
    },
    /// The first problem found: an event whose sequence or hash does not follow, or a checkpoint
    /// the chain no longer reaches.
    Broken { chain: String, seq: i64, reason: String },
}

/// Recomputes every chain over its stored events.
pub fn verify(store: &dyn StoreRead, key: &ChainKey) -> Result<Verification, StoreError> {
    verify_against(store, key, &[])
}

/// [`verify`], and checks that every checkpoint is still in its chain with the same hash.
pub fn verify_against(
    store: &dyn StoreRead,
    key: &ChainKey,
    checkpoints: &[Checkpoint],
) -> Result<Verification, StoreError> {
    let mut wanted: BTreeMap<&str, Vec<&Checkpoint>> = BTreeMap::new();
    for c in checkpoints {
        wanted.entry(c.chain.as_str()).or_default().push(c);
    }
    let chains = store.audit_chains()?;
    for (chain, cps) in &wanted {
        if !chains.iter().any(|c| c == chain) {
            let seq = cps.iter().map(|c| c.seq).max().unwrap_or(0);
            return Ok(Verification::Broken {
                chain: (*chain).to_owned(),
                seq,
                reason: format!("chain {chain} is gone: a checkpoint records it at event {seq}"),
            });
        }
    }
    let mut reports = Vec::new();
    let mut notes = Vec::new();
    let mut total = 0;
    for chain in chains {
        let cps = wanted.get(chain.as_str()).map(Vec::as_slice).unwrap_or_default();
        match verify_chain(store, key, &chain, cps, &mut notes)? {
            Ok(r) => {
                total += r.events;
                reports.push(r);
            }
            Err((seq, reason)) => return Ok(Verification::Broken { chain, seq, reason }),
        }
    }
    Ok(Verification::Intact {
        events: total,
        chains: reports,
        notes,
    })
}

type Outcome = Result<ChainReport, (i64, String)>;

fn verify_chain(
    store: &dyn StoreRead,
    key: &ChainKey,
    chain: &str,
    checkpoints: &[&Checkpoint],
    notes: &mut Vec<String>,
) -> Result<Outcome, StoreError> {
    // After retention pruning the chain starts at the anchor left by the last prune.
    let anchor = store.audit_anchor(chain)?;
    let (first, anchor_hash) = anchor.clone().unwrap_or((0, vec![0u8; 32]));
    let (mut seq, mut hash) = (first, anchor_hash.clone());
    let mut broken = None;
    let mut boots = Boots::default();
    let mut at: HashMap<i64, &Checkpoint> = HashMap::new();
    for c in checkpoints {
        if c.seq < first {
            notes.push(format!(
                "chain {chain}: checkpoint at event {} is older than retention kept (events up to {first} were deleted): not checkable",
                c.seq
            ));
        } else if c.seq == first && first > 0 {
            if c.hash != hex::encode(&anchor_hash) {
                return Ok(Err((
                    c.seq,
                    format!("event {} does not have the hash its checkpoint records", c.seq),
                )));
            }
        } else {
            at.insert(c.seq, c);
        }
    }
    for_each_entry(store, chain, first, |e: Entry| {
        boots.see(&e);
        if e.seq != seq + 1 {
            broken = Some((
                seq + 1,
                format!("event {} is missing (next stored is {})", seq + 1, e.seq),
            ));
            return Ok(false);
        }
        let expected = link(key, &hash, e.seq, &e.event);
        if !bool::from(expected.as_slice().ct_eq(e.hash.as_slice())) {
            broken = Some((e.seq, format!("event {} does not match its chain hash", e.seq)));
            return Ok(false);
        }
        if let Some(c) = at.remove(&e.seq) {
            if c.hash != hex::encode(expected) {
                broken = Some((
                    e.seq,
                    format!("event {} does not have the hash its checkpoint records", e.seq),
                ));
                return Ok(false);
            }
        }
        seq = e.seq;
        hash = expected.to_vec();
        Ok(true)
    })?;
    if let Some(b) = broken {
        return Ok(Err(b));
    }
    if let Some(c) = at.values().map(|c| c.seq).max() {
        return Ok(Err((
            seq + 1,
            format!(
                "events {}..{c} were removed: the chain ends at event {seq}, a checkpoint records event {c}",
                seq + 1
            ),
        )));
    }
    notes.extend(boots.notes().into_iter().map(|n| format!("chain {chain}: {n}")));
    Ok(Ok(ChainReport {
        chain: chain.to_owned(),
        events: seq - first,
        head: (seq > 0).then(|| Checkpoint {
            chain: chain.to_owned(),
            seq,
            hash: hex::encode(&hash),
        }),
        anchor: anchor.map(|a| a.0),
    }))
}

/// The name of the event a server records when it starts serving.
pub const STARTED: &str = "TrentStarted";
/// The name of the event a server records after its last flush at a clean shutdown; its
/// `additionalEventData.events` is how many events the server recorded.
pub const STOPPED: &str = "TrentStopped";

#[derive(Default)]
struct Boot {
    first_seq: i64,
    last_seq: i64,
    seen: u64,
    started: bool,
    stopped: Option<i64>,
}

/// Per server process (boot) of one chain: what the chain holds of it.
#[derive(Default)]
struct Boots {
    order: Vec<Arc<str>>,
    by_id: HashMap<Arc<str>, Boot>,
}

impl Boots {
    fn see(&mut self, e: &Entry) {
        let Ok(Stored::Event(ev)) = e.decode() else { return };
        let Some(origin) = ev.origin.clone() else { return };
        let b = self.by_id.entry(Arc::clone(&origin)).or_insert_with(|| {
            self.order.push(origin);
            Boot {
                first_seq: e.seq,
                ..Boot::default()
            }
        });
        b.last_seq = e.seq;
        if ev.source == crate::Source::Trent && ev.name == STARTED {
            b.started = true;
        } else if ev.source == crate::Source::Trent && ev.name == STOPPED {
            let recorded = match &ev.additional {
                Some(crate::Value::Map(m)) => m.iter().find_map(|(k, v)| match (k.as_str(), v) {
                    ("events", crate::Value::Int(n)) => Some(*n),
                    _ => None,
                }),
                _ => None,
            };
            b.stopped = Some(recorded.unwrap_or(-1));
        } else {
            b.seen += 1;
        }
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let last = self.order.last();
        for id in &self.order {
            let Some(b) = self.by_id.get(id) else { continue };
            match b.stopped {
                Some(n) if n >= 0 && u64::try_from(n).is_ok_and(|n| n != b.seen) => notes.push(format!(
                    "server {id} (events {}..{}) recorded {n} events before it stopped, but the trail holds {}",
                    b.first_seq, b.last_seq, b.seen
                )),
                Some(_) => {}
                None if b.started && Some(id) == last => notes.push(format!(
                    "server {id} (from event {}) has not stopped cleanly: it is running, or it crashed and its last second of cryptographic-operation events may be missing",
                    b.first_seq
                )),
                None if b.started => notes.push(format!(
                    "server {id} (events {}..{}) ended without a clean stop: cryptographic-operation events of its last second may be missing",
                    b.first_seq, b.last_seq
                )),
                None => {}
            }
        }
        notes
    }
}
