//! GetKeyPolicy (reference §9.1): the key policy text as stored; `PolicyName` defaults to
//! `default`, the only name that exists.

use trent_api::dto::{GetKeyPolicyResponse, KeyPolicyRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{policy, validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: KeyPolicyRequest) -> Result<GetKeyPolicyResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    policy::check_policy_name(&mut v, &req.policy_name)?;
    v.finish()?;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::GetKeyPolicy,
    )
    .await?;
    let name = req.policy_name.unwrap_or_else(|| "default".to_owned());
    if name != "default" {
        return Err(policy::policy_name_not_found(&name));
    }
    Ok(GetKeyPolicyResponse {
        policy: key.record.policy.clone(),
        policy_name: name,
    })
}
