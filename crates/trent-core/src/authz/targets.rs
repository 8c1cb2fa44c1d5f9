//! The kinds of thing an operation acts on, each with its authorization (reference §1.1, the
//! "Permission" column): which key(s) the request names and through which members, which
//! action(s) are decided on them, and against which resource. Key states are checked with the
//! table in `state` for the operation being authorized.

use std::sync::Arc;

use trent_api::dto::GrantConstraints;
use trent_api::{Action, KmsError};
use trent_crypto::envelope::{self, Header};
use trent_policy::{PolicyDocument, PolicyKind};
use trent_store::AliasRecord;
use trent_types::{AliasName, Arn, GrantOperation, KeyId, KeyUsage};

use super::decision::{decide, Inputs};
use super::facts::RequestFacts;
use super::{Authorized, Authorizer, Target};
use crate::grants::Grant;
use crate::ids::{alias_not_found, KeyRef};
use crate::keys::LoadedKey;

/// One key named by a `KeyId` member (most operations): its action is the operation's.
pub(crate) struct OneKey {
    pub key: Arc<LoadedKey>,
}

pub(crate) struct KeySpec<'r> {
    pub key: &'r KeyRef,
    pub facts: &'r dyn RequestFacts,
}

impl Target for OneKey {
    type Spec<'r> = KeySpec<'r>;

    fn resources(&self) -> Vec<Arc<str>> {
        vec![Arc::clone(&self.key.arn)]
    }

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: KeySpec<'a>) -> Result<Authorized<Self>, KmsError> {
        let key = az.key(spec.key, az.op()?.action(), spec.facts).await?;
        Ok(Authorized::new(OneKey { key }))
    }
}

/// A key the rotation operations name. AWS refuses what cannot rotate before it authorizes (an
/// AWS managed key answers `UnsupportedOperationException`, though its key policy grants its
/// account no rotation permission; AWS-recorded) and checks the key state before the key type
/// (RotateKeyOnDemand on a disabled RSA key is `DisabledException`; AWS-recorded). So:
/// resolve → key state → `check` → authorize.
pub(crate) struct Rotatable {
    pub key: Arc<LoadedKey>,
}

pub(crate) struct RotatableSpec<'r> {
    pub key: &'r KeyRef,
    pub facts: &'r dyn RequestFacts,
    /// Whether this key can do the operation at all.
    pub check: fn(&LoadedKey) -> Result<(), KmsError>,
}

impl Target for Rotatable {
    type Spec<'r> = RotatableSpec<'r>;

    fn resources(&self) -> Vec<Arc<str>> {
        vec![Arc::clone(&self.key.arn)]
    }

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: RotatableSpec<'a>) -> Result<Authorized<Self>, KmsError> {
        let op = az.op()?;
        let key = az.resolve(spec.key).await?;
        crate::state::check(op, &key)?;
        (spec.check)(&key)?;
        az.require_key(&key, op.action(), spec.facts).await?;
        Ok(Authorized::new(Rotatable { key }))
    }
}

/// The caller's account: an action on no particular key (CreateKey, ListKeys, GenerateRandom,
/// ListRetirableGrants, DescribeCustomKeyStores), decided by identity policies on `*`.
pub(crate) struct Account;

pub(crate) struct AccountSpec<'r> {
    /// A second action the request needs (CreateKey with `Tags`: `kms:TagResource`).
    pub also: Option<Action>,
    pub facts: &'r dyn RequestFacts,
}

impl Target for Account {
    type Spec<'r> = AccountSpec<'r>;

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: AccountSpec<'a>) -> Result<Authorized<Self>, KmsError> {
        az.require_account(az.op()?.action().as_str(), "*", spec.facts).await?;
        if let Some(also) = spec.also {
            az.require_account(also.as_str(), "*", spec.facts).await?;
        }
        Ok(Authorized::new(Account))
    }
}

/// ListAliases: the account, and the key its optional `KeyId` filter names.
pub(crate) struct AccountAndKey {
    pub key: Option<Arc<LoadedKey>>,
}

pub(crate) struct AccountAndKeySpec<'r> {
    pub key: Option<&'r KeyRef>,
    pub facts: &'r dyn RequestFacts,
}

impl Target for AccountAndKey {
    type Spec<'r> = AccountAndKeySpec<'r>;

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: AccountAndKeySpec<'a>) -> Result<Authorized<Self>, KmsError> {
        let action = az.op()?.action();
        az.require_account(action.as_str(), "*", spec.facts).await?;
        let key = match spec.key {
            Some(r) => Some(az.key(r, action, spec.facts).await?),
            None => None,
        };
        Ok(Authorized::new(AccountAndKey { key }))
    }
}

