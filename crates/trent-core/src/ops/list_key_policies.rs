//! ListKeyPolicies: always `["default"]` (reference §9.1).

use trent_api::dto::{ListKeyPoliciesResponse, ListRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: ListRequest) -> Result<ListKeyPoliciesResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    validate::limit(&mut v, req.limit, 1000, 100);
    validate::marker(&mut v, &req.marker);
    v.finish()?;
    super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::ListKeyPolicies,
    )
    .await?;
    Ok(ListKeyPoliciesResponse {
        policy_names: vec!["default".to_owned()],
        truncated: false,
    })
}
