//! Reading the stored trail: one chain in sequence order ([`for_each_entry`]), every chain
//! merged by event time ([`for_each_merged`], what `trent audit show` prints), or every chain
//! merged newest first from a resume point ([`for_each_newest`], CloudTrail's LookupEvents).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use trent_store::{StoreError, StoreRead};

use crate::chain::{entries, Entry};

/// Batches read per page of one chain.
const PAGE: usize = 16;

/// Every stored event of `chain` after `after_seq`, in order, read in pages of batches; `f`
/// returns `false` to stop.
pub fn for_each_entry(
    store: &dyn StoreRead,
    chain: &str,
    after_seq: i64,
    mut f: impl FnMut(Entry) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut cursor = after_seq;
    loop {
        let page = store.audit_batches_after(chain, cursor, PAGE)?;
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

/// One chain being read a batch at a time.
struct Cursor {
    chain: String,
    after: i64,
    ready: VecDeque<Entry>,
    done: bool,
}

impl Cursor {
    /// The next event, reading the chain's next batch when the last one is used up.
    fn front(&mut self, store: &dyn StoreRead) -> Result<Option<&Entry>, StoreError> {
        while self.ready.is_empty() && !self.done {
            let page = store.audit_batches_after(&self.chain, self.after, 1)?;
            let Some(batch) = page.first() else {
                self.done = true;
                break;
            };
            let after = self.after;
            self.after = after.max(batch.last_seq);
            self.ready.extend(entries(batch)?.into_iter().filter(|e| e.seq > after));
        }
        Ok(self.ready.front())
    }
}

/// Every stored event of every chain, merged by event time (ties: chain name, then sequence),
/// each chain kept in its own order; `f` gets the chain's name and returns `false` to stop.
/// Memory: one batch per chain.
pub fn for_each_merged(
    store: &dyn StoreRead,
    mut f: impl FnMut(&str, Entry) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut cursors: Vec<Cursor> = store
        .audit_chains()?
        .into_iter()
        .map(|chain| Cursor {
            chain,
            after: 0,
            ready: VecDeque::new(),
            done: false,
        })
        .collect();
    let mut heap = BinaryHeap::new();
    for (i, c) in cursors.iter_mut().enumerate() {
        if let Some(e) = c.front(store)? {
            heap.push(Reverse((e.time_ms, i, e.seq)));
        }
    }
    while let Some(Reverse((_, i, _))) = heap.pop() {
        let Some(c) = cursors.get_mut(i) else { continue };
        let Some(e) = c.ready.pop_front() else { continue };
        if !f(&c.chain, e)? {
            return Ok(());
        }
        if let Some(next) = c.front(store)? {
            heap.push(Reverse((next.time_ms, i, next.seq)));
        }
    }
    Ok(())
}

/// One chain being read backwards, a batch at a time.
struct BackCursor {
    chain: String,
    /// Events with a sequence number below this are still to be read.
    before: i64,
    /// Read and not yet handed out, newest first.
    ready: VecDeque<Entry>,
    done: bool,
}

impl BackCursor {
    fn front(&mut self, store: &dyn StoreRead) -> Result<Option<&Entry>, StoreError> {
        while self.ready.is_empty() && !self.done {
            let page = store.audit_batches_before(&self.chain, self.before, 1)?;
            let Some(batch) = page.first() else {
                self.done = true;
                break;
            };
            let before = self.before;
            self.before = before.min(batch.first_seq);
            let mut events: Vec<Entry> = entries(batch)?.into_iter().filter(|e| e.seq < before).collect();
            events.reverse();
            self.ready.extend(events);
        }
        Ok(self.ready.front())
    }

    /// Where reading this chain resumes: below its next unread event.
    fn resume(&self) -> i64 {
        self.ready.front().map_or(self.before, |e| e.seq + 1)
    }
}

/// Every stored event of every chain, newest first (by event time; ties: chain, then sequence,
/// both descending), each chain read backwards from `resume`: per chain, events with a sequence
/// number below its entry. An empty `resume` starts every chain at its newest event; otherwise
/// a chain it does not name began after the first page was read and is left out, so pages never
/// repeat or reorder events. `f` returns `false` to stop; the answer is where to resume after
/// the last event `f` was given. Memory: one batch per chain.
pub fn for_each_newest(
    store: &dyn StoreRead,
    resume: &BTreeMap<String, i64>,
    mut f: impl FnMut(&str, Entry) -> Result<bool, StoreError>,
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut cursors: Vec<BackCursor> = store
        .audit_chains()?
        .into_iter()
        .map(|chain| BackCursor {
            before: if resume.is_empty() {
                i64::MAX
            } else {
                resume.get(&chain).copied().unwrap_or(i64::MIN)
            },
            chain,
            ready: VecDeque::new(),
            done: false,
        })
        .collect();
    let mut heap = BinaryHeap::new();
    for (i, c) in cursors.iter_mut().enumerate() {
        if let Some(e) = c.front(store)? {
            heap.push((e.time_ms, i, e.seq));
        }
    }
    while let Some((_, i, _)) = heap.pop() {
        let Some(c) = cursors.get_mut(i) else { continue };
        let Some(e) = c.ready.pop_front() else { continue };
        let go_on = f(&c.chain, e)?;
        if let Some(next) = c.front(store)? {
            heap.push((next.time_ms, i, next.seq));
        }
        if !go_on {
            break;
        }
    }
    Ok(cursors.iter().map(|c| (c.chain.clone(), c.resume())).collect())
}
