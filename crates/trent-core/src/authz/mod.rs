//! The authorization step of every request (reference §9.3), run by the pipeline after
//! validation and before the operation.
//!
//! Each operation declares its [`Target`]: one key named by a member, the account, the key a
//! ciphertext names, ReEncrypt's two keys, an alias and its keys, a grant. The target's
//! `authorize` resolves the key(s), makes the decision ([`decision::decide`]: key policy +
//! identity policies + grants) for the declared action(s), and checks each key's state against
//! the table in `state` — and returns an [`Authorized`] value holding what the operation may act
//! on. `Authorized` has no public constructor: an operation cannot obtain a key, nor write to the
//! store (see `service`), without going through here.

pub mod decision;
pub(crate) mod facts;
pub(crate) mod identity;
mod targets;

use std::sync::Arc;

use trent_api::{Action, KmsError, Operation};
use trent_policy::{PolicyDocument, PolicyKind};
use trent_types::{Arn, GrantOperation, KeyId, Region};

use crate::credentials::Caller;
use crate::grants::Grant;
use crate::ids::{alias_not_found, key_not_found, KeyRef};
use crate::keys::LoadedKey;
use crate::service::{Kms, RequestMeta};
use decision::{decide, Decision, Denial, Inputs};
use facts::{EvalFacts, KeyView, RequestFacts};

pub(crate) use targets::*;

/// Proof that the request was authorized for `T` (a key, two keys, the account, …). Only this
/// module constructs one.
pub(crate) struct Authorized<T> {
    inner: T,
}

impl<T> Authorized<T> {
    fn new(inner: T) -> Self {
        Authorized { inner }
    }
}

impl<T: Target> Authorized<T> {
    /// The key ARNs the authorized request acts on (its audit event's resources).
    pub(crate) fn resources(&self) -> Vec<Arc<str>> {
        self.inner.resources()
    }
}

impl<T> std::ops::Deref for Authorized<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

/// The authority of the authorizer's own work before a decision: resolving a reference to an
/// AWS managed key creates it on first use, as AWS does.
pub(crate) struct Lookup(());

/// What an operation acts on, and how it is authorized.
pub(crate) trait Target: Sized + Send + Sync {
    /// What the validated request names (borrowed from it).
    type Spec<'r>: Send;

    fn authorize<'a>(
        az: &'a Authorizer<'a>,
        spec: Self::Spec<'a>,
    ) -> impl std::future::Future<Output = Result<Authorized<Self>, KmsError>> + Send + 'a;

    /// The key ARNs an authorized target names.
    fn resources(&self) -> Vec<Arc<str>> {
        Vec::new()
    }
}

/// Condition comparisons above which an evaluation leaves the async executor: a policy's
/// condition values × the request's multi-valued facts. Below it an evaluation takes well under
/// a millisecond; the worst case Trent accepts (a 32 KB key policy of wildcard conditions against
/// an 8 KiB encryption context) takes about 11 ms (BENCHMARKS.md) and must not hold a worker
/// thread that other requests wait for.
const INLINE_COMPARISONS: usize = 20_000;

