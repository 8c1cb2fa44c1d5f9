//! CancelKeyDeletion: PendingDeletion → Disabled (not Enabled; reference §6).

use trent_api::dto::{KeyIdRequest, KeyIdResponse};
use trent_api::{KmsError, Operation};
use trent_types::KeyState;

use super::common::{key_only, IdReq};
use crate::authz::{KeySpec, OneKey};
use crate::pipeline::{Checks, Ctx, KmsOp};

pub(crate) struct CancelKeyDeletion;

impl KmsOp for CancelKeyDeletion {
    const OP: Operation = Operation::CancelKeyDeletion;
    const SERIAL: bool = true;
    type Input = KeyIdRequest;
    type Req = IdReq;
    type Target = OneKey;
    type Output = KeyIdResponse;

    fn validate(req: KeyIdRequest, checks: &Checks<'_>) -> Result<IdReq, KmsError> {
        Ok(IdReq {
            key: key_only(&req.key_id, checks)?,
        })
    }

    fn target(req: &IdReq) -> KeySpec<'_> {
        req.spec()
    }

    async fn run(cx: Ctx<'_, OneKey>, _req: IdReq) -> Result<KeyIdResponse, KmsError> {
        let mut record = cx.auth.key.record.clone();
        record.key_state = KeyState::Disabled;
        record.deletion_ms = None;
        record.pending_window_days = None;
        let key = cx.kms.write_key(&cx.auth, &cx.auth.key, record).await?;
        Ok(KeyIdResponse {
            key_id: key.arn.to_string(),
        })
    }
}
