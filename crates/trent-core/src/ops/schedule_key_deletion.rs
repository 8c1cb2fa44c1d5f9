//! ScheduleKeyDeletion (reference §6): waiting period 7–30 days (default 30) → PendingDeletion.
//! The scheduler deletes the key, its material, aliases and tags when the window has passed.

use trent_api::dto::{ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_policy::Values;
use trent_types::KeyState;

use super::common::finish;
use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::clock::{epoch_seconds, DAY_MS};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};

pub(crate) struct ScheduleKeyDeletion;

pub(crate) struct Req {
    key: KeyRef,
    days: i64,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        (key == "kms:schedulekeydeletionpendingwindowindays").then(|| facts::owned(self.days.to_string()))?
    }
}

impl KmsOp for ScheduleKeyDeletion {
    const OP: Operation = Operation::ScheduleKeyDeletion;
    const SERIAL: bool = true;
    type Input = ScheduleKeyDeletionRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = ScheduleKeyDeletionResponse;

    fn validate(req: ScheduleKeyDeletionRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = crate::validate::key_id(&mut v, "keyId", &req.key_id);
        if let Some(d) = req.pending_window_in_days {
            // The model allows 1–365; the service enforces 7–30 with the same message shape.
            v.range("pendingWindowInDays", d, 7, 30);
        }
        Ok(Req {
            key: finish(v, raw, checks)?,
            days: req.pending_window_in_days.unwrap_or(30),
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<ScheduleKeyDeletionResponse, KmsError> {
        let deletion_ms = cx.kms.now_ms() + req.days * DAY_MS;
        let mut record = cx.auth.key.record.clone();
        // A multi-Region primary with replicas waits for them (`PendingReplicaDeletion`, no
        // deletion date); its own window starts when the last replica is deleted (reference §6).
        let waits = !record.is_replica() && cx.auth.key.related.len() > 1;
        let state = if waits {
            KeyState::PendingReplicaDeletion
        } else {
            KeyState::PendingDeletion
        };
        record.key_state = state;
        record.deletion_ms = (!waits).then_some(deletion_ms);
        record.pending_window_days = Some(req.days);
        let key = cx.kms.write_key(&cx.auth, &cx.auth.key, record).await?;
        Ok(ScheduleKeyDeletionResponse {
            key_id: key.arn.to_string(),
            deletion_date: (!waits).then(|| epoch_seconds(deletion_ms)),
            key_state: state.as_str().to_owned(),
            pending_window_in_days: req.days,
        })
    }
}
