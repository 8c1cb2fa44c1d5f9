//! DescribeKey: KeyMetadata of a key named in any of the four forms; works in every key state.

use trent_api::dto::{KeyIdRequest, KeyMetadataResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: KeyIdRequest) -> Result<KeyMetadataResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::Any,
        Operation::DescribeKey,
    )
    .await?;
    Ok(KeyMetadataResponse {
        key_metadata: key.metadata(),
    })
}
