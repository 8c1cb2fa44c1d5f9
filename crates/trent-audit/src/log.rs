//! The in-memory side of the trail: the request path pushes an [`Event`] (one short lock, no
//! encoding, no hashing, no I/O); [`AuditLog::flush`] — every second from the server, from the
//! scheduler and at shutdown, always off the async executor — encodes the buffered events,
//! extends the chain and stores them as batches in one transaction. A crash can lose at most
//! the unflushed second; a failed write keeps the events for the next flush.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use trent_store::{Store, StoreError, MAIN_CHAIN};

use crate::chain::{seal, seal_into, ChainKey};

/// Emptied batch buffers kept between flushes (a second of saturation is a few dozen batches).
const KEPT_BUFFERS: usize = 128;
use crate::event::{Event, Source, Value};

/// Where the next append continues `chain`, read inside its transaction: the newest stored
/// event, or — everything pruned — the anchor, or the start.
fn chain_start(t: &dyn Store, chain: &str) -> Result<(i64, Vec<u8>), StoreError> {
    Ok(match t.last_audit(chain)? {
        Some(h) => (h.seq, h.hash),
        None => t.audit_anchor(chain)?.unwrap_or((0, vec![0u8; 32])),
    })
}

/// Buffered events beyond this are dropped (and counted, and reported by a marker event) rather
/// than growing memory without bound while the store is failing.
pub const MAX_BUFFERED: usize = 1_000_000;

/// The buffer, the append lock, the chain and the retention setting of one service.
pub struct AuditLog {
    /// The chain this service appends to (its node id; [`MAIN_CHAIN`] for a single server).
    chain: Mutex<Arc<str>>,
    pending: Mutex<Vec<Event>>,
    /// The buffer the last flush drained, emptied, kept with its capacity for the next swap: the
    /// request path then appends into memory that is already mapped (no growth, no page faults
    /// each second).
    spare: Mutex<Vec<Event>>,
    dropped: AtomicU64,
    /// Held across a flush and a write, so this process's appends never interleave; each append
    /// reads the store's head in its own transaction ([`chain_start`]).
    appending: Mutex<()>,
    /// Batch body buffers for the next flush (only touched under `appending`).
    buffers: Mutex<Vec<Vec<u8>>>,
    /// How long events are kept, in ms; 0 keeps them forever.
    retention_ms: AtomicI64,
    /// Request events this process recorded (buffered, dropped or written with their change):
    /// what its `TrentStopped` event reports, for `verify` to compare with the trail.
    recorded: AtomicU64,
}

impl Default for AuditLog {
    fn default() -> Self {
        AuditLog {
            chain: Mutex::new(Arc::from(MAIN_CHAIN)),
            pending: Mutex::default(),
            spare: Mutex::default(),
            dropped: AtomicU64::default(),
            appending: Mutex::default(),
            buffers: Mutex::default(),
            retention_ms: AtomicI64::default(),
            recorded: AtomicU64::default(),
        }
    }
}

impl AuditLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends from now on go to `chain` (set before the service writes its first event).
    pub fn set_chain(&self, chain: &str) {
        if let (Ok(_appending), Ok(mut c)) = (self.appending.lock(), self.chain.lock()) {
            *c = Arc::from(chain);
        }
    }

    /// The chain this service appends to.
    pub fn chain(&self) -> Arc<str> {
        self.chain
            .lock()
            .map(|c| Arc::clone(&c))
            .unwrap_or_else(|_| Arc::from(MAIN_CHAIN))
    }

    /// Records an event (the request path's only audit cost).
    pub fn push(&self, e: Event) {
        self.recorded.fetch_add(1, Ordering::Relaxed);
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
        let Ok(_appending) = self.appending.lock() else {
            return Err(StoreError::Backend("audit chain lock poisoned".to_owned()));
        };
        let chain = self.chain();
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
                origin: None,
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
            let mut buffers = self
                .buffers
                .lock()
                .map(|mut b| std::mem::take(&mut *b))
                .unwrap_or_default();
            // The head is read in the transaction that appends (a backend shared by several
            // servers locks the chain there), so servers take turns instead of conflicting.
            let mut sealed = None;
            store.atomically(&mut |t| {
                let (records, _) = seal_into(key, chain_start(t, &chain)?, &batch, &mut buffers)?;
                t.append_audit_batches(&chain, &records)?;
                sealed = Some(records);
                Ok(())
            })?;
            let records = sealed.ok_or_else(|| StoreError::Backend("a transaction body did not run".to_owned()))?;
            buffers.extend(records.into_iter().map(|r| r.body).take(KEPT_BUFFERS));
            buffers.truncate(KEPT_BUFFERS);
            if let Ok(mut b) = self.buffers.lock() {
                *b = buffers;
            }
            Ok::<_, StoreError>(())
        })();
        match outcome {
            Ok(()) => {
                let n = batch.len();
                batch.clear();
                if let Ok(mut v) = self.spare.lock() {
                    *v = batch;
                }
                Ok(n)
            }
            Err(e) => {
                // Keep the events (in front of what arrived meanwhile) for the next flush.
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

    /// Writes what `f` writes and `event`, as one transaction: the event is on disk exactly when
    /// the change is. It continues the chain from the store's head read inside the transaction,
    /// so it is ordered with every other writer's events; events still buffered are written
    /// after it by the next flush. Blocking.
    pub fn write_with<T>(
        &self,
        store: &dyn Store,
        key: &ChainKey,
        event: Event,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let out = self.write_event(store, key, event, f)?;
        self.recorded.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// Writes one of the service's own events (start, stop) in its own transaction.
    pub fn write_marker(&self, store: &dyn Store, key: &ChainKey, event: Event) -> Result<(), StoreError> {
        self.write_event(store, key, event, |_| Ok(()))
    }

    /// Request events this process recorded so far.
    pub fn recorded(&self) -> u64 {
        self.recorded.load(Ordering::Relaxed)
    }

    fn write_event<T>(
        &self,
        store: &dyn Store,
        key: &ChainKey,
        event: Event,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Ok(_appending) = self.appending.lock() else {
            return Err(StoreError::Backend("audit chain lock poisoned".to_owned()));
        };
        let chain = self.chain();
        let mut f = Some(f);
        let mut out = None;
        let events = [event];
        let result = store.atomically(&mut |t| {
            let f = f
                .take()
                .ok_or_else(|| StoreError::Backend("a transaction body ran twice".to_owned()))?;
            out = Some(f(t)?);
            let (records, _) = seal(key, chain_start(t, &chain)?, &events)?;
            t.append_audit_batches(&chain, &records)
        });
        result?;
        out.ok_or_else(|| StoreError::Backend("a transaction body did not run".to_owned()))
    }

    /// Deletes events older than the retention period from every chain (the scheduler runs it
    /// on one server of a cluster), `chunk` events per transaction; returns how many were
    /// deleted. Blocking.
    pub fn prune(&self, store: &dyn Store, now_ms: i64, chunk: usize) -> Result<usize, StoreError> {
        let retention = self.retention_ms();
        if retention <= 0 {
            return Ok(0);
        }
        let before = now_ms - retention;
        let mut total = 0;
        for chain in store.audit_chains()? {
            loop {
                let n = store.prune_audit(&chain, before, chunk)?;
                total += n;
                if n == 0 {
                    break;
                }
            }
        }
        Ok(total)
    }
}
