//! RevokeGrant (reference §10): deletes a grant of a key; needs `kms:RevokeGrant` on the key.
//! Works in every key state; the grant stops authorizing at once.

use trent_api::dto::{Empty, RetireGrantRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: RetireGrantRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.grant_id {
        None => v.not_null("grantId"),
        Some(g) => v.str_length("grantId", g, 1, 128),
    }
    v.finish()?;
    let grant_id = req.grant_id.clone().unwrap_or_default();
    let _guard = kms.write.lock().await;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::RevokeGrant,
    )
    .await?;
    if !super::list_grants::is_grant_id(&grant_id) {
        return Err(super::list_grants::invalid_grant_id(&grant_id));
    }
    if !key.grants.all.iter().any(|g| g.record.grant_id == grant_id) {
        return Err(KmsError::NotFound(format!("Grant ID {grant_id} not found")));
    }
    super::finish_dry_run(req.dry_run)?;
    let id = grant_id.clone();
    kms.db(move |s| s.delete_grant(&id)).await?;
    kms.uncache(key.id());
    Ok(Empty {})
}
