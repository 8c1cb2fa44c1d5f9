//! DisableKey: Enabled or Disabled → Disabled (reference §3). Shares its body with EnableKey.

use trent_api::dto::{Empty, KeyIdRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: KeyIdRequest) -> Result<Empty, KmsError> {
    set_enabled(kms, caller, req, false).await
}

pub(crate) async fn set_enabled(
    kms: &Kms,
    caller: &Caller,
    req: KeyIdRequest,
    enabled: bool,
) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    v.finish()?;
    let op = if enabled {
        Operation::EnableKey
    } else {
        Operation::DisableKey
    };
    let _guard = kms.write.lock().await;
    let key = super::key_for(kms, caller, key_id.unwrap_or_default(), Forms::IdOrArn, op).await?;
    let state = if enabled { "Enabled" } else { "Disabled" };
    if key.record.key_state != state {
        let mut record = key.record.clone();
        record.key_state = state.to_owned();
        let key = kms.write_key(&key, record).await?;
        // A key re-enabled after missing its rotation date rotates at once (reference §3).
        let overdue = key.record.rotation_enabled && key.record.next_rotation_ms.is_some_and(|t| t <= kms.now_ms());
        if enabled && overdue {
            kms.rotate(&key, crate::rotation::AUTOMATIC).await?;
        }
    }
    Ok(Empty {})
}
