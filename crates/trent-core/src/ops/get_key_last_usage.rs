//! GetKeyLastUsage (2026): the last successful cryptographic use of a key — operation, time and
//! request id. Works in every key state; alias names are not accepted.

use trent_api::dto::{GetKeyLastUsageResponse, KeyIdRequest, KeyLastUsage};
use trent_api::{KmsError, Operation};

use super::common::{key_only, IdReq};
use crate::authz::{KeySpec, OneKey};
use crate::clock::epoch_seconds;
use crate::pipeline::{Checks, Ctx, KmsOp};

pub(crate) struct GetKeyLastUsage;

impl KmsOp for GetKeyLastUsage {
    const OP: Operation = Operation::GetKeyLastUsage;
    type Input = KeyIdRequest;
    type Req = IdReq;
    type Target = OneKey;
    type Output = GetKeyLastUsageResponse;

    fn validate(req: KeyIdRequest, checks: &Checks<'_>) -> Result<IdReq, KmsError> {
        Ok(IdReq {
            key: key_only(&req.key_id, checks)?,
        })
    }

    fn target(req: &IdReq) -> KeySpec<'_> {
        req.spec()
    }

    async fn run(cx: Ctx<'_, OneKey>, _req: IdReq) -> Result<GetKeyLastUsageResponse, KmsError> {
        let key = &cx.auth.key;
        let last = cx.kms.last_usage(&key.record.region, key.id()).await?;
        Ok(GetKeyLastUsageResponse {
            key_id: key.arn.to_string(),
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
}
