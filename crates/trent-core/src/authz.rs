//! The authorization stage of every KMS request (reference §9.3): key policy, IAM identity
//! policies and (with the grants issue) grants, combined as AWS KMS combines them.
//!
//! - An explicit `Deny` in the key policy or in an identity policy wins.
//! - The key policy is the root of trust. A statement that names the caller (its ARN, its role,
//!   `"*"`) allows on its own; a statement that names only the caller's account (its root or id)
//!   delegates to that account's identity policies, which must then allow too. The account root
//!   user needs no identity policy.
//! - Cross-account use works the same way: the key's policy must name the caller or its account,
//!   and the caller's account's identity policies must allow (with the key named by ARN).
//! - Identity-only actions (CreateKey, ListKeys, ListAliases, GenerateRandom, the alias half of the
//!   alias operations) are decided by identity policies alone; the root user may do them.
//!
//! Parsed key policies live with the cached key; parsed identity policies are cached per principal
//! and dropped on any IAM change, so a decision costs microseconds on the hot path.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use trent_api::KmsError;
use trent_policy::{outcome, Context, Outcome, PolicyDocument, PolicyKind, Principal, PrincipalKind, Request};

use crate::credentials::Caller;
use crate::iam::model::{self, ManagedPolicy, Role, User};
use crate::keys::LoadedKey;
use crate::Kms;

/// Parsed identity policies by principal ARN (the role ARN for sessions).
#[derive(Default)]
pub struct IdentityCache(RwLock<HashMap<String, Arc<Vec<PolicyDocument>>>>);

impl IdentityCache {
    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.0.write() {
            m.clear();
        }
    }
}

/// What the evaluation needs to know about a key (an existing one, or one being created).
#[derive(Clone, Copy)]
pub struct KeyFacts<'a> {
    pub record: &'a trent_store::KeyRecord,
    pub arn: &'a str,
    pub tags: &'a [trent_store::TagRecord],
}

impl<'a> KeyFacts<'a> {
    pub fn of(key: &'a LoadedKey) -> Self {
        KeyFacts {
            record: &key.record,
            arn: &key.arn,
            tags: &key.tags,
        }
    }
}

/// Why a request is denied; renders AWS's AccessDeniedException text.
pub(crate) enum Denial {
    ResourceDeny,
    IdentityDeny,
    NoResourceAllow,
    NoIdentityAllow,
}

pub(crate) fn denied(caller: &Caller, action: &str, resource: &str, why: Denial) -> KmsError {
    let reason = match why {
        Denial::ResourceDeny => "with an explicit deny in a resource-based policy".to_owned(),
        Denial::IdentityDeny => "with an explicit deny in an identity-based policy".to_owned(),
        Denial::NoResourceAllow => format!("because no resource-based policy allows the {action} action"),
        Denial::NoIdentityAllow => format!("because no identity-based policy allows the {action} action"),
    };
    KmsError::AccessDenied(format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} {reason}",
        caller.principal_arn
    ))
}

impl Denial {
    pub(crate) fn from_reason(reason: &str) -> Denial {
        match reason {
            "ResourceDeny" => Denial::ResourceDeny,
            "IdentityDeny" => Denial::IdentityDeny,
            "NoIdentityAllow" => Denial::NoIdentityAllow,
            _ => Denial::NoResourceAllow,
        }
    }
}

/// The evaluation of one request against the key policy and the caller's identity policies.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub key_policy: Outcome,
    pub identity: Vec<Outcome>,
    pub allowed: bool,
    pub reason: String,
}

