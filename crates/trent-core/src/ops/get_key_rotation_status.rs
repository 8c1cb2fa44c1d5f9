//! GetKeyRotationStatus (reference §5): `KeyRotationEnabled`, and with it `RotationPeriodInDays`
//! and `NextRotationDate`. A key pending deletion reports `false` (cancelling restores it); AWS
//! managed keys always report `true`.

use trent_api::dto::{GetKeyRotationStatusResponse, KeyRotationRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::clock::epoch_seconds;
use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    req: KeyRotationRequest,
) -> Result<GetKeyRotationStatusResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    v.finish()?;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::GetKeyRotationStatus,
    )
    .await?;
    if key.record.key_spec != "SYMMETRIC_DEFAULT" {
        return Err(KmsError::UnsupportedOperation(String::new()));
    }
    let r = &key.record;
    let enabled = r.rotation_enabled && !matches!(r.key_state.as_str(), "PendingDeletion" | "PendingReplicaDeletion");
    Ok(GetKeyRotationStatusResponse {
        key_rotation_enabled: enabled,
        key_id: key.arn.clone(),
        rotation_period_in_days: r.rotation_period_days.filter(|_| enabled),
        next_rotation_date: r.next_rotation_ms.filter(|_| enabled).map(epoch_seconds),
        on_demand_rotation_start_date: None,
    })
}
