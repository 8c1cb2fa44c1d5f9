//! `trent policy simulate`: the decision for (principal, action, key, encryption context) and the
//! statements that made it — what an operator reaches for when a client sees AccessDenied.

use std::collections::BTreeMap;
use std::sync::Arc;

use trent_api::KmsError;
use trent_policy::{Principal, PrincipalKind};

use crate::authz::KeyFacts;
use crate::credentials::{Caller, RequestInfo};
use crate::iam::model::{self, Role, User, ROLE, USER};
use crate::ids::Forms;
use crate::Kms;

/// The outcome of a simulation, printable.
#[derive(Debug)]
pub struct Simulation {
    pub allowed: bool,
    pub reason: String,
    pub lines: Vec<String>,
}

impl Kms {
    /// A principal from its ARN: the account root, an IAM user, or a role (as a session of it).
    async fn principal_from_arn(&self, arn: &str) -> Result<Principal, KmsError> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, _, service, _, account, resource] = parts.as_slice() else {
            return Err(KmsError::Validation(format!("{arn} is not a principal ARN")));
        };
        let name = resource.rsplit('/').next().unwrap_or_default();
        let unknown = || KmsError::NotFound(format!("principal {arn} does not exist"));
        match (*service, resource.split('/').next().unwrap_or_default()) {
            ("iam", "root") => Ok((*Caller::root(account, "simulated").principal).clone()),
            ("iam", "user") => {
                let u: User = self.iam_load(account, USER, name).await.map_err(|_| unknown())?;
                Ok(Principal {
                    arn: model::user_arn(account, &u.path, &u.name),
                    account: (*account).to_owned(),
                    kind: PrincipalKind::User,
                    role_arn: None,
                    user_id: u.id,
                    user_name: Some(u.name),
                    tags: u.tags,
                })
            }
            ("iam", "role") | ("sts", "assumed-role") => {
                let role_name = if *service == "sts" {
                    resource.split('/').nth(1).unwrap_or_default()
                } else {
                    name
                };
                let r: Role = self.iam_load(account, ROLE, role_name).await.map_err(|_| unknown())?;
                Ok(Principal {
                    arn: model::assumed_role_arn(account, &r.name, "simulated"),
                    account: (*account).to_owned(),
                    kind: PrincipalKind::AssumedRole,
                    role_arn: Some(model::role_arn(account, &r.path, &r.name)),
                    user_id: format!("{}:simulated", r.id),
                    user_name: None,
                    tags: r.tags,
                })
            }
            _ => Err(unknown()),
        }
    }

    /// Simulates `action` by `principal_arn` on `key` (id or ARN) with an encryption context.
    pub async fn simulate(
        &self,
        principal_arn: &str,
        action: &str,
        key: &str,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<Simulation, KmsError> {
        let principal = self.principal_from_arn(principal_arn).await?;
        let mut context = trent_policy::Context::new();
        if !encryption_context.is_empty() {
            for (k, v) in encryption_context {
                context.set(&format!("kms:EncryptionContext:{k}"), v.clone());
            }
            context.set_all(
                "kms:EncryptionContextKeys",
                encryption_context.keys().cloned().collect(),
            );
        }
        let caller = Caller {
            account_id: principal.account.clone(),
            principal_arn: principal.arn.clone(),
            access_key_id: "simulated".to_owned(),
            principal: Arc::new(principal),
            request: Arc::new(RequestInfo {
                context,
                ..RequestInfo::default()
            }),
        };
        let loaded = self.resolve(&caller, key, Forms::Any).await?;
        let policy = loaded.policy()?;
        let e = self
            .evaluate_key(&caller, action, KeyFacts::of(&loaded), &policy)
            .await?;
        let mut lines = vec![
            format!("principal: {}", caller.principal_arn),
            format!("action: {action}"),
            format!("resource: {}", loaded.arn),
        ];
        for s in &e.key_policy.statements {
            lines.push(format!(
                "key policy statement #{} (Sid {:?}): {:?}{}",
                s.index,
                s.sid.clone().unwrap_or_default(),
                s.effect,
                match s.named {
                    Some(trent_policy::Named::ViaAccount) => " — names the account: identity policies must also allow",
                    _ => "",
                }
            ));
        }
        for (i, o) in e.identity.iter().enumerate() {
            for s in &o.statements {
                lines.push(format!(
                    "identity policy {i} statement #{} (Sid {:?}): {:?}",
                    s.index,
                    s.sid.clone().unwrap_or_default(),
                    s.effect
                ));
            }
        }
        let op = action.strip_prefix("kms:").unwrap_or(action);
        let mut by_grant = false;
        for g in loaded.grants.for_caller(&caller) {
            let applies = g.allows(op, &caller.request.encryption_context);
            by_grant |= applies;
            lines.push(format!(
                "grant {} to {} for {:?}: {}",
                g.record.grant_id,
                g.record.grantee_principal,
                g.operations,
                if applies {
                    "allows this request"
                } else {
                    "does not apply (operation or constraints)"
                }
            ));
        }
        let explicit = matches!(e.reason.as_str(), "ResourceDeny" | "IdentityDeny");
        if !e.allowed && !explicit && by_grant {
            return Ok(Simulation {
                allowed: true,
                reason: "a grant allows it".to_owned(),
                lines,
            });
        }
        let reason = match e.reason.as_str() {
            "ResourceDeny" => "explicit deny in the key policy".to_owned(),
            "IdentityDeny" => "explicit deny in an identity policy".to_owned(),
            "NoIdentityAllow" => "the key policy trusts the account, but no identity policy allows".to_owned(),
            "NoResourceAllow" => "no key policy statement allows the principal or its account".to_owned(),
            other => other.to_owned(),
        };
        Ok(Simulation {
            allowed: e.allowed,
            reason,
            lines,
        })
    }
}