impl Kms {
    /// The caller's identity policies (none for the account root).
    pub(crate) async fn identity_policies(&self, p: &Principal) -> Result<Arc<Vec<PolicyDocument>>, KmsError> {
        if p.kind == PrincipalKind::Account {
            return Ok(Arc::new(Vec::new()));
        }
        let cache_key = p.principal_arn().to_owned();
        if let Some(hit) = self.identities.0.read().ok().and_then(|m| m.get(&cache_key).cloned()) {
            return Ok(hit);
        }
        let account = p.account.clone();
        let (kind, name) = match (&p.kind, &p.user_name, &p.role_arn) {
            (PrincipalKind::User, Some(u), _) => (model::USER, u.clone()),
            (_, _, Some(role)) => (model::ROLE, role.rsplit('/').next().unwrap_or_default().to_owned()),
            _ => return Ok(Arc::new(Vec::new())),
        };
        let texts = self
            .db(move |s| {
                let Some(rec) = s.entity(&account, kind, &name)? else {
                    return Ok(Vec::new());
                };
                let (inline, attached): (Vec<String>, Vec<String>) = if kind == model::USER {
                    let u: User =
                        serde_json::from_str(&rec.body).map_err(|e| trent_store::StoreError::Corrupt(e.to_string()))?;
                    (u.inline.into_values().collect(), u.attached)
                } else {
                    let r: Role =
                        serde_json::from_str(&rec.body).map_err(|e| trent_store::StoreError::Corrupt(e.to_string()))?;
                    (r.inline.into_values().collect(), r.attached)
                };
                let mut texts = inline;
                for arn in attached {
                    let pname = arn.rsplit('/').next().unwrap_or_default().to_owned();
                    if let Some(p) = s.entity(&account, model::POLICY, &pname)? {
                        let mp: ManagedPolicy = serde_json::from_str(&p.body)
                            .map_err(|e| trent_store::StoreError::Corrupt(e.to_string()))?;
                        texts.push(mp.document);
                    }
                }
                Ok(texts)
            })
            .await?;
        let docs: Vec<PolicyDocument> = texts
            .iter()
            .filter_map(|t| trent_policy::parse_identity(t).ok())
            .collect();
        let docs = Arc::new(docs);
        if let Ok(mut m) = self.identities.0.write() {
            m.insert(cache_key, Arc::clone(&docs));
        }
        Ok(docs)
    }

    /// The condition context of a request on `key`: request facts, principal keys, key facts.
    pub(crate) fn key_context(&self, caller: &Caller, action: &str, key: KeyFacts<'_>) -> Context {
        let mut ctx = if action == "kms:ReEncryptTo" {
            caller
                .request
                .destination_context
                .clone()
                .unwrap_or_else(|| caller.request.context.clone())
        } else {
            caller.request.context.clone()
        };
        self.add_global(&mut ctx, caller);
        let r = key.record;
        for (k, v) in [
            ("kms:KeySpec", &r.key_spec),
            ("kms:CustomerMasterKeySpec", &r.key_spec),
            ("kms:KeyUsage", &r.key_usage),
            ("kms:CustomerMasterKeyUsage", &r.key_usage),
            ("kms:KeyOrigin", &r.origin),
        ] {
            ctx.set(k, v.clone());
        }
        ctx.set("kms:MultiRegion", r.multi_region.to_string());
        for t in key.tags {
            ctx.set(&format!("aws:ResourceTag/{}", t.key), t.value.clone());
        }
        ctx.set_all("kms:ResourceAliases", self.aliases_of(&r.account_id, &r.key_id));
        ctx
    }