/// The key a ciphertext is decrypted with (Decrypt, ReEncrypt's source): named by the symmetric
/// ciphertext itself, or by `KeyId` (required for asymmetric ciphertext).
pub(crate) struct CiphertextKey {
    pub key: Arc<LoadedKey>,
    /// The header of a symmetric ciphertext (`None`: asymmetric ciphertext, or no ciphertext
    /// under `DryRunModifiers=[IGNORE_CIPHERTEXT]`).
    pub header: Option<Header>,
}

pub(crate) struct CiphertextSpec<'r> {
    /// `None` only under `IGNORE_CIPHERTEXT`.
    pub blob: Option<&'r [u8]>,
    pub key: Option<&'r KeyRef>,
    /// `KeyId` or `SourceKeyId`: named in the message when the dry run needs it.
    pub key_member: &'static str,
    pub action: Action,
    pub facts: &'r dyn RequestFacts,
}

impl CiphertextKey {
    async fn authorize_with(az: &Authorizer<'_>, spec: CiphertextSpec<'_>) -> Result<CiphertextKey, KmsError> {
        let requested = match spec.key {
            Some(r) => Some(az.resolve(r).await?),
            None => None,
        };
        let authorized = |key: Arc<LoadedKey>, header: Option<Header>| async move {
            az.require_key(&key, spec.action, spec.facts).await?;
            crate::state::check(az.op()?, &key)?;
            Ok::<_, KmsError>(CiphertextKey { key, header })
        };
        let Some(blob) = spec.blob else {
            // DryRun with IGNORE_CIPHERTEXT: only the key named in the request is checked.
            let Some(key) = requested else {
                return Err(KmsError::Validation(format!(
                    "{} is required when DryRunModifiers includes IGNORE_CIPHERTEXT.",
                    spec.key_member
                )));
            };
            return authorized(key, None).await;
        };
        if let Some(key) = requested {
            if key.usage() == KeyUsage::EncryptDecrypt && !key.spec().is_symmetric() {
                // Asymmetric ciphertext carries no header: the request's key decrypts it.
                return authorized(key, None).await;
            }
            // AWS matches the ciphertext's key before it looks at the requested key's type:
            // a symmetric ciphertext of another key is IncorrectKeyException even when the
            // requested key is an HMAC or signing key.
            return match envelope::header(blob) {
                Ok(h) if KeyId::from_bytes(h.key.multi_region, h.key.id) != *key.id() => Err(KmsError::IncorrectKey),
                Ok(h) if key.spec().is_symmetric() => authorized(key, Some(h)).await,
                Err(_) if key.spec().is_symmetric() => Err(KmsError::InvalidCiphertext),
                // A key that cannot decrypt: the operation answers IncorrectKeyException.
                Ok(_) | Err(_) => authorized(key, None).await,
            };
        }
        let header = envelope::header(blob).map_err(|_| KmsError::InvalidCiphertext)?;
        let id = KeyId::from_bytes(header.key.multi_region, header.key.id);
        let key = az.load_key(&id).await?.ok_or(KmsError::InvalidCiphertext)?;
        authorized(key, Some(header)).await
    }
}

impl Target for CiphertextKey {
    type Spec<'r> = CiphertextSpec<'r>;

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: CiphertextSpec<'a>) -> Result<Authorized<Self>, KmsError> {
        CiphertextKey::authorize_with(az, spec).await.map(Authorized::new)
    }
}

/// ReEncrypt: `kms:ReEncryptTo` on the destination, then `kms:ReEncryptFrom` on the source.
pub(crate) struct ReEncryptKeys {
    pub source: CiphertextKey,
    pub destination: Arc<LoadedKey>,
}

pub(crate) struct ReEncryptSpec<'r> {
    pub source: CiphertextSpec<'r>,
    pub destination: &'r KeyRef,
    pub destination_facts: &'r dyn RequestFacts,
}

impl Target for ReEncryptKeys {
    type Spec<'r> = ReEncryptSpec<'r>;

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: ReEncryptSpec<'a>) -> Result<Authorized<Self>, KmsError> {
        let destination = az
            .key(spec.destination, Action::ReEncryptTo, spec.destination_facts)
            .await?;
        let source = CiphertextKey::authorize_with(az, spec.source).await?;
        Ok(Authorized::new(ReEncryptKeys { source, destination }))
    }
}

fn alias_arn(az: &Authorizer<'_>, name: &AliasName) -> String {
    Arn::alias(az.region, az.caller.account(), name)
}

