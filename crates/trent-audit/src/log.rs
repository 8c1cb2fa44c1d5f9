//! The in-memory side of the trail: the request path pushes an [`Event`] (one short lock, no
//! encoding, no hashing, no I/O); [`AuditLog::flush`] — every second from the server, from the
//! scheduler and at shutdown, always off the async executor — encodes the buffered events,
//! extends the chain and stores them as batches in one transaction. A crash can lose at most
//! the unflushed second; a failed write keeps the events for the next flush.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use trent_store::{Store, StoreError};

use crate::chain::{seal_into, ChainKey};

/// Emptied batch buffers kept between flushes (a second of saturation is a few dozen batches).
const KEPT_BUFFERS: usize = 128;
use crate::event::{Event, Source, Value};

/// Buffered events beyond this are dropped (and counted, and reported by a marker event) rather
/// than growing memory without bound while the store is failing.
pub const MAX_BUFFERED: usize = 1_000_000;

/// The buffer, the chain head and the retention setting of one service.
#[derive(Default)]
pub struct AuditLog {
    pending: Mutex<Vec<Event>>,
    /// The buffer the last flush drained, emptied, kept with its capacity for the next swap: the
    /// request path then appends into memory that is already mapped (no growth, no page faults
    /// each second).
    spare: Mutex<Vec<Event>>,
    dropped: AtomicU64,
    /// (seq, hash) of the newest stored event; `None` until read from the store. Held across a
    /// flush, so flushes never interleave.
    head: Mutex<Option<(i64, Vec<u8>)>>,
    /// Batch body buffers for the next flush (only touched under `head`).
    buffers: Mutex<Vec<Vec<u8>>>,
    /// How long events are kept, in ms; 0 keeps them forever.
    retention_ms: AtomicI64,
}

impl AuditLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an event (the request path's only audit cost).
    pub fn push(&self, e: Event) {
        let Ok(mut v) = self.pending.lock() else { return };
        if v.len() >= MAX_BUFFERED {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        v.push(e);
    }

    /// Events waiting to be flushed.
    pub fn pending(&self) -> usize {
        self.pending.lock().map(|v| v.len()).unwrap_or(0)
    }

    pub fn set_retention_days(&self, days: u32) {
        self.retention_ms.store(i64::from(days) * 86_400_000, Ordering::Relaxed);
    }

    pub fn retention_ms(&self) -> i64 {
        self.retention_ms.load(Ordering::Relaxed)
    }

    /// Encodes, chains and stores every buffered event; returns how many were written. Blocking:
    /// call it off the async executor.
    pub fn flush(
        &self,
        store: &dyn Store,
        key: &ChainKey,
        now_ms: i64,
        region: &Arc<str>,
    ) -> Result<usize, StoreError> {
        let Ok(mut head) = self.head.lock() else {
            return Err(StoreError::Backend("audit chain lock poisoned".to_owned()));
        };
        let spare = self
            .spare
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        let mut batch = self
            .pending
            .lock()
            .map(|mut v| std::mem::replace(&mut *v, spare))
            .unwrap_or_default();
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            batch.push(Event {
                time_ms: now_ms,
                source: Source::Trent,
                name: "AuditEventsDropped".into(),
                region: Arc::clone(region),
                identity: None,
                source_ip: None,
                request_id: String::new(),
                parameters: Default::default(),
                resources: Vec::new(),
                error: None,
                read_only: false,
                additional: Some(Value::Map(vec![(
                    "droppedEvents".to_owned(),
                    Value::Int(i64::try_from(dropped).unwrap_or(i64::MAX)),
                )])),
            });
        }
        if batch.is_empty() {
            if let Ok(mut v) = self.spare.lock() {
                *v = batch;
            }
            return Ok(0);
        }
        let outcome = (|| {
            let start = match head.clone() {
                Some(h) => h,
                None => match store.last_audit()? {
                    Some(h) => (h.seq, h.hash),
                    // Everything may have been pruned: the chain continues from the anchor.
                    None => store.audit_anchor()?.unwrap_or((0, vec![0u8; 32])),
                },
            };
            let mut buffers = self
                .buffers
                .lock()
                .map(|mut b| std::mem::take(&mut *b))
                .unwrap_or_default();
            let (records, new_head) = seal_into(key, start, &batch, &mut buffers)?;
            store.append_audit_batches(&records)?;
            buffers.extend(records.into_iter().map(|r| r.body).take(KEPT_BUFFERS));
            buffers.truncate(KEPT_BUFFERS);
            if let Ok(mut b) = self.buffers.lock() {
                *b = buffers;
            }
            Ok::<_, StoreError>(new_head)
        })();
        match outcome {
            Ok(new_head) => {
                *head = Some(new_head);
                let n = batch.len();
                batch.clear();
                if let Ok(mut v) = self.spare.lock() {
                    *v = batch;
                }
                Ok(n)
            }
            Err(e) => {
                // Another writer may have moved the chain: read it again next time, and keep
                // the events (in front of what arrived meanwhile).
                *head = None;
                if dropped > 0 {
                    batch.pop();
                    self.dropped.fetch_add(dropped, Ordering::Relaxed);
                }
                if let Ok(mut v) = self.pending.lock() {
                    batch.append(&mut v);
                    *v = batch;
                }
                Err(e)
            }
        }
    }

    /// Deletes events older than the retention period, `chunk` events per transaction;
    /// returns how many were deleted. Blocking.
    pub fn prune(&self, store: &dyn Store, now_ms: i64, chunk: usize) -> Result<usize, StoreError> {
        let retention = self.retention_ms();
        if retention <= 0 {
            return Ok(0);
        }
        let before = now_ms - retention;
        let mut total = 0;
        loop {
            let n = store.prune_audit(before, chunk)?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }
}
