//! Last usage of keys (GetKeyLastUsage): successful cryptographic operations are recorded in
//! memory on the hot path and written to the store in batches by the scheduler, so Encrypt never
//! waits for a database write.

use std::collections::HashMap;
use std::sync::Mutex;

use trent_api::KmsError;
use trent_store::UsageRecord;

use crate::Kms;

/// Unflushed last uses, by key id.
#[derive(Default)]
pub struct UsageBuffer(Mutex<HashMap<String, UsageRecord>>);

impl UsageBuffer {
    pub(crate) fn record(&self, key_id: &str, operation: &str, at_ms: i64, request_id: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(
                key_id.to_owned(),
                UsageRecord {
                    key_id: key_id.to_owned(),
                    operation: operation.to_owned(),
                    at_ms,
                    request_id: request_id.to_owned(),
                },
            );
        }
    }

    fn get(&self, key_id: &str) -> Option<UsageRecord> {
        self.0.lock().ok()?.get(key_id).cloned()
    }

    fn take(&self) -> Vec<UsageRecord> {
        self.0
            .lock()
            .map(|mut m| m.drain().map(|(_, v)| v).collect())
            .unwrap_or_default()
    }
}

/// The key id at the end of a key ARN (`…:key/<id>`).
pub(crate) fn key_id_of(arn: &str) -> &str {
    arn.rsplit_once("key/").map_or(arn, |(_, id)| id)
}

impl Kms {
    /// Notes a successful use of the keys named (by ARN) in a response.
    pub(crate) fn note_usage(&self, op: trent_api::Operation, arns: &[&str], request_id: &str) {
        let now = self.now_ms();
        for arn in arns {
            self.usage.record(key_id_of(arn), op.name(), now, request_id);
        }
    }

    /// The most recent use of a key: unflushed first, else stored.
    pub async fn last_usage(&self, key_id: &str) -> Result<Option<UsageRecord>, KmsError> {
        if let Some(u) = self.usage.get(key_id) {
            return Ok(Some(u));
        }
        let id = key_id.to_owned();
        self.db(move |s| s.usage(&id)).await
    }

    /// Writes buffered usage to the store in one transaction; returns how many keys.
    pub async fn flush_usage(&self) -> Result<usize, KmsError> {
        let batch = self.usage.take();
        let n = batch.len();
        if n > 0 {
            self.db(move |s| s.record_usage(&batch)).await?;
        }
        Ok(n)
    }
}
