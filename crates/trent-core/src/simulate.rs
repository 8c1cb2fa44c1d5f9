//! `trent policy simulate`: the decision for (principal, action, key, encryption context) and the
//! statements and grants that made it — what an operator reaches for when a client sees
//! AccessDenied. It asks the same question the server asks ([`Authorizer::decide_request`]: the
//! same pure decision, the same grant rule, the same condition facts), so the two cannot disagree.

use std::collections::BTreeMap;

use trent_api::{Action, KmsError};
use trent_policy::{Principal, PrincipalKind, Values};
use trent_store::EntityKind;
use trent_types::{Arn, EncryptionContext};

use crate::authz::decision::{Basis, Denial};
use crate::authz::facts::{encryption_context, request_alias, RequestFacts};
use crate::authz::Authorizer;
use crate::credentials::{root_principal, Caller};
use crate::iam::model::{self, Role, User};
use crate::ids::{parse_key_ref, Forms};
use crate::service::{Kms, RequestMeta};

/// The outcome of a simulation, printable.
#[derive(Debug)]
pub struct Simulation {
    pub allowed: bool,
    /// Denied by an explicit `Deny` (IAM's `explicitDeny`), not merely for want of an allow.
    pub explicit_deny: bool,
    pub reason: String,
    pub lines: Vec<String>,
    /// The statements and grants that applied: (policy id, IAM's source policy type, effect).
    pub matched: Vec<(String, &'static str, String)>,
}

/// The request facts a simulated cryptographic request carries: its encryption context and the
/// alias its `KeyId` names.
struct Simulated<'a> {
    key: &'a str,
    ec: Option<EncryptionContext>,
}

impl RequestFacts for Simulated<'_> {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        encryption_context(self.ec.as_ref(), key).or_else(|| request_alias(self.key, key))
    }

    fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.ec.as_ref()
    }
}

fn basis_text(b: &Basis) -> String {
    match b {
        Basis::ResourcePolicy => "a key policy statement names the principal".to_owned(),
        Basis::AccountDelegation => "the key policy trusts the account and an identity policy allows".to_owned(),
        Basis::IdentityPolicy => "an identity policy allows".to_owned(),
        Basis::AccountRoot => "the principal is the account root".to_owned(),
        Basis::Grant(id) => format!("grant {id} allows it"),
    }
}

fn denial_text(d: Denial) -> &'static str {
    match d {
        Denial::ResourceDeny => "explicit deny in the key policy",
        Denial::IdentityDeny => "explicit deny in an identity policy",
        Denial::NoIdentityAllow => "the key policy trusts the account, but no identity policy allows",
        Denial::NoResourceAllow => "no key policy statement allows the principal or its account",
    }
}

impl Kms {
    /// A principal from its ARN: the account root, an IAM user, or a role (as a session of it).
    async fn principal_from_arn(&self, arn: &str) -> Result<Principal, KmsError> {
        let unknown = || KmsError::NotFound(format!("principal {arn} does not exist"));
        let parsed = Arn::parse(arn).map_err(|_| KmsError::Validation(format!("{arn} is not a principal ARN")))?;
        match parsed {
            Arn::Root { account } => Ok(root_principal(account)),
            Arn::User { account, name, .. } => {
                let u: User = self
                    .iam_load(account, EntityKind::User, &name)
                    .await
                    .map_err(|_| unknown())?;
                Ok(Principal {
                    arn: model::user_arn(account, &u.path, &u.name),
                    account: account.to_string(),
                    kind: PrincipalKind::User,
                    role_arn: None,
                    user_id: u.id,
                    user_name: Some(u.name),
                    tags: u.tags,
                })
            }
            Arn::Role { account, name, .. }
            | Arn::AssumedRole {
                account, role: name, ..
            } => {
                let r: Role = self
                    .iam_load(account, EntityKind::Role, &name)
                    .await
                    .map_err(|_| unknown())?;
                Ok(Principal {
                    arn: model::assumed_role_arn(account, &r.name, "simulated"),
                    account: account.to_string(),
                    kind: PrincipalKind::AssumedRole,
                    role_arn: Some(model::role_arn(account, &r.path, &r.name)),
                    user_id: format!("{}:simulated", r.id),
                    user_name: None,
                    tags: r.tags,
                })
            }
            Arn::Key { .. } | Arn::Alias { .. } | Arn::Policy { .. } | Arn::Group { .. } => Err(unknown()),
        }
    }

