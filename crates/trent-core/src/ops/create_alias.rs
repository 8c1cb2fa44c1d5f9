//! CreateAlias (reference §8): `alias/<name>` → a customer managed key of the same account;
//! unique per account, `alias/aws/` reserved, at most 50 aliases per key.

use trent_api::dto::{AliasRequest, Empty};
use trent_api::validate::{is_alias_charset, Violations};
use trent_api::{KmsError, Operation};
use trent_store::{AliasRecord, StoreError};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

/// Aliases per key (reference §12.1).
pub const MAX_ALIASES_PER_KEY: usize = 50;

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

/// The service rules after member validation (prefix, reservation, characters).
pub(crate) fn alias_name_rules(name: &str, creating: bool) -> Result<(), KmsError> {
    if !name.starts_with("alias/") {
        return Err(KmsError::Validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
                .to_owned(),
        ));
    }
    if creating && name.starts_with("alias/aws/") {
        return Err(KmsError::NotAuthorized(String::new()));
    }
    if name.contains(':') || name.len() == "alias/".len() {
        return Err(KmsError::InvalidAliasName(format!(
            "{name} contains invalid characters for an alias"
        )));
    }
    Ok(())
}

pub async fn run(kms: &Kms, caller: &Caller, req: AliasRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let name = alias_name_member(&mut v, &req.alias_name);
    let target = validate::key_id(&mut v, "targetKeyId", &req.target_key_id);
    v.finish()?;
    let name = name.unwrap_or_default().to_owned();
    alias_name_rules(&name, true)?;
    let alias_arn = kms.location().alias_arn(&caller.account_id, &name);
    kms.authorize_identity(caller, "kms:CreateAlias", &alias_arn).await?;
    let _guard = kms.write.lock().await;
    let key = super::key_for(
        kms,
        caller,
        target.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::CreateAlias,
    )
    .await?;
    if key.record.key_manager != "CUSTOMER" {
        return Err(KmsError::NotAuthorized(String::new()));
    }
    let (account, key_id) = (caller.account_id.clone(), key.id().to_owned());
    let existing = kms
        .db(move |s| s.list_aliases(&account, Some(&key_id), None, MAX_ALIASES_PER_KEY + 1))
        .await?;
    if existing.len() >= MAX_ALIASES_PER_KEY {
        return Err(KmsError::LimitExceeded(format!(
            "The maximum number of aliases for key {} ({MAX_ALIASES_PER_KEY}) has been reached.",
            key.arn
        )));
    }
    let now = kms.now_ms();
    let record = AliasRecord {
        account_id: caller.account_id.clone(),
        name: name.clone(),
        target_key_id: key.id().to_owned(),
        created_ms: now,
        updated_ms: now,
    };
    let r = record.clone();
    match kms
        .db(move |s| match s.create_alias(&r) {
            Err(StoreError::UniqueViolation) => Ok(false),
            other => other.map(|()| true),
        })
        .await?
    {
        true => {}
        false => {
            return Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                kms.location().alias_arn(&caller.account_id, &name)
            )))
        }
    }
    kms.set_alias_target(&caller.account_id, &name, Some(key.id()));
    Ok(Empty {})
}
