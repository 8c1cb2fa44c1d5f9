//! DeleteAlias (reference §8): deletes only the alias; works in every key state.

use trent_api::dto::{AliasRequest, Empty};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_store::StoreError;

use crate::credentials::Caller;
use crate::Kms;

pub async fn run(kms: &Kms, caller: &Caller, req: AliasRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let name = super::create_alias::alias_name_member(&mut v, &req.alias_name);
    v.finish()?;
    let name = name.unwrap_or_default().to_owned();
    super::create_alias::alias_name_rules(&name, false)?;
    if name.starts_with("alias/aws/") {
        return Err(KmsError::NotAuthorized(String::new()));
    }
    let alias_arn = kms.location().alias_arn(&caller.account_id, &name);
    kms.authorize_identity(caller, "kms:DeleteAlias", &alias_arn).await?;
    let _guard = kms.write.lock().await;
    let not_found = || {
        KmsError::NotFound(format!(
            "Alias {} is not found.",
            kms.location().alias_arn(&caller.account_id, &name)
        ))
    };
    let (account, n) = (caller.account_id.clone(), name.clone());
    let alias = kms.db(move |s| s.alias(&account, &n)).await?.ok_or_else(not_found)?;
    if let Some(key) = kms.load_key(&alias.target_key_id).await? {
        super::authorize(kms, caller, Operation::DeleteAlias, &key).await?;
    }
    let (account, n) = (caller.account_id.clone(), name.clone());
    let deleted = kms
        .db(move |s| match s.delete_alias(&account, &n) {
            Err(StoreError::NotFound) => Ok(false),
            other => other.map(|()| true),
        })
        .await?;
    kms.set_alias_target(&caller.account_id, &name, None);
    if !deleted {
        return Err(not_found());
    }
    Ok(Empty {})
}
