//! RotateKeyOnDemand (reference §5): rotates a customer managed symmetric key now, whatever its
//! automatic schedule (which it does not change); at most 25 times per key. For imported keys the
//! material waiting in `PENDING_ROTATION` becomes current. Trent completes the rotation before
//! answering, so `OnDemandRotationStartDate` is never left pending.

use trent_api::dto::{KeyIdResponse, KeyRotationRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::rotation::{MAX_ON_DEMAND_ROTATIONS, ON_DEMAND};
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: KeyRotationRequest) -> Result<KeyIdResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    v.finish()?;
    let op = Operation::RotateKeyOnDemand;
    let _guard = kms.write.lock().await;
    let key = kms.resolve(caller, key_id.unwrap_or_default(), Forms::IdOrArn).await?;
    if key.record.key_spec != "SYMMETRIC_DEFAULT" || key.record.key_manager != "CUSTOMER" {
        return Err(KmsError::UnsupportedOperation(String::new()));
    }
    super::authorize(kms, caller, op, &key).await?;
    crate::state::check(op, &key)?;
    let done = key
        .versions
        .iter()
        .filter(|v| v.rotation_type.as_deref() == Some(ON_DEMAND))
        .count();
    if done >= MAX_ON_DEMAND_ROTATIONS {
        return Err(KmsError::LimitExceeded(format!(
            "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {}",
            key.arn
        )));
    }
    let (rotated, _) = kms.rotate(&key, ON_DEMAND).await?;
    Ok(KeyIdResponse {
        key_id: rotated.arn.clone(),
    })
}
