//! RetireGrant (reference §10): by grant token, or by KeyId + GrantId. Allowed for the retiring
//! principal, for the grantee when the grant includes `RetireGrant`, and for the account that
//! issued the grant (its root) — not by a policy permission alone. Works in every key state.

use std::sync::atomic::Ordering;

use trent_api::dto::{Empty, RetireGrantRequest};
use trent_api::validate::Violations;
use trent_api::KmsError;

use crate::authz::{denied, Denial};
use crate::credentials::Caller;
use crate::grants::{verify_token, Grant};
use crate::ids::Forms;
use crate::Kms;

fn may_retire(caller: &Caller, g: &Grant) -> bool {
    let is = |p: &str| p == caller.principal_arn || caller.principal.role_arn.as_deref() == Some(p);
    g.record.retiring_principal.as_deref().is_some_and(is)
        || (is(&g.record.grantee_principal) && g.operations.iter().any(|o| o == "RetireGrant"))
        || (caller.is_root() && caller.account_id == g.record.account_id)
}

pub async fn run(kms: &Kms, caller: &Caller, req: RetireGrantRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    if let Some(t) = &req.grant_token {
        v.str_length("grantToken", t, 1, 8192);
    }
    if let Some(k) = &req.key_id {
        v.str_length("keyId", k, 1, 2048);
    }
    if let Some(g) = &req.grant_id {
        v.str_length("grantId", g, 1, 128);
    }
    v.finish()?;
    let grant_id = match (&req.grant_token, &req.key_id, &req.grant_id) {
        (Some(t), _, _) => verify_token(&kms.root, t)?,
        (None, Some(_), Some(id)) => id.clone(),
        _ => {
            return Err(KmsError::Validation(
                "Either GrantToken or both KeyId and GrantId must be specified.".to_owned(),
            ))
        }
    };
    if !super::list_grants::is_grant_id(&grant_id) {
        return Err(super::list_grants::invalid_grant_id(&grant_id));
    }
    let _guard = kms.write.lock().await;
    let requested_key = match &req.key_id {
        Some(k) => Some(kms.resolve(caller, k, Forms::IdOrArn).await?),
        None => None,
    };
    let id = grant_id.clone();
    let record = kms.db(move |s| s.grant(&id)).await?;
    let not_found = || KmsError::NotFound(format!("Grant ID {grant_id} not found"));
    let record = record.ok_or_else(not_found)?;
    if requested_key.as_ref().is_some_and(|k| k.id() != record.key_id) {
        return Err(not_found());
    }
    let grant = Grant::from_record(record)?;
    caller.request.authorized.store(true, Ordering::Relaxed);
    if !may_retire(caller, &grant) {
        let arn = kms.location().key_arn(&grant.record.account_id, &grant.record.key_id);
        return Err(denied(caller, "kms:RetireGrant", &arn, Denial::NoResourceAllow));
    }
    super::finish_dry_run(req.dry_run)?;
    let id = grant.record.grant_id.clone();
    kms.db(move |s| s.delete_grant(&id)).await?;
    kms.uncache(&grant.record.key_id);
    Ok(Empty {})
}
