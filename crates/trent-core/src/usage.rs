//! Last usage of keys (GetKeyLastUsage, 2026): the last successful cryptographic operation on each
//! key, its time and request id. The hot path writes only to memory; the scheduler stores the
//! buffer in one batch and shutdown flushes the rest, so Encrypt never waits for a database
//! write. A read sees the buffered value first.

use std::collections::HashMap;
use std::sync::Mutex;

use trent_api::KmsError;
use trent_store::UsageRecord;
use trent_types::{KeyId, Region};

use crate::service::Kms;

/// Uses not yet stored, by key (and Region: related multi-Region keys are used separately).
#[derive(Default)]
pub(crate) struct UsageBuffer(Mutex<HashMap<(KeyId, Region), UsageRecord>>);

impl UsageBuffer {
    pub(crate) fn record(&self, key_id: KeyId, region: &Region, operation: &str, at_ms: i64, request_id: &str) {
        if let Ok(mut m) = self.0.lock() {
            match m.get_mut(&(key_id, region.clone())) {
                Some(u) => {
                    u.operation.clear();
                    u.operation.push_str(operation);
                    u.at_ms = at_ms;
                    u.request_id.clear();
                    u.request_id.push_str(request_id);
                }
                None => {
                    m.insert(
                        (key_id, region.clone()),
                        UsageRecord {
                            key_id,
                            region: region.clone(),
                            operation: operation.to_owned(),
                            at_ms,
                            request_id: request_id.to_owned(),
                        },
                    );
                }
            }
        }
    }

    fn get(&self, region: &Region, key_id: &KeyId) -> Option<UsageRecord> {
        self.0.lock().ok()?.get(&(*key_id, region.clone())).cloned()
    }

    pub(crate) fn take(&self) -> Vec<UsageRecord> {
        self.0
            .lock()
            .map(|mut m| m.drain().map(|(_, v)| v).collect())
            .unwrap_or_default()
    }
}

impl Kms {
    /// The last use of a key: buffered, else stored.
    pub(crate) async fn last_usage(&self, region: &Region, key_id: &KeyId) -> Result<Option<UsageRecord>, KmsError> {
        if let Some(u) = self.usage.get(region, key_id) {
            return Ok(Some(u));
        }
        let (id, region) = (*key_id, region.clone());
        self.read(move |s| s.usage(&region, &id)).await
    }
}
