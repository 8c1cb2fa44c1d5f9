//! CreateGrant (reference §10): a grant on a key for one grantee, a subset of the operations the
//! key type supports, optional encryption-context constraints, optional retiring principal and
//! name (same name and parameters → the same GrantId, with a new token). A grantee holding a grant
//! with `CreateGrant` may create child grants with a subset of its operations and constraints at
//! least as strict.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use trent_api::dto::{CreateGrantRequest, CreateGrantResponse, GrantConstraints};
use trent_api::validate::{is_alias_charset, Violations};
use trent_api::{KmsError, Operation};
use trent_store::GrantRecord;

use crate::authz::{denied, Denial, KeyFacts};
use crate::credentials::Caller;
use crate::grants::{issue_token, operations_for, GRANT_OPERATIONS};
use crate::ids::Forms;
use crate::{state, validate, Kms};

/// Grants per key (reference §12.1).
pub const MAX_GRANTS_PER_KEY: usize = 50_000;

pub(crate) fn principal_member(v: &mut Violations, field: &str, value: &str) {
    v.str_length(field, value, 1, 256);
    let ok = value.chars().all(|c| c.is_alphanumeric() || "_+=,.@:/-".contains(c));
    if !value.is_empty() && !ok {
        v.pattern(field, value, "^[\\w+=,.@:/-]+$");
    }
}

fn constraint_member(v: &mut Violations, field: &str, m: &Option<std::collections::BTreeMap<String, String>>) {
    let Some(m) = m else { return };
    if m.len() > 8 {
        v.push(format!(
            "Value at 'constraints.{field}' failed to satisfy constraint: Member must have length less than or equal to 8"
        ));
    }
    for val in m.values() {
        if val.chars().count() > 384 {
            v.push(format!(
                "Value at 'constraints.{field}' failed to satisfy constraint: Map value must have length less than or equal to 384"
            ));
        }
    }
}

fn same_constraints(a: &Option<GrantConstraints>, b: &Option<GrantConstraints>) -> bool {
    let norm = |c: &Option<GrantConstraints>| c.clone().filter(|c| *c != GrantConstraints::default());
    norm(a) == norm(b)
}

