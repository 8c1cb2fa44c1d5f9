//! The service's own background work, with [`System`] authority (no caller): deleting keys whose
//! waiting period passed (reference §6), automatic rotations (§5), expiring imported material
//! (§7), storing buffered last-usage records, flushing and pruning the audit trail. Time comes
//! from the injectable clock, so tests advance days instantly.

use std::sync::Arc;
use std::time::Duration;

use trent_api::KmsError;
use trent_types::{KeyState, RotationType};

use super::{Kms, System};

impl Kms {
    /// Deletes keys whose deletion date has passed; returns how many.
    pub async fn run_due_deletions(&self) -> Result<usize, KmsError> {
        let now = self.now_ms();
        let due = self.read(move |s| s.keys_due_for_deletion(now)).await?;
        let _guard = self.write_lock.lock().await;
        let system = System::new();
        for key in &due {
            let (id, region) = (key.key_id, key.region.clone());
            self.write(&system, move |s| s.delete_key(&region, &id)).await?;
            self.uncache(&key.key_id);
            self.forget_key_aliases(&key.region, &key.key_id);
            tracing::info!(key_id = %key.key_id, region = %key.region.as_str(), "key deleted after its waiting period");
            if key.multi_region {
                self.release_primary(&system, key).await?;
            }
        }
        Ok(due.len())
    }

    /// After a multi-Region key is deleted: a primary waiting in `PendingReplicaDeletion` whose
    /// last replica this was starts its own waiting period (`PendingDeletion`), as AWS does.
    async fn release_primary(&self, system: &System, deleted: &trent_store::KeyRecord) -> Result<(), KmsError> {
        let id = deleted.key_id;
        let related = self.read(move |s| s.related_keys(&id)).await?;
        let replicas_left = related.iter().any(trent_store::KeyRecord::is_replica);
        let Some(primary) = related.into_iter().find(|k| !k.is_replica()) else {
            return Ok(());
        };
        if replicas_left || primary.key_state != KeyState::PendingReplicaDeletion {
            return Ok(());
        }
        let mut record = primary;
        let days = record.pending_window_days.unwrap_or(30);
        record.key_state = KeyState::PendingDeletion;
        record.deletion_ms = Some(self.now_ms() + days * crate::clock::DAY_MS);
        let r = record.clone();
        self.write(system, move |s| s.update_key(&r)).await?;
        self.uncache(&record.key_id);
        tracing::info!(key_id = %record.key_id, "the last replica is gone: the primary's waiting period starts");
        Ok(())
    }

