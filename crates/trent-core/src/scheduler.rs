//! Background jobs driven by the injectable clock. Today: deleting keys whose deletion window has
//! passed (reference §6: the key, its material, aliases and tags are gone for good). Safe to run
//! on several servers sharing a store later: deleting an already deleted key is a no-op.

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

/// Runs the scheduler every `period` until the returned handle is aborted.
pub fn spawn(kms: Arc<Kms>, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            if let Err(e) = kms.run_due_deletions().await {
                tracing::error!(error = %e, "scheduled deletion failed");
            }
        }
    })
}
