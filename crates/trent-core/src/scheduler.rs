//! Background jobs driven by the injectable clock: deleting keys whose deletion window has passed
//! (reference §6: the key, its material, aliases and tags are gone for good), automatic rotations
//! that are due (`rotation`), expiry of imported material (ValidTo), and flushing last-usage
//! records and audit events. Each job is idempotent and each rotation a compare-and-swap, so several servers
//! sharing a store, or a restart in the middle, never rotate or delete twice.

use std::sync::Arc;
use std::time::Duration;

use trent_api::KmsError;

use crate::Kms;

impl Kms {
    /// Deletes every key whose window has passed; returns how many.
    pub async fn run_due_deletions(&self) -> Result<usize, KmsError> {
        let now = self.now_ms();
        let due = self.db(move |s| s.keys_due_for_deletion(now)).await?;
        let _guard = self.write.lock().await;
        for key in &due {
            let id = key.key_id.clone();
            self.db(move |s| s.delete_key(&id)).await?;
            self.uncache(&key.key_id);
            if let Ok(mut aliases) = self.aliases.write() {
                aliases.retain(|_, target| target != &key.key_id);
            }
            tracing::info!(key_arn = %self.loc.key_arn(&key.account_id, &key.key_id), "key deleted after its waiting period");
        }
        Ok(due.len())
    }
}

impl Kms {
    /// One pass of every scheduled job.
    pub async fn run_scheduled(&self) {
        if let Err(e) = self.run_due_deletions().await {
            tracing::error!(error = %e, "scheduled deletion failed");
        }
        if let Err(e) = self.run_due_rotations().await {
            tracing::error!(error = %e, "scheduled rotation failed");
        }
        if let Err(e) = self.run_material_expiry().await {
            tracing::error!(error = %e, "imported material expiry failed");
        }
        if let Err(e) = self.flush_usage().await {
            tracing::error!(error = %e, "last-usage flush failed");
        }
        if let Err(e) = self.flush_audit().await {
            tracing::error!(error = %e, "audit flush failed");
        }
        match self.prune_audit().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "audit events past retention deleted"),
            Err(e) => tracing::error!(error = %e, "audit retention failed"),
        }
    }
}

/// Writes buffered audit events every `period` (the bound on what a crash can lose) until the
/// returned handle is aborted.
pub fn spawn_audit_flusher(kms: Arc<Kms>, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            if let Err(e) = kms.flush_audit().await {
                tracing::error!(error = %e, "audit flush failed; the batch is kept for the next attempt");
            }
        }
    })
}

/// Runs the scheduler every `period` until the returned handle is aborted.
pub fn spawn(kms: Arc<Kms>, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            kms.run_scheduled().await;
        }
    })
}