/// Runs `f` (a policy decision) on this thread, or — when it may be expensive and the runtime
/// can spare the worker — in `block_in_place`, so the executor's other tasks move to another
/// worker meanwhile.
fn bounded<T>(weight: usize, request: &dyn RequestFacts, f: impl FnOnce() -> T) -> T {
    let values = request.encryption_context().map_or(0, |ec| ec.len()) + 1;
    let heavy = weight.saturating_mul(values) > INLINE_COMPARISONS;
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if heavy && multi_thread {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// One request's authorization context.
pub(crate) struct Authorizer<'a> {
    pub kms: &'a Kms,
    pub caller: &'a Caller,
    pub meta: &'a RequestMeta,
    /// The Region the request is for: keys and aliases are looked up in it.
    pub region: &'a Region,
    /// The KMS operation being authorized (`None` for IAM and STS actions).
    op: Option<Operation>,
}

/// The grant operation an action corresponds to (`kms:Encrypt` → `Encrypt`), if grants can
/// give it.
pub(crate) fn grant_operation(action: Action) -> Option<GrantOperation> {
    GrantOperation::parse(action.short_name())
}

impl<'a> Authorizer<'a> {
    pub fn new(kms: &'a Kms, caller: &'a Caller, meta: &'a RequestMeta, op: Operation) -> Self {
        Authorizer {
            kms,
            caller,
            meta,
            region: kms.region_of(meta),
            op: Some(op),
        }
    }

    /// For IAM and STS actions (no KMS operation, no key states).
    pub fn for_iam(kms: &'a Kms, caller: &'a Caller, meta: &'a RequestMeta) -> Self {
        Authorizer {
            kms,
            caller,
            meta,
            region: kms.region_of(meta),
            op: None,
        }
    }

    /// The KMS operation being authorized.
    /// A key for this request: as stored when the request changes state and other servers
    /// share the store, else from the cache.
    pub(crate) async fn load_key(&self, key_id: &KeyId) -> Result<Option<Arc<LoadedKey>>, KmsError> {
        self.load_key_in(self.region, key_id).await
    }

    /// [`Self::load_key`] in another Region (the other side of ReplicateKey and
    /// UpdatePrimaryRegion).
    pub(crate) async fn load_key_in(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> Result<Option<Arc<LoadedKey>>, KmsError> {
        if self.op.is_some_and(Operation::changes_state) && self.kms.shared_store() {
            self.kms.load_key_fresh(region, key_id).await
        } else {
            self.kms.load_key(region, key_id).await
        }
    }

    pub(crate) fn op(&self) -> Result<Operation, KmsError> {
        self.op
            .ok_or_else(|| KmsError::internal("a key target authorized outside a KMS operation"))
    }

    pub(crate) fn facts<'b>(&'b self, request: &'b dyn RequestFacts, key: Option<KeyView<'b>>) -> EvalFacts<'b> {
        EvalFacts {
            kms: self.kms,
            caller: self.caller,
            source_ip: self.meta.source_ip.as_deref(),
            secure: self.meta.secure,
            now_ms: self.kms.now_ms(),
            request,
            key,
        }
    }

    /// `AccessDeniedException: User: <arn> is not authorized to perform: <action> on resource:
    /// <resource> <reason>` (AWS-recorded wording).
    pub(crate) fn denied(&self, action: &str, resource: &str, why: Denial) -> KmsError {
        KmsError::AccessDenied(format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} {}",
            self.caller.arn(),
            why.reason(action)
        ))
    }

    /// Resolves a `KeyId` member to a key the caller may address (reference §4.2). A reference
    /// to `alias/aws/<service>` creates that AWS managed key on first use.
    pub(crate) async fn resolve(&self, r: &KeyRef) -> Result<Arc<LoadedKey>, KmsError> {
        let kms = self.kms;
        let region = self.region;
        let mine = self.caller.account();
        let (account, key_id) = match r {
            KeyRef::Id(id) => (mine, *id),
            KeyRef::Arn { account, key_id } => (*account, *key_id),
            KeyRef::Alias(name) => {
                if kms.alias_target(mine, region, name).is_none() {
                    if let Some(key) = kms.managed_key(&Lookup(()), mine, region, name).await? {
                        return Ok(key);
                    }
                }
                let id = kms
                    .alias_target(mine, region, name)
                    .ok_or_else(|| alias_not_found(region, mine, name.as_str()))?;
                (mine, id)
            }
            KeyRef::AliasArn { account, name } => {
                if *account == mine && kms.alias_target(mine, region, name).is_none() {
                    if let Some(key) = kms.managed_key(&Lookup(()), mine, region, name).await? {
                        return Ok(key);
                    }
                }
                let id = kms
                    .alias_target(*account, region, name)
                    .ok_or_else(|| alias_not_found(region, *account, name.as_str()))?;
                (*account, id)
            }
            KeyRef::NoSuchAlias { account, name } => {
                return Err(alias_not_found(region, account.unwrap_or(mine), name));
            }
        };
        let key = self
            .load_key(&key_id)
            .await?
            .ok_or_else(|| key_not_found(region, account, key_id))?;
        if key.record.account_id != account {
            return Err(key_not_found(region, account, key_id));
        }
        Ok(key)
    }

    /// The decision for `action` on `key`, with `grant_allows` saying which grants count.
    pub(crate) async fn decide_key(
        &self,
        key: &LoadedKey,
        action: Action,
        request: &dyn RequestFacts,
        grant_allows: &(dyn Fn(&Grant) -> bool + Sync),
        explain: bool,
    ) -> Result<Decision, KmsError> {
        let identity = self.kms.identity_policies(self.caller.principal()).await?;
        let grants: Vec<&Grant> = key
            .grants
            .for_principal(self.caller.principal())
            .map(|g| g.as_ref())
            .collect();
        let facts = self.facts(request, Some(KeyView::of(key)));
        let weight = key.policy.weight() + identity.iter().map(PolicyDocument::weight).sum::<usize>();
        Ok(bounded(weight, request, || {
            decide(
                &Inputs {
                    principal: self.caller.principal(),
                    action: action.as_str(),
                    resource: &key.arn,
                    resource_policy: Some((&key.policy, PolicyKind::Resource)),
                    identity: &identity,
                    grants: &grants,
                    grant_allows,
                    facts: &facts,
                },
                explain,
            )
        }))
    }

    /// The decision for a request naming `key`: grants count when they include the action's
    /// operation and the request's encryption context meets their constraints. The server
    /// ([`Self::require_key`]) and `trent policy simulate` both decide here.
    pub(crate) async fn decide_request(
        &self,
        key: &LoadedKey,
        action: Action,
        request: &dyn RequestFacts,
        explain: bool,
    ) -> Result<Decision, KmsError> {
        let op = grant_operation(action);
        let ec = request.encryption_context();
        let allows = move |g: &Grant| op.is_some_and(|o| g.allows(o, ec));
        self.decide_key(key, action, request, &allows, explain).await
    }

    /// Authorizes `action` on `key` (key policy, identity policies, grants for that operation
    /// whose constraints the request's encryption context meets).
    pub(crate) async fn require_key(
        &self,
        key: &LoadedKey,
        action: Action,
        request: &dyn RequestFacts,
    ) -> Result<(), KmsError> {
        let d = self.decide_request(key, action, request, false).await?;
        match d.outcome {
            Ok(_) => Ok(()),
            Err(why) => Err(self.denied(action.as_str(), &key.arn, why)),
        }
    }

    /// Authorizes an action that names no key (`resource` is `*` or an alias ARN): identity
    /// policies alone decide.
    pub(crate) async fn require_account(
        &self,
        action: &str,
        resource: &str,
        request: &dyn RequestFacts,
    ) -> Result<(), KmsError> {
        let identity = self.kms.identity_policies(self.caller.principal()).await?;
        let facts = self.facts(request, None);
        let no_grants = |_: &Grant| false;
        let weight = identity.iter().map(PolicyDocument::weight).sum::<usize>();
        let d = bounded(weight, request, || {
            decide(
                &Inputs {
                    principal: self.caller.principal(),
                    action,
                    resource,
                    resource_policy: None,
                    identity: &identity,
                    grants: &[],
                    grant_allows: &no_grants,
                    facts: &facts,
                },
                false,
            )
        });
        match d.outcome {
            Ok(_) => Ok(()),
            Err(why) => Err(self.denied(action, resource, why)),
        }
    }

    /// Resolution, decision and state check for one key.
    pub(crate) async fn key(
        &self,
        r: &KeyRef,
        action: Action,
        request: &dyn RequestFacts,
    ) -> Result<Arc<LoadedKey>, KmsError> {
        let key = self.resolve(r).await?;
        self.require_key(&key, action, request).await?;
        crate::state::check(self.op()?, &key)?;
        Ok(key)
    }

    /// Whether `action` on a key would be allowed under a proposed key policy (CreateKey and
    /// PutKeyPolicy's lockout safety check); grants do not count.
    pub(crate) async fn would_allow(
        &self,
        policy: &trent_policy::PolicyDocument,
        key: KeyView<'_>,
        arn: &str,
        action: Action,
        request: &dyn RequestFacts,
    ) -> Result<bool, KmsError> {
        let identity = self.kms.identity_policies(self.caller.principal()).await?;
        let facts = self.facts(request, Some(key));
        let no_grants = |_: &Grant| false;
        Ok(decide(
            &Inputs {
                principal: self.caller.principal(),
                action: action.as_str(),
                resource: arn,
                resource_policy: Some((policy, PolicyKind::Resource)),
                identity: &identity,
                grants: &[],
                grant_allows: &no_grants,
                facts: &facts,
            },
            false,
        )
        .allowed())
    }

    /// The ARN of a key of the request's Region.
    pub(crate) fn key_arn(&self, account: trent_types::AccountId, key_id: KeyId) -> String {
        Arn::key(self.region, account, key_id)
    }
}