    /// Simulates `action` (`kms:Encrypt` or `Encrypt`) by `principal_arn` on `key` (id, ARN or
    /// alias) with an encryption context.
    pub async fn simulate(
        &self,
        principal_arn: &str,
        action: &str,
        key: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<Simulation, KmsError> {
        self.simulate_in(self.region(), principal_arn, action, key, context)
            .await
    }

    /// [`Self::simulate`] in one of the deployment's Regions (where `key` is looked up).
    pub(crate) async fn simulate_in(
        &self,
        region: &trent_types::Region,
        principal_arn: &str,
        action: &str,
        key: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<Simulation, KmsError> {
        let action =
            Action::parse(action).ok_or_else(|| KmsError::Validation(format!("{action} is not a KMS action")))?;
        let principal = self.principal_from_arn(principal_arn).await?;
        let account = trent_types::AccountId::parse(&principal.account)
            .ok_or_else(|| KmsError::internal("principal without account"))?;
        let caller = Caller::simulated(principal, account);
        let meta = RequestMeta {
            region: Some(region.clone()),
            ..RequestMeta::default()
        };
        let az = Authorizer::for_iam(self, &caller, &meta);
        let key_ref = parse_key_ref(key, Forms::Any, region)?;
        let loaded = az.resolve(&key_ref).await?;
        let facts = Simulated {
            key,
            ec: (!context.is_empty()).then(|| EncryptionContext::from(context.clone())),
        };
        let decision = az.decide_request(&loaded, action, &facts, true).await?;
        let mut matched = Vec::new();
        let mut lines = vec![
            format!("principal: {}", caller.arn()),
            format!("action: {}", action.as_str()),
            format!("resource: {}", loaded.arn),
        ];
        if let Some(e) = &decision.explanation {
            for s in &e.resource {
                matched.push((
                    format!(
                        "key-policy/statement-{}{}",
                        s.applied.index,
                        s.sid.as_deref().map(|sid| format!(" ({sid})")).unwrap_or_default()
                    ),
                    "resource",
                    format!("{:?}", s.applied.effect),
                ));
                lines.push(format!(
                    "key policy statement #{} (Sid {:?}): {:?}{}",
                    s.applied.index,
                    s.sid.clone().unwrap_or_default(),
                    s.applied.effect,
                    match s.applied.named {
                        Some(trent_policy::Named::ViaAccount) => {
                            " — names the account: identity policies must also allow"
                        }
                        _ => "",
                    }
                ));
            }
            for (i, statements) in &e.identity {
                for s in statements {
                    matched.push((
                        format!(
                            "{i}/statement-{}{}",
                            s.applied.index,
                            s.sid.as_deref().map(|sid| format!(" ({sid})")).unwrap_or_default()
                        ),
                        "user",
                        format!("{:?}", s.applied.effect),
                    ));
                    lines.push(format!(
                        "identity policy {i} statement #{} (Sid {:?}): {:?}",
                        s.applied.index,
                        s.sid.clone().unwrap_or_default(),
                        s.applied.effect
                    ));
                }
            }
            for (id, _, _, applies) in &e.grants {
                if *applies {
                    matched.push((format!("grant/{id}"), "resource", "Allow".to_owned()));
                }
            }
            for (id, grantee, ops, applies) in &e.grants {
                lines.push(format!(
                    "grant {id} to {grantee} for {ops:?}: {}",
                    if *applies {
                        "allows this request"
                    } else {
                        "does not apply (operation or constraints)"
                    }
                ));
            }
        }
        let (allowed, reason) = match &decision.outcome {
            Ok(b) => (true, basis_text(b)),
            Err(d) => (false, denial_text(*d).to_owned()),
        };
        let explicit_deny = matches!(decision.outcome, Err(Denial::ResourceDeny | Denial::IdentityDeny));
        Ok(Simulation {
            allowed,
            explicit_deny,
            reason,
            lines,
            matched,
        })
    }
}