    /// Asks the audit flusher's next tick (about a second) to connect the stores waiting in
    /// `CONNECTING`.
    pub(crate) fn connect_soon(&self) {
        self.xks.connect_due.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Asks the audit flusher's next tick (about a second) to settle multi-Region keys.
    pub(crate) fn settle_soon(&self) {
        self.settle_due.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Ends the transient states of multi-Region keys (reference §3): a replica `Creating`
    /// becomes `Enabled` — `PendingImport` when its material is imported and not yet imported
    /// into it — and keys `Updating` after UpdatePrimaryRegion become `Enabled`. Also run by
    /// the leader's scheduler, so a state left by a crash settles after a restart. Returns how
    /// many keys settled.
    pub async fn settle_multi_region(&self) -> Result<usize, KmsError> {
        let settling = self.read(|s| s.keys_settling()).await?;
        let _guard = self.write_lock.lock().await;
        let system = System::new();
        let mut n = 0;
        for mut record in settling {
            let was = record.key_state;
            record.key_state = if was == KeyState::Creating && record.current_material_id.is_none() {
                KeyState::PendingImport
            } else {
                KeyState::Enabled
            };
            let r = record.clone();
            match self.try_write(&system, move |s| s.update_key(&r)).await? {
                // Changed meanwhile (another server settled it, or it was scheduled for
                // deletion): the next round looks again.
                Ok(()) | Err(trent_store::StoreError::Conflict | trent_store::StoreError::NotFound) => {}
                Err(e) => return Err(KmsError::internal(e)),
            }
            self.uncache(&record.key_id);
            n += 1;
            tracing::info!(key_id = %record.key_id, region = %record.region.as_str(), from = %was, to = %record.key_state, "multi-Region key settled");
        }
        Ok(n)
    }

    /// Performs every automatic rotation that is due; returns how many this server made.
    pub async fn run_due_rotations(&self) -> Result<usize, KmsError> {
        let now = self.now_ms();
        let due = self.read(move |s| s.keys_due_for_rotation(now)).await?;
        let system = System::new();
        let mut rotated = 0;
        for record in due {
            // Related multi-Region keys rotate together, from the primary (the store moves them
            // all to the new material).
            if record.is_replica() {
                continue;
            }
            let _guard = self.write_lock.lock().await;
            self.uncache(&record.key_id);
            let Some(key) = self.load_key(&record.region, &record.key_id).await? else {
                continue;
            };
            let still_due = key.record.rotation_enabled
                && key.state() == KeyState::Enabled
                && key.record.next_rotation_ms.is_some_and(|t| t <= now);
            if still_due && self.rotate(&system, &key, RotationType::Automatic).await?.1 {
                rotated += 1;
            }
        }
        Ok(rotated)
    }

    /// Deletes imported material whose ValidTo has passed; returns how many.
    pub async fn run_material_expiry(&self) -> Result<usize, KmsError> {
        let now = self.now_ms();
        let expired = self.read(move |s| s.expired_materials(now)).await?;
        let _guard = self.write_lock.lock().await;
        let system = System::new();
        for m in &expired {
            self.uncache(&m.key_id);
            let id = m.key_id;
            // Expiry is of the shared material record: every related key loses it.
            let related = self.read(move |s| s.related_keys(&id)).await?;
            if let Some(first) = related.first() {
                if let Some(key) = self.load_key(&first.region, &m.key_id).await? {
                    self.delete_material(&system, &key, &m.material_id, true).await?;
                }
            }
        }
        Ok(expired.len())
    }

    /// Stores buffered last-usage records in one batch; returns how many.
    pub async fn flush_usage(&self) -> Result<usize, KmsError> {
        let batch = self.usage.take();
        let n = batch.len();
        if n > 0 {
            self.write(&System::new(), move |s| s.record_usage(&batch)).await?;
        }
        Ok(n)
    }

    /// Sets how many days audit events are kept (0: forever). Pruning runs with the scheduler.
    pub fn set_audit_retention_days(&self, days: u32) {
        self.audit.set_retention_days(days);
    }

    /// The audit chain this server appends to from now on: its node id. Servers sharing a
    /// database each need their own to append without waiting for each other.
    pub fn set_audit_chain(&self, node_id: &str) {
        self.audit.set_chain(node_id);
    }

    /// The audit chain this server appends to.
    pub fn audit_chain(&self) -> Arc<str> {
        self.audit.chain()
    }

    /// Writes buffered audit events to the store, extending the chain; returns how many were
    /// written. Encoding, hashing and the write run on the blocking pool.
    pub async fn flush_audit(&self) -> Result<usize, KmsError> {
        if self.audit.pending() == 0 {
            return Ok(0);
        }
        let now = self.now_ms();
        let region = self.region().shared();
        let key = Arc::clone(self.chain_key());
        let store = self.store_for(&System::new());
        let log = self.audit_log();
        let started = std::time::Instant::now();
        let n = tokio::task::spawn_blocking(move || log.flush(store.as_ref(), &key, now, &region))
            .await
            .map_err(KmsError::internal)?
            .map_err(KmsError::internal)?;
        self.metrics().audit_flushed(n, started.elapsed());
        Ok(n)
    }

    /// Records in the audit trail that this server started serving (`TrentStarted`): with the
    /// matching `TrentStopped`, `trent audit verify` can tell a clean stop from a crash.
    pub async fn record_start(&self) -> Result<(), KmsError> {
        self.record_marker(trent_audit::STARTED, None).await
    }

    /// Records a clean stop (`TrentStopped`, with how many request events this server recorded).
    /// Call it after the last flush.
    pub async fn record_stop(&self) -> Result<(), KmsError> {
        let n = i64::try_from(self.audit.recorded()).unwrap_or(i64::MAX);
        let data = trent_audit::Value::Map(vec![("events".to_owned(), trent_audit::Value::Int(n))]);
        self.record_marker(trent_audit::STOPPED, Some(data)).await
    }

    async fn record_marker(&self, name: &'static str, additional: Option<trent_audit::Value>) -> Result<(), KmsError> {
        let event = trent_audit::Event {
            time_ms: self.now_ms(),
            source: trent_audit::Source::Trent,
            name: name.into(),
            region: self.region().shared(),
            identity: None,
            source_ip: None,
            request_id: String::new(),
            parameters: Default::default(),
            resources: Vec::new(),
            error: None,
            read_only: false,
            additional,
            origin: Some(Arc::clone(self.boot_id())),
        };
        let key = Arc::clone(self.chain_key());
        let store = self.store_for(&System::new());
        let log = self.audit_log();
        tokio::task::spawn_blocking(move || log.write_marker(store.as_ref(), &key, event))
            .await
            .map_err(KmsError::internal)?
            .map_err(KmsError::internal)
    }

    /// Deletes audit events older than the retention period, in chunks of 10,000 events per
    /// transaction so the writer is never held for long; returns how many were deleted.
    pub async fn prune_audit(&self) -> Result<usize, KmsError> {
        if self.audit.retention_ms() <= 0 {
            return Ok(0);
        }
        let now = self.now_ms();
        let store = self.store_for(&System::new());
        let log = self.audit_log();
        tokio::task::spawn_blocking(move || log.prune(store.as_ref(), now, 10_000))
            .await
            .map_err(KmsError::internal)?
            .map_err(KmsError::internal)
    }

    /// One round of every background job (errors are logged; the next round retries). Of the
    /// servers sharing a database only the elected one (`StoreRead::try_lead`) runs the jobs that
    /// change keys and prune the trail; every server writes its own buffers.
    pub async fn run_scheduled(&self) {
        let leader = match self.read(|s| s.try_lead()).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "cannot tell whether this server leads the scheduled jobs");
                false
            }
        };
        if leader {
            self.metrics().scheduler_ran();
            if let Err(e) = self.run_due_deletions().await {
                tracing::error!(error = %e, "scheduled deletion failed");
            }
            if let Err(e) = self.run_due_rotations().await {
                tracing::error!(error = %e, "scheduled rotation failed");
            }
            if let Err(e) = self.run_material_expiry().await {
                tracing::error!(error = %e, "imported material expiry failed");
            }
            if let Err(e) = self.connect_custom_key_stores().await {
                tracing::error!(error = %e, "connecting custom key stores failed");
            }
            if let Err(e) = self.settle_multi_region().await {
                tracing::error!(error = %e, "settling multi-Region keys failed");
            }
        }
        if let Err(e) = self.flush_usage().await {
            tracing::error!(error = %e, "last-usage flush failed");
        }
        if let Err(e) = self.flush_audit().await {
            tracing::error!(error = %e, "audit flush failed");
        }
        if !leader {
            return;
        }
        match self.prune_audit().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "audit events past retention deleted"),
            Err(e) => tracing::error!(error = %e, "audit retention failed"),
        }
    }
}

/// Flushes the audit buffer every `period` (one second in the server).
pub fn spawn_audit_flusher(kms: Arc<Kms>, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            if let Err(e) = kms.flush_audit().await {
                tracing::error!(error = %e, "audit flush failed; the events are kept for the next attempt");
            }
            // A store being connected gets its health check within about a second, on a task of
            // its own (a proxy that does not answer must not hold the audit flush).
            if kms.xks.connect_due.swap(false, std::sync::atomic::Ordering::AcqRel) {
                let kms = Arc::clone(&kms);
                tokio::spawn(async move {
                    if let Err(e) = kms.connect_custom_key_stores().await {
                        kms.connect_soon();
                        tracing::error!(error = %e, "connecting custom key stores failed");
                    }
                });
            }
            // A replica created or a primary moved here settles within about a second.
            if kms.settle_due.swap(false, std::sync::atomic::Ordering::AcqRel) {
                if let Err(e) = kms.settle_multi_region().await {
                    kms.settle_soon();
                    tracing::error!(error = %e, "settling multi-Region keys failed");
                }
            }
        }
    })
}

/// Runs [`Kms::run_scheduled`] every `period`.
pub fn spawn_scheduler(kms: Arc<Kms>, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            kms.run_scheduled().await;
        }
    })
}