    fn add_global(&self, ctx: &mut Context, caller: &Caller) {
        ctx.add_principal(&caller.principal);
        ctx.set("kms:CallerAccount", caller.account_id.clone());
        let now = self.now_ms();
        ctx.set("aws:EpochTime", (now / 1000).to_string());
        let t = time::OffsetDateTime::from_unix_timestamp(now / 1000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        ctx.set(
            "aws:CurrentTime",
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        );
        ctx.set("aws:SecureTransport", "false");
        if let Some(ip) = &caller.request.source_ip {
            ctx.set("aws:SourceIp", ip.clone());
        }
    }

    /// Evaluates `action` by `caller` on `key` against `policy` (the key's, or a proposed one).
    pub(crate) async fn evaluate_key(
        &self,
        caller: &Caller,
        action: &str,
        key: KeyFacts<'_>,
        policy: &PolicyDocument,
    ) -> Result<Evaluation, KmsError> {
        let ctx = self.key_context(caller, action, key);
        let req = Request {
            principal: &caller.principal,
            action,
            resource: key.arn,
            context: &ctx,
        };
        let key_policy = outcome(policy, PolicyKind::Resource, &req);
        let identities = self.identity_policies(&caller.principal).await?;
        let identity: Vec<Outcome> = identities
            .iter()
            .map(|d| outcome(d, PolicyKind::Identity, &req))
            .collect();
        let identity_deny = identity.iter().any(|o| o.explicit_deny);
        let identity_allow = caller.is_root() || identity.iter().any(|o| o.allows_directly);
        let (allowed, reason) = if key_policy.explicit_deny {
            (false, "ResourceDeny")
        } else if identity_deny {
            (false, "IdentityDeny")
        } else if key_policy.allows_directly {
            (true, "key policy allows the principal")
        } else if key_policy.allows_account && identity_allow {
            (true, "key policy trusts the account and an identity policy allows")
        } else if key_policy.allows_account {
            (false, "NoIdentityAllow")
        } else {
            (false, "NoResourceAllow")
        };
        Ok(Evaluation {
            key_policy,
            identity,
            allowed,
            reason: reason.to_owned(),
        })
    }

    /// Authorizes `action` on `key` for the caller (key policy + identity policies).
    pub(crate) async fn authorize_key(&self, caller: &Caller, action: &str, key: &LoadedKey) -> Result<(), KmsError> {
        let policy = key.policy()?;
        let e = self.evaluate_key(caller, action, KeyFacts::of(key), &policy).await?;
        caller.request.authorized.store(true, Ordering::Relaxed);
        if e.allowed {
            return Ok(());
        }
        // Grants allow what policies do not, but never against an explicit deny.
        let explicit_deny = matches!(e.reason.as_str(), "ResourceDeny" | "IdentityDeny");
        if !explicit_deny && self.grant_allows(caller, action, key) {
            return Ok(());
        }
        Err(denied(caller, action, &key.arn, Denial::from_reason(&e.reason)))
    }

    /// Whether one of the caller's grants on `key` allows `action` with this request's context.
    pub(crate) fn grant_allows(&self, caller: &Caller, action: &str, key: &LoadedKey) -> bool {
        let op = action.strip_prefix("kms:").unwrap_or(action);
        let ec = if action == "kms:ReEncryptTo" {
            &caller.request.destination_encryption_context
        } else {
            &caller.request.encryption_context
        };
        key.grants.for_caller(caller).any(|g| g.allows(op, ec))
    }

    /// Authorizes an identity-only action (`resource` is `*` or an alias ARN).
    pub(crate) async fn authorize_identity(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
    ) -> Result<(), KmsError> {
        caller.request.authorized.store(true, Ordering::Relaxed);
        let mut ctx = caller.request.context.clone();
        self.add_global(&mut ctx, caller);
        let req = Request {
            principal: &caller.principal,
            action,
            resource,
            context: &ctx,
        };
        let docs = self.identity_policies(&caller.principal).await?;
        let outcomes: Vec<Outcome> = docs.iter().map(|d| outcome(d, PolicyKind::Identity, &req)).collect();
        if outcomes.iter().any(|o| o.explicit_deny) {
            return Err(denied(caller, action, resource, Denial::IdentityDeny));
        }
        if caller.is_root() || outcomes.iter().any(|o| o.allows_directly) {
            return Ok(());
        }
        Err(denied(caller, action, resource, Denial::NoIdentityAllow))
    }

    /// Alias names (with `alias/`) that point at a key (`kms:ResourceAliases`).
    pub(crate) fn aliases_of(&self, account: &str, key_id: &str) -> Vec<String> {
        self.aliases
            .read()
            .map(|m| {
                m.iter()
                    .filter(|((a, _), k)| a == account && k.as_str() == key_id)
                    .map(|((_, n), _)| n.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}
