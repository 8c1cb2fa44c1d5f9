//! GetKeyLastUsage (2026): the last successful cryptographic use of a key — operation, time and
//! request id. Works in every key state; alias names are not accepted.

use trent_api::dto::{GetKeyLastUsageResponse, KeyIdRequest, KeyLastUsage};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::clock::epoch_seconds;
use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: KeyIdRequest) -> Result<GetKeyLastUsageResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    v.finish()?;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::GetKeyLastUsage,
    )
    .await?;
    let last = kms.last_usage(key.id()).await?;
    Ok(GetKeyLastUsageResponse {
        key_id: key.arn.clone(),
        key_last_usage: last.map(|u| KeyLastUsage {
            operation: u.operation,
            timestamp: epoch_seconds(u.at_ms),
            kms_request_id: u.request_id,
        }),
        // Trent tracks usage from the moment a key exists.
        tracking_start_date: epoch_seconds(key.record.created_ms),
        key_creation_date: epoch_seconds(key.record.created_ms),
    })
}