/// CreateAlias: `kms:CreateAlias` on the alias (identity policies) and on the key (key policy).
pub(crate) struct NewAlias {
    pub key: Arc<LoadedKey>,
}

pub(crate) struct AliasSpec<'r> {
    pub name: &'r AliasName,
    /// The key the alias is to point at (CreateAlias, UpdateAlias).
    pub target: Option<&'r KeyRef>,
    pub facts: &'r dyn RequestFacts,
}

impl Target for NewAlias {
    type Spec<'r> = AliasSpec<'r>;

    fn resources(&self) -> Vec<Arc<str>> {
        vec![Arc::clone(&self.key.arn)]
    }

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: AliasSpec<'a>) -> Result<Authorized<Self>, KmsError> {
        let action = az.op()?.action();
        az.require_account(action.as_str(), &alias_arn(az, spec.name), spec.facts)
            .await?;
        let target = spec
            .target
            .ok_or_else(|| KmsError::internal("CreateAlias without a target"))?;
        let key = az.key(target, action, spec.facts).await?;
        Ok(Authorized::new(NewAlias { key }))
    }
}

async fn stored_alias(az: &Authorizer<'_>, name: &AliasName) -> Result<AliasRecord, KmsError> {
    let (account, n) = (az.caller.account(), name.clone());
    let region = az.region.clone();
    az.kms
        .read(move |s| s.alias(&account, &region, &n))
        .await?
        .ok_or_else(|| alias_not_found(az.region, account, name.as_str()))
}

/// UpdateAlias: `kms:UpdateAlias` on the alias, on the new key (which may not be pending
/// deletion) and on the key it points at now (in any state; reference §3 footnote [10]).
pub(crate) struct AliasChange {
    pub alias: AliasRecord,
    pub new: Arc<LoadedKey>,
    pub current: Option<Arc<LoadedKey>>,
}

impl Target for AliasChange {
    type Spec<'r> = AliasSpec<'r>;

    fn resources(&self) -> Vec<Arc<str>> {
        let mut r = vec![Arc::clone(&self.new.arn)];
        r.extend(self.current.as_ref().map(|k| Arc::clone(&k.arn)));
        r
    }

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: AliasSpec<'a>) -> Result<Authorized<Self>, KmsError> {
        let action = az.op()?.action();
        az.require_account(action.as_str(), &alias_arn(az, spec.name), spec.facts)
            .await?;
        let alias = stored_alias(az, spec.name).await?;
        let target = spec
            .target
            .ok_or_else(|| KmsError::internal("UpdateAlias without a target"))?;
        let new = az.key(target, action, spec.facts).await?;
        let current = az.load_key(&alias.target_key_id).await?;
        if let Some(c) = &current {
            az.require_key(c, action, spec.facts).await?;
        }
        Ok(Authorized::new(AliasChange { alias, new, current }))
    }
}

/// DeleteAlias: `kms:DeleteAlias` on the alias and on the key it points at (any state).
pub(crate) struct AliasRemoval {
    pub alias: AliasRecord,
}

impl Target for AliasRemoval {
    type Spec<'r> = AliasSpec<'r>;

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: AliasSpec<'a>) -> Result<Authorized<Self>, KmsError> {
        let action = az.op()?.action();
        az.require_account(action.as_str(), &alias_arn(az, spec.name), spec.facts)
            .await?;
        let alias = stored_alias(az, spec.name).await?;
        if let Some(k) = az.load_key(&alias.target_key_id).await? {
            az.require_key(&k, action, spec.facts).await?;
        }
        Ok(Authorized::new(AliasRemoval { alias }))
    }
}

/// CreateGrant: `kms:CreateGrant` on the key by policy, or through a grant of the caller's that
/// includes CreateGrant and covers the new grant (a subset of its operations, constraints at
/// least as strict).
pub(crate) struct GrantParent {
    pub key: Arc<LoadedKey>,
}

pub(crate) struct GrantSpec<'r> {
    pub key: &'r KeyRef,
    pub operations: &'r [GrantOperation],
    pub constraints: &'r Option<GrantConstraints>,
    pub facts: &'r dyn RequestFacts,
}

impl Target for GrantParent {
    type Spec<'r> = GrantSpec<'r>;

