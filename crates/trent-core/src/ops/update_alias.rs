//! UpdateAlias (reference §8): re-points an alias to another key of the same type and usage;
//! allowed away from a key pending deletion, not to one.

use trent_api::dto::{AliasRequest, Empty};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

fn key_type(spec: &str) -> &'static str {
    if spec == "SYMMETRIC_DEFAULT" {
        "SYMMETRIC"
    } else if spec.starts_with("HMAC_") {
        "HMAC"
    } else {
        "ASYMMETRIC"
    }
}

pub async fn run(kms: &Kms, caller: &Caller, req: AliasRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let name = super::create_alias::alias_name_member(&mut v, &req.alias_name);
    let target = validate::key_id(&mut v, "targetKeyId", &req.target_key_id);
    v.finish()?;
    let name = name.unwrap_or_default().to_owned();
    super::create_alias::alias_name_rules(&name, false)?;
    if name.starts_with("alias/aws/") {
        return Err(KmsError::NotAuthorized(String::new()));
    }
    let alias_arn = kms.location().alias_arn(&caller.account_id, &name);
    kms.authorize_identity(caller, "kms:UpdateAlias", &alias_arn).await?;
    let _guard = kms.write.lock().await;
    let not_found = || {
        KmsError::NotFound(format!(
            "Alias {} is not found.",
            kms.location().alias_arn(&caller.account_id, &name)
        ))
    };
    let (account, n) = (caller.account_id.clone(), name.clone());
    let mut alias = kms.db(move |s| s.alias(&account, &n)).await?.ok_or_else(not_found)?;
    if name.starts_with("alias/aws/") {
        return Err(KmsError::NotAuthorized(String::new()));
    }
    let new_key = super::key_for(
        kms,
        caller,
        target.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::UpdateAlias,
    )
    .await?;
    if new_key.record.key_manager != "CUSTOMER" {
        return Err(KmsError::NotAuthorized(String::new()));
    }
    if let Some(current) = kms.load_key(&alias.target_key_id).await? {
        super::authorize(kms, caller, Operation::UpdateAlias, &current).await?;
        let same = key_type(&current.record.key_spec) == key_type(&new_key.record.key_spec)
            && current.record.key_usage == new_key.record.key_usage;
        if !same {
            return Err(KmsError::Validation(format!(
                "Alias {name} cannot be changed from a key of type {} and usage {} to key {} of type {} and usage {}.",
                key_type(&current.record.key_spec),
                current.record.key_usage,
                new_key.arn,
                key_type(&new_key.record.key_spec),
                new_key.record.key_usage
            )));
        }
    }
    alias.target_key_id = new_key.id().to_owned();
    alias.updated_ms = kms.now_ms();
    let a = alias.clone();
    kms.db(move |s| s.update_alias(&a)).await?;
    kms.set_alias_target(&caller.account_id, &name, Some(new_key.id()));
    Ok(Empty {})
}
