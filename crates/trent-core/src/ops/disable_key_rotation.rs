//! DisableKeyRotation (reference §5): stops automatic rotation; materials made so far stay.

use trent_api::dto::{Empty, KeyRotationRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: KeyRotationRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    v.finish()?;
    let op = Operation::DisableKeyRotation;
    let _guard = kms.write.lock().await;
    let key = kms.resolve(caller, key_id.unwrap_or_default(), Forms::IdOrArn).await?;
    super::enable_key_rotation::check_configurable(&key)?;
    super::authorize(kms, caller, op, &key).await?;
    crate::state::check(op, &key)?;
    if key.record.rotation_enabled {
        let mut record = key.record.clone();
        record.rotation_enabled = false;
        record.next_rotation_ms = None;
        kms.write_key(&key, record).await?;
    }
    Ok(Empty {})
}
