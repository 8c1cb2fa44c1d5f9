//! CreateAlias (reference §8): `alias/<name>` → a customer managed key of the same account;
//! unique per account, `alias/aws/` reserved, at most 50 aliases per key. Needs
//! `kms:CreateAlias` on the alias (identity policies) and on the key (key policy).

use trent_api::dto::{AliasRequest, Empty};
use trent_api::validate::{is_alias_charset, Violations};
use trent_api::{KmsError, Operation};
use trent_store::{AliasRecord, StoreError};
use trent_types::{AliasName, Arn};

use crate::authz::facts::RequestFacts;
use crate::authz::{AliasSpec, NewAlias};
use crate::ids::{Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

/// Aliases per key (reference §12.1).
pub(crate) const MAX_ALIASES_PER_KEY: usize = 50;

/// Member validation of `AliasName` (1–256, `^[a-zA-Z0-9:/_-]+$`).
pub(crate) fn alias_name_member<'a>(v: &mut Violations, value: &'a Option<String>) -> Option<&'a str> {
    match value {
        None => {
            v.not_null("aliasName");
            None
        }
        Some(n) => {
            let before = v.is_empty();
            v.str_length("aliasName", n, 1, 256);
            if !n.is_empty() && !is_alias_charset(n) {
                v.pattern("aliasName", n, "^[a-zA-Z0-9:/_-]+$");
            }
            (before == v.is_empty()).then_some(n.as_str())
        }
    }
}

/// The service rules after member validation (prefix, reservation, characters), in AWS's order;
/// `alias/aws/…` may never be created, updated or deleted by a caller (`NotAuthorizedException`).
pub(crate) fn alias_name_rules(name: &str) -> Result<AliasName, KmsError> {
    if !name.starts_with(AliasName::PREFIX) {
        return Err(KmsError::Validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
                .to_owned(),
        ));
    }
    if name.starts_with(AliasName::AWS_PREFIX) {
        return Err(KmsError::NotAuthorized(String::new()));
    }
    AliasName::parse(name)
        .ok_or_else(|| KmsError::InvalidAliasName(format!("{name} contains invalid characters for an alias")))
}

/// A validated alias request: the alias and (CreateAlias, UpdateAlias) its target key.
pub(crate) struct AliasReq {
    pub name: AliasName,
    pub target: Option<KeyRef>,
}

impl RequestFacts for AliasReq {}

impl AliasReq {
    pub fn spec(&self) -> AliasSpec<'_> {
        AliasSpec {
            name: &self.name,
            target: self.target.as_ref(),
            facts: self,
        }
    }
}

/// Validates `AliasName` and, when `with_target`, `TargetKeyId` (id or ARN).
pub(crate) fn validate_alias(req: &AliasRequest, checks: &Checks<'_>, with_target: bool) -> Result<AliasReq, KmsError> {
    let mut v = Violations::new();
    let name = alias_name_member(&mut v, &req.alias_name);
    let target = with_target
        .then(|| validate::key_id(&mut v, "targetKeyId", &req.target_key_id))
        .flatten();
    v.finish()?;
    let name = alias_name_rules(name.unwrap_or_default())?;
    let target = with_target
        .then(|| validate::key_ref(target, Forms::IdOrArn, checks.region))
        .transpose()?;
    Ok(AliasReq { name, target })
}

pub(crate) fn alias_arn(cx_region: &trent_types::Region, account: trent_types::AccountId, name: &AliasName) -> String {
    Arn::alias(cx_region, account, name)
}

pub(crate) struct CreateAlias;

impl KmsOp for CreateAlias {
    const OP: Operation = Operation::CreateAlias;
    const SERIAL: bool = true;
    type Input = AliasRequest;
    type Req = AliasReq;
    type Target = NewAlias;
    type Output = Empty;

    fn validate(req: AliasRequest, checks: &Checks<'_>) -> Result<AliasReq, KmsError> {
        validate_alias(&req, checks, true)
    }

    fn target(req: &AliasReq) -> AliasSpec<'_> {
        req.spec()
    }

    async fn run(cx: Ctx<'_, NewAlias>, req: AliasReq) -> Result<Empty, KmsError> {
        let key = &cx.auth.key;
        if !key.is_customer_managed() {
            return Err(KmsError::NotAuthorized(String::new()));
        }
        let account = cx.caller.account();
        let key_id = *key.id();
        let region = cx.region().clone();
        let at = region.clone();
        let existing = cx
            .kms
            .read(move |s| s.list_aliases(&account, &at, Some(&key_id), None, MAX_ALIASES_PER_KEY + 1))
            .await?;
        if existing.len() >= MAX_ALIASES_PER_KEY {
            return Err(KmsError::LimitExceeded(format!(
                "The maximum number of aliases for key {} ({MAX_ALIASES_PER_KEY}) has been reached.",
                key.arn
            )));
        }
        let now = cx.kms.now_ms();
        let record = AliasRecord {
            account_id: account,
            region: region.clone(),
            name: req.name.clone(),
            target_key_id: key_id,
            created_ms: now,
            updated_ms: now,
        };
        let created = match cx.kms.try_write(&cx.auth, move |s| s.create_alias(&record)).await? {
            Ok(()) => true,
            Err(StoreError::UniqueViolation) => false,
            Err(e) => return Err(KmsError::internal(e)),
        };
        if !created {
            return Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                alias_arn(&region, account, &req.name)
            )));
        }
        cx.kms.set_alias_target(account, &region, &req.name, Some(key_id));
        Ok(Empty {})
    }
}
