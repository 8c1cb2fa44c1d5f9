//! Validated requests shared by management operations that name one key by id or ARN.

use trent_api::validate::Violations;
use trent_api::KmsError;

use crate::authz::facts::RequestFacts;
use crate::authz::{KeySpec, RotatableSpec};
use crate::ids::{Forms, KeyRef};
use crate::keys::LoadedKey;
use crate::pipeline::Checks;
use crate::validate;

/// A request naming one key by id or ARN and nothing else of interest to conditions.
pub(crate) struct IdReq {
    pub key: KeyRef,
}

impl RequestFacts for IdReq {}

impl IdReq {
    pub fn spec(&self) -> KeySpec<'_> {
        KeySpec {
            key: &self.key,
            facts: self,
        }
    }

    pub fn rotatable(&self, check: fn(&LoadedKey) -> Result<(), KmsError>) -> RotatableSpec<'_> {
        RotatableSpec {
            key: &self.key,
            facts: self,
            check,
        }
    }
}

/// Validates a request whose only checked member is a required `KeyId` (id or ARN).
/// Validated `(key, value)` tags as the store keeps them.
pub(crate) fn tag_records(tags: &[(String, String)]) -> Vec<trent_store::TagRecord> {
    tags.iter()
        .map(|(key, value)| trent_store::TagRecord {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

pub(crate) fn key_only(key_id: &Option<String>, checks: &Checks<'_>) -> Result<KeyRef, KmsError> {
    let mut v = Violations::new();
    let raw = validate::key_id(&mut v, "keyId", key_id);
    finish(v, raw, checks)
}

/// Reports every violation collected (the `KeyId` member's first, as AWS lists them), then
/// parses the key reference (id or ARN).
pub(crate) fn finish(v: Violations, raw: Option<&str>, checks: &Checks<'_>) -> Result<KeyRef, KmsError> {
    v.finish()?;
    validate::key_ref(raw, Forms::IdOrArn, checks.region)
}
