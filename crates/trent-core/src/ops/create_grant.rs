//! CreateGrant (reference §10): a grant on a key for one grantee, a subset of the operations the
//! key type supports, optional encryption-context constraints, optional retiring principal and
//! name (same name and parameters → the same GrantId, with a new token). A grantee holding a grant
//! with `CreateGrant` may create child grants with a subset of its operations and constraints at
//! least as strict (the `GrantParent` target decides).

use std::collections::BTreeSet;

use trent_api::dto::{CreateGrantRequest, CreateGrantResponse, GrantConstraints};
use trent_api::validate::{is_alias_charset, Violations};
use trent_api::{KmsError, Operation};
use trent_policy::Values;
use trent_store::GrantRecord;
use trent_types::{GrantOperation, KeySpec as KeySpecType};

use super::common::finish;
use crate::authz::facts::{self, RequestFacts};
use crate::authz::{GrantParent, GrantSpec};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

/// Grants per key (reference §12.1).
pub(crate) const MAX_GRANTS_PER_KEY: usize = 50_000;

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

pub(crate) struct CreateGrant;

pub(crate) struct Req {
    key: KeyRef,
    grantee: String,
    retiring: Option<String>,
    operations: Vec<GrantOperation>,
    constraints: Option<GrantConstraints>,
    name: Option<String>,
    grant_tokens: Vec<String>,
    dry_run: bool,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:grantoperations" => facts::list(self.operations.iter().map(|o| o.as_str())),
            "kms:granteeprincipal" => facts::one(&self.grantee),
            "kms:retiringprincipal" => self.retiring.as_deref().and_then(facts::one),
            "kms:grantconstrainttype" => {
                let c = self.constraints.as_ref()?;
                let mut names = Vec::new();
                if c.encryption_context_equals.is_some() {
                    names.push("EncryptionContextEquals");
                }
                if c.encryption_context_subset.is_some() {
                    names.push("EncryptionContextSubset");
                }
                facts::list(names.into_iter())
            }
            "kms:grantisforawsresource" => facts::one("false"),
            _ => None,
        }
    }
}

impl KmsOp for CreateGrant {
    const OP: Operation = Operation::CreateGrant;
    const SERIAL: bool = true;
    type Input = CreateGrantRequest;
    type Req = Req;
    type Target = GrantParent;
    type Output = CreateGrantResponse;

    fn validate(req: CreateGrantRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        if let Some(g) = &req.grantee_principal {
            principal_member(&mut v, "granteePrincipal", g);
        }
        if let Some(r) = &req.retiring_principal {
            principal_member(&mut v, "retiringPrincipal", r);
        }
        let mut requested = BTreeSet::new();
        match &req.operations {
            None => v.not_null("operations"),
            Some(ops) => {
                for op in ops {
                    if v.one_of("operations.member", op, GrantOperation::NAMES) {
                        if let Some(o) = GrantOperation::parse(op) {
                            requested.insert(o);
                        }
                    }
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
        let Some(grantee) = req.grantee_principal else {
            return Err(KmsError::Validation(
                "1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null"
                    .to_owned(),
            ));
        };
        // Model order, without duplicates.
        let operations: Vec<GrantOperation> = GrantOperation::ALL
            .iter()
            .filter(|o| requested.contains(*o))
            .copied()
            .collect();
        if operations.is_empty() {
            return Err(KmsError::Validation(
                "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1"
                    .to_owned(),
            ));
        }
        Ok(Req {
            key: finish(Violations::new(), raw, checks)?,
            grantee,
            retiring: req.retiring_principal,
            operations,
            constraints: req.constraints,
            name: req.name,
            grant_tokens: req.grant_tokens.unwrap_or_default(),
            dry_run: req.dry_run == Some(true),
        })
    }

    fn grant_tokens(req: &Req) -> &[String] {
        &req.grant_tokens
    }

    fn target(req: &Req) -> GrantSpec<'_> {
        GrantSpec {
            key: &req.key,
            operations: &req.operations,
            constraints: &req.constraints,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, GrantParent>, req: Req) -> Result<CreateGrantResponse, KmsError> {
        let key = &cx.auth.key;
        let supported = GrantOperation::supported_by(key.spec(), key.usage());
        if let Some(bad) = req.operations.iter().find(|o| !supported.contains(o)) {
            return Err(KmsError::Validation(format!(
                "Grant operation {bad} is not valid for a KMS key with key spec {} and key usage {}.",
                key.spec(),
                key.usage()
            )));
        }
        let has_ec = req
            .constraints
            .as_ref()
            .is_some_and(|c| c.encryption_context_equals.is_some() || c.encryption_context_subset.is_some());
        if has_ec && key.spec() != KeySpecType::SymmetricDefault {
            return Err(KmsError::Validation(
                "Encryption context grant constraints are supported only for symmetric encryption KMS keys.".to_owned(),
            ));
        }
        // Name idempotency: identical parameters return the original grant (with a new token).
        if let Some(name) = &req.name {
            let existing = key.grants.all.iter().find(|g| {
                g.record.name.as_deref() == Some(name.as_str())
                    && g.record.grantee_principal == req.grantee
                    && g.record.retiring_principal == req.retiring
                    && g.record.operations == req.operations
                    && same_constraints(&g.constraints, &req.constraints)
            });
            if let Some(g) = existing {
                super::finish_dry_run(req.dry_run)?;
                return Ok(CreateGrantResponse {
                    grant_token: cx.kms.grant_tokens.issue(&g.record.grant_id)?,
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
        let constraints = req.constraints.filter(|c| *c != GrantConstraints::default());
        let record = GrantRecord {
            grant_id: grant_id.clone(),
            key_id: *key.id(),
            region: key.record.region.clone(),
            account_id: key.record.account_id,
            name: req.name,
            grantee_principal: req.grantee,
            retiring_principal: req.retiring,
            operations: req.operations,
            constraints: constraints
                .map(|c| serde_json::to_string(&c))
                .transpose()
                .map_err(KmsError::internal)?,
            created_ms: cx.kms.now_ms(),
        };
        cx.kms.write(&cx.auth, move |s| s.create_grant(&record)).await?;
        cx.kms.uncache(key.id());
        Ok(CreateGrantResponse {
            grant_token: cx.kms.grant_tokens.issue(&grant_id)?,
            grant_id,
        })
    }
}
