//! DescribeKey: KeyMetadata of a key named in any of the four forms; works in every key state.
//! Naming `alias/aws/<service>` creates that AWS managed key on first use (reference §4.2).

use trent_api::dto::{KeyIdRequest, KeyMetadataResponse};
use trent_api::{KmsError, Operation};

use super::get_public_key::{validate_any_key, AnyKeyReq};
use crate::authz::{KeySpec, OneKey};
use crate::pipeline::{Checks, Ctx, KmsOp};

pub(crate) struct DescribeKey;

impl KmsOp for DescribeKey {
    const OP: Operation = Operation::DescribeKey;
    type Input = KeyIdRequest;
    type Req = AnyKeyReq;
    type Target = OneKey;
    type Output = KeyMetadataResponse;

    fn validate(req: KeyIdRequest, checks: &Checks<'_>) -> Result<AnyKeyReq, KmsError> {
        validate_any_key(req, checks)
    }

    fn grant_tokens(req: &AnyKeyReq) -> &[String] {
        &req.grant_tokens
    }

    fn target(req: &AnyKeyReq) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, _req: AnyKeyReq) -> Result<KeyMetadataResponse, KmsError> {
        Ok(KeyMetadataResponse {
            key_metadata: cx.auth.key.metadata(),
        })
    }
}
