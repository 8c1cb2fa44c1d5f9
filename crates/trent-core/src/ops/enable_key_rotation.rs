//! EnableKeyRotation (reference §5): automatic rotation every `RotationPeriodInDays` (90–2560,
//! default 365) for symmetric keys with generated material; the first rotation is one period
//! after enabling. Calling it again changes the period.

use trent_api::dto::{Empty, KeyRotationRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::clock::DAY_MS;
use crate::credentials::Caller;
use crate::ids::Forms;
use crate::keys::LoadedKey;
use crate::{validate, Kms};

/// Keys whose rotation a customer may configure: customer managed, symmetric, generated material.
pub(crate) fn check_configurable(key: &LoadedKey) -> Result<(), KmsError> {
    if key.record.key_spec != "SYMMETRIC_DEFAULT" || key.record.key_manager != "CUSTOMER" {
        return Err(KmsError::UnsupportedOperation(String::new()));
    }
    if key.record.origin != "AWS_KMS" {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} origin is {} which is not valid for this operation.",
            key.arn, key.record.origin
        )));
    }
    Ok(())
}

pub async fn run(kms: &Kms, caller: &Caller, req: KeyRotationRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    if let Some(d) = req.rotation_period_in_days {
        v.range("rotationPeriodInDays", d, 90, 2560);
    }
    v.finish()?;
    let op = Operation::EnableKeyRotation;
    let _guard = kms.write.lock().await;
    let key = kms.resolve(caller, key_id.unwrap_or_default(), Forms::IdOrArn).await?;
    check_configurable(&key)?;
    super::authorize(kms, caller, op, &key).await?;
    crate::state::check(op, &key)?;
    let period = req.rotation_period_in_days.unwrap_or(365);
    let mut record = key.record.clone();
    if !record.rotation_enabled || record.rotation_period_days != Some(period) {
        record.rotation_enabled = true;
        record.rotation_period_days = Some(period);
        record.next_rotation_ms = Some(kms.now_ms() + period * DAY_MS);
        kms.write_key(&key, record).await?;
    }
    Ok(Empty {})
}