    fn resources(&self) -> Vec<Arc<str>> {
        vec![Arc::clone(&self.key.arn)]
    }

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: GrantSpec<'a>) -> Result<Authorized<Self>, KmsError> {
        let key = az.resolve(spec.key).await?;
        let (ops, constraints) = (spec.operations, spec.constraints);
        let covers = move |g: &Grant| g.covers_child(ops, constraints);
        let d = az
            .decide_key(&key, Action::CreateGrant, spec.facts, &covers, false)
            .await?;
        if let Err(why) = d.outcome {
            return Err(az.denied(Action::CreateGrant.as_str(), &key.arn, why));
        }
        crate::state::check(az.op()?, &key)?;
        Ok(Authorized::new(GrantParent { key }))
    }
}

/// RetireGrant: allowed for the grant's retiring principal, for its grantee when the grant
/// includes `RetireGrant`, and for the issuing account's root — never by policy alone
/// (reference §1.1). Works in every key state.
pub(crate) struct Retirable {
    pub grant: Grant,
}

pub(crate) struct RetireSpec<'r> {
    /// The grant token, when the grant is named by it.
    pub token: Option<&'r str>,
    /// The grant id member (already checked to be well-formed).
    pub grant_id: Option<&'r str>,
    pub key: Option<&'r KeyRef>,
}

fn may_retire(az: &Authorizer<'_>, g: &Grant) -> bool {
    let p = az.caller.principal();
    let is = |name: &str| name == p.arn || p.role_arn.as_deref() == Some(name);
    g.record.retiring_principal.as_deref().is_some_and(is)
        || (is(&g.record.grantee_principal) && g.includes(GrantOperation::RetireGrant))
        || (az.caller.is_root() && az.caller.account() == g.record.account_id)
}

impl Target for Retirable {
    type Spec<'r> = RetireSpec<'r>;

    async fn authorize<'a>(az: &'a Authorizer<'a>, spec: RetireSpec<'a>) -> Result<Authorized<Self>, KmsError> {
        let grant_id = match (spec.token, spec.grant_id) {
            (Some(t), _) => az.kms.grant_tokens.verify(t)?,
            (None, Some(id)) => id.to_owned(),
            (None, None) => return Err(KmsError::internal("RetireGrant without a grant")),
        };
        let requested = match spec.key {
            Some(r) => Some(az.resolve(r).await?),
            None => None,
        };
        let id = grant_id.clone();
        let record = az.kms.read(move |s| s.grant(&id)).await?;
        let not_found = || KmsError::NotFound(format!("Grant ID {grant_id} not found"));
        let record = record.ok_or_else(not_found)?;
        if requested.as_ref().is_some_and(|k| *k.id() != record.key_id) {
            return Err(not_found());
        }
        let grant = Grant::from_record(record);
        if !may_retire(az, &grant) {
            let arn = az.key_arn(grant.record.account_id, grant.record.key_id);
            return Err(az.denied(
                Action::RetireGrant.as_str(),
                &arn,
                super::decision::Denial::NoResourceAllow,
            ));
        }
        Ok(Authorized::new(Retirable { grant }))
    }
}

/// An IAM or STS action on an IAM resource (identity policies alone; the account root may do
/// everything). The resource is the entity's ARN, or `*`.
pub(crate) struct IamResource;

/// Authorizes an IAM or STS action on a resource.
pub(crate) async fn authorize_iam(
    az: &Authorizer<'_>,
    action: &str,
    resource: &str,
) -> Result<Authorized<IamResource>, KmsError> {
    az.require_account(action, resource, &super::facts::NoFacts).await?;
    Ok(Authorized::new(IamResource))
}

/// `sts:AssumeRole` was allowed by the role's trust policy.
pub(crate) struct TrustedRole;

/// Authorizes `sts:AssumeRole` on a role: its trust policy is a resource policy (naming the
/// caller directly, or its account — then the caller's identity policies must allow too).
pub(crate) async fn authorize_assume_role(
    az: &Authorizer<'_>,
    role_arn: &str,
    trust: &PolicyDocument,
) -> Result<Authorized<TrustedRole>, KmsError> {
    let identity = az.kms.identity_policies(az.caller.principal()).await?;
    let facts = az.facts(&super::facts::NoFacts, None);
    let no_grants = |_: &Grant| false;
    let d = decide(
        &Inputs {
            principal: az.caller.principal(),
            action: "sts:AssumeRole",
            resource: role_arn,
            resource_policy: Some((trust, PolicyKind::Trust)),
            identity: &identity,
            grants: &[],
            grant_allows: &no_grants,
            facts: &facts,
        },
        false,
    );
    match d.outcome {
        Ok(_) => Ok(Authorized::new(TrustedRole)),
        Err(_) => Err(KmsError::AccessDenied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            az.caller.arn()
        ))),
    }
}