pub async fn run(kms: &Kms, caller: &Caller, req: CreateGrantRequest) -> Result<CreateGrantResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    if let Some(g) = &req.grantee_principal {
        principal_member(&mut v, "granteePrincipal", g);
    }
    if let Some(r) = &req.retiring_principal {
        principal_member(&mut v, "retiringPrincipal", r);
    }
    match &req.operations {
        None => v.not_null("operations"),
        Some(ops) => {
            for op in ops {
                v.one_of("operations.member", op, GRANT_OPERATIONS);
            }
        }
    }
    if let Some(c) = &req.constraints {
        constraint_member(&mut v, "encryptionContextSubset", &c.encryption_context_subset);
        constraint_member(&mut v, "encryptionContextEquals", &c.encryption_context_equals);
    }
    if let Some(n) = &req.name {
        v.str_length("name", n, 1, 256);
        if !n.is_empty() && !is_alias_charset(n) {
            v.pattern("name", n, "^[a-zA-Z0-9:/_-]+$");
        }
    }
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    if req.grantee_service_principal.is_some() || req.retiring_service_principal.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Grants for AWS service principals are not supported by this server.".to_owned(),
        ));
    }
    let Some(grantee) = req.grantee_principal.clone() else {
        return Err(KmsError::Validation(
            "1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null"
                .to_owned(),
        ));
    };
    let operations: Vec<String> = {
        let set: BTreeSet<String> = req.operations.clone().unwrap_or_default().into_iter().collect();
        GRANT_OPERATIONS
            .iter()
            .filter(|o| set.contains(**o))
            .map(|o| (*o).to_owned())
            .collect()
    };
    if operations.is_empty() {
        return Err(KmsError::Validation(
            "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1"
                .to_owned(),
        ));
    }
    let op = Operation::CreateGrant;
    let _guard = kms.write.lock().await;
    let key = kms.resolve(caller, key_id.unwrap_or_default(), Forms::IdOrArn).await?;

    // Authorization: key policy / IAM, or a parent grant that covers the child.
    let policy = key.policy()?;
    let e = kms
        .evaluate_key(caller, "kms:CreateGrant", KeyFacts::of(&key), &policy)
        .await?;
    caller.request.authorized.store(true, Ordering::Relaxed);
    if !e.allowed {
        let explicit = matches!(e.reason.as_str(), "ResourceDeny" | "IdentityDeny");
        let covered = !explicit
            && key.grants.for_caller(caller).any(|parent| {
                parent.operations.iter().any(|o| o == "CreateGrant")
                    && operations.iter().all(|o| parent.operations.contains(o))
                    && parent.constraints_cover(&req.constraints)
            });
        if !covered {
            return Err(denied(
                caller,
                "kms:CreateGrant",
                &key.arn,
                Denial::from_reason(&e.reason),
            ));
        }
    }
    state::check(op, &key)?;
    let supported = operations_for(&key.record.key_spec, &key.record.key_usage);
    if let Some(bad) = operations.iter().find(|o| !supported.contains(&o.as_str())) {
        return Err(KmsError::Validation(format!(
            "Grant operation {bad} is not valid for a KMS key with key spec {} and key usage {}.",
            key.record.key_spec, key.record.key_usage
        )));
    }
    let has_ec = req
        .constraints
        .as_ref()
        .is_some_and(|c| c.encryption_context_equals.is_some() || c.encryption_context_subset.is_some());
    if has_ec && key.record.key_spec != "SYMMETRIC_DEFAULT" {
        return Err(KmsError::Validation(
            "Encryption context grant constraints are supported only for symmetric encryption KMS keys.".to_owned(),
        ));
    }
    // Name idempotency: identical parameters return the original grant (with a new token).
    if let Some(name) = &req.name {
        let existing = key.grants.all.iter().find(|g| {
            g.record.name.as_deref() == Some(name.as_str())
                && g.record.grantee_principal == grantee
                && g.record.retiring_principal == req.retiring_principal
                && g.operations == operations
                && same_constraints(&g.constraints, &req.constraints)
        });
        if let Some(g) = existing {
            super::finish_dry_run(req.dry_run)?;
            let token = issue_token(&kms.root, &g.record.grant_id)?;
            return Ok(CreateGrantResponse {
                grant_token: token,
                grant_id: g.record.grant_id.clone(),
            });
        }
    }
    if key.grants.len() >= MAX_GRANTS_PER_KEY {
        return Err(KmsError::LimitExceeded(format!(
            "The number of grants for KMS key {} exceeds the limit of {MAX_GRANTS_PER_KEY}.",
            key.arn
        )));
    }
    super::finish_dry_run(req.dry_run)?;
    let grant_id = hex::encode(trent_crypto::random::array::<32>().map_err(KmsError::internal)?);
    let constraints = req.constraints.clone().filter(|c| *c != GrantConstraints::default());
    let record = GrantRecord {
        grant_id: grant_id.clone(),
        key_id: key.id().to_owned(),
        account_id: key.record.account_id.clone(),
        name: req.name.clone(),
        grantee_principal: grantee,
        retiring_principal: req.retiring_principal.clone(),
        operations: serde_json::to_string(&operations).map_err(KmsError::internal)?,
        constraints: constraints
            .map(|c| serde_json::to_string(&c))
            .transpose()
            .map_err(KmsError::internal)?,
        created_ms: kms.now_ms(),
    };
    kms.db(move |s| s.create_grant(&record)).await?;
    kms.uncache(key.id());
    let token = issue_token(&kms.root, &grant_id)?;
    Ok(CreateGrantResponse {
        grant_token: token,
        grant_id,
    })
}
