//! CancelKeyDeletion: PendingDeletion → Disabled (not Enabled; reference §6).

use trent_api::dto::{KeyIdRequest, KeyIdResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: KeyIdRequest) -> Result<KeyIdResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    v.finish()?;
    let _guard = kms.write.lock().await;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::CancelKeyDeletion,
    )
    .await?;
    let mut record = key.record.clone();
    record.key_state = "Disabled".to_owned();
    record.deletion_ms = None;
    record.pending_window_days = None;
    let key = kms.write_key(&key, record).await?;
    Ok(KeyIdResponse {
        key_id: key.arn.clone(),
    })
}
