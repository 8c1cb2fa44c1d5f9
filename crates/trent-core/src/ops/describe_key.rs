//! DescribeKey: KeyMetadata of a key named in any of the four forms; works in every key state.
//! Naming `alias/aws/<service>` creates that AWS managed key on first use (reference §4.2).

use trent_api::dto::{KeyIdRequest, KeyMetadataResponse};
use trent_api::{KmsError, Operation};
use trent_types::KeyState;

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
        let key = &cx.auth.key;
        let mut key_metadata = key.metadata();
        // A key in a custom key store that is not connected is `Unavailable` (reference §3):
        // it can be viewed and managed, not used. Its stored state comes back on reconnection.
        if let Some(store_id) = &key.record.custom_key_store_id {
            let store = cx
                .kms
                .custom_key_store(key.record.account_id, &key.record.region, store_id)
                .await?;
            let connected = store.is_some_and(|s| s.doc.state == crate::xks::stores::ConnectionState::Connected);
            if !connected && matches!(key_metadata.key_state, KeyState::Enabled | KeyState::Disabled) {
                key_metadata.key_state = KeyState::Unavailable;
                key_metadata.enabled = false;
            }
        }
        Ok(KeyMetadataResponse { key_metadata })
    }
}
