//! PutKeyPolicy (reference §9.1): replaces the key policy after checking its characters, the
//! 32 KB quota and its grammar. (The lockout safety check and enforcement come with the
//! identities-and-policies issue; `BypassPolicyLockoutSafetyCheck` is accepted.)

use trent_api::dto::{Empty, KeyPolicyRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{policy, validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: KeyPolicyRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    policy::check_policy_name(&mut v, &req.policy_name)?;
    match &req.policy {
        None => v.not_null("policy"),
        Some(p) => policy::validate_member(&mut v, p),
    }
    v.finish()?;
    let text = req.policy.unwrap_or_default();
    let _guard = kms.write.lock().await;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::PutKeyPolicy,
    )
    .await?;
    let bypass = req.bypass_policy_lockout_safety_check == Some(true);
    policy::check_key_policy(kms, caller, crate::authz::KeyFacts::of(&key), &text, bypass).await?;
    let name = req.policy_name.unwrap_or_else(|| "default".to_owned());
    if name != "default" {
        return Err(policy::policy_name_not_found(&name));
    }
    let mut record = key.record.clone();
    record.policy = text;
    kms.write_key(&key, record).await?;
    Ok(Empty {})
}
