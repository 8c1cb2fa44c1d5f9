//! ScheduleKeyDeletion (reference §6): waiting period 7–30 days (default 30) → PendingDeletion.
//! The scheduler deletes the key, its material, aliases and tags when the window has passed.

use trent_api::dto::{ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::clock::{epoch_seconds, DAY_MS};
use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    req: ScheduleKeyDeletionRequest,
) -> Result<ScheduleKeyDeletionResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    if let Some(d) = req.pending_window_in_days {
        // The model allows 1–365; the service enforces 7–30 with the same message shape.
        v.range("pendingWindowInDays", d, 7, 30);
    }
    v.finish()?;
    let days = req.pending_window_in_days.unwrap_or(30);
    let _guard = kms.write.lock().await;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::ScheduleKeyDeletion,
    )
    .await?;
    let deletion_ms = kms.now_ms() + days * DAY_MS;
    let mut record = key.record.clone();
    record.key_state = "PendingDeletion".to_owned();
    record.deletion_ms = Some(deletion_ms);
    record.pending_window_days = Some(days);
    let key = kms.write_key(&key, record).await?;
    Ok(ScheduleKeyDeletionResponse {
        key_id: key.arn.clone(),
        deletion_date: epoch_seconds(deletion_ms),
        key_state: "PendingDeletion".to_owned(),
        pending_window_in_days: days,
    })
}
