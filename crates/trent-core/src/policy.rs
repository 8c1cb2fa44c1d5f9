//! Key policies as stored and returned: the default policy text AWS attaches to API-created keys
//! (reference §9.2, byte for byte), and the checks CreateKey and PutKeyPolicy apply to a new
//! policy, in AWS's order: characters, the 32 KB quota, grammar, the ForAllValues/EncryptionContext
//! trap, principals that exist, and the lockout safety check.

use trent_api::validate::Violations;
use trent_api::{Action, KmsError};
use trent_policy::{PolicyDocument, PrincipalElement, SetQualifier};
use trent_store::EntityKind;
use trent_types::{AccountId, Arn};

use crate::authz::facts::{KeyView, RequestFacts};
use crate::authz::Authorizer;

/// The key policy quota: 32,768 bytes (reference §9.1).
pub(crate) const MAX_POLICY_BYTES: usize = 32 * 1024;

/// The default key policy, exactly as GetKeyPolicy returns it from AWS.
pub(crate) fn default_policy(account_id: AccountId) -> String {
    format!(
        "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{account_id}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}"
    )
}

/// `PolicyType` constraints (1–131072 characters of `[\u0009\u000A\u000D\u0020-\u00FF]+`).
pub(crate) fn validate_member(v: &mut Violations, policy: &str) {
    let len = policy.chars().count();
    if len == 0 || len > 131_072 {
        v.str_length("policy", policy, 1, 131_072);
    } else if !policy
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        v.pattern("policy", policy, "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");
    }
}

/// The service checks after member validation: quota, then grammar.
pub(crate) fn parse_document(policy: &str) -> Result<PolicyDocument, KmsError> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(KmsError::LimitExceeded(format!(
            "Policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes."
        )));
    }
    trent_policy::parse(policy).map_err(|e| KmsError::MalformedPolicyDocument(e.0))
}

/// `PolicyName`: only `default` exists (reference §9.1).
pub(crate) fn check_policy_name(v: &mut Violations, name: &Option<String>) {
    if let Some(n) = name {
        v.str_length("policyName", n, 1, 128);
        if !n.is_empty() && !n.chars().all(|c| c.is_alphanumeric() || c == '_') {
            v.pattern("policyName", n, "[\\w]+");
        }
    }
}

pub(crate) fn policy_name_not_found(name: &str) -> KmsError {
    KmsError::NotFound(format!("No such policy exists: {name}"))
}

/// Every AWS principal a key policy names must exist (reference §9.1): `*`, an existing account
/// (id or root ARN), or an existing user, role or role session.
async fn check_principals_exist(az: &Authorizer<'_>, doc: &PolicyDocument) -> Result<(), KmsError> {
    let mut names = Vec::new();
    for st in &doc.statements {
        for p in [&st.principal, &st.not_principal].into_iter().flatten() {
            if let PrincipalElement::Typed(map) = p {
                if let Some(list) = map.get("AWS") {
                    names.extend(list.0.iter().cloned());
                }
            }
        }
    }
    let missing = az
        .kms
        .read(move |s| {
            let accounts: Vec<AccountId> = s.accounts()?.into_iter().map(|a| a.account_id).collect();
            for n in &names {
                if n == "*" {
                    continue;
                }
                if let Some(a) = AccountId::parse(n) {
                    if !accounts.contains(&a) {
                        return Ok(true);
                    }
                    continue;
                }
                let Ok(arn) = Arn::parse(n) else { return Ok(true) };
                if !accounts.contains(&arn.account()) {
                    return Ok(true);
                }
                let exists = match &arn {
                    Arn::Root { .. } => true,
                    Arn::User { account, name, .. } => s.entity(account, EntityKind::User, name)?.is_some(),
                    Arn::Role { account, name, .. } => s.entity(account, EntityKind::Role, name)?.is_some(),
                    Arn::AssumedRole { account, role, .. } => s.entity(account, EntityKind::Role, role)?.is_some(),
                    // A group is not a principal (IAM: groups cannot be named in a policy's Principal).
                    Arn::Key { .. } | Arn::Alias { .. } | Arn::Policy { .. } | Arn::Group { .. } => false,
                };
                if !exists {
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .await?;
    if missing {
        return Err(KmsError::MalformedPolicyDocument(
            "Policy contains a statement with one or more invalid principals.".to_owned(),
        ));
    }
    Ok(())
}

/// The checks CreateKey and PutKeyPolicy apply to a new key policy (see the module docs).
/// `BypassPolicyLockoutSafetyCheck` skips the last: the caller must still be allowed
/// `kms:PutKeyPolicy` under the new policy.
pub(crate) async fn check_key_policy(
    az: &Authorizer<'_>,
    key: KeyView<'_>,
    arn: &str,
    text: &str,
    bypass: bool,
    request: &dyn RequestFacts,
) -> Result<(), KmsError> {
    let doc = parse_document(text)?;
    let trap = doc
        .statements
        .iter()
        .flat_map(|st| st.conditions.iter())
        .any(|c| c.operator.set == SetQualifier::AllValues && c.key_lower.starts_with("kms:encryptioncontext:"));
    if trap {
        return Err(KmsError::MalformedPolicyDocument(
            "OverlyPermissiveCondition:EncryptionContext: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified encryption context or with an unspecified encryption context. To fix, remove ForAllValues.".to_owned(),
        ));
    }
    check_principals_exist(az, &doc).await?;
    if !bypass && !az.would_allow(&doc, key, arn, Action::PutKeyPolicy, request).await? {
        return Err(KmsError::MalformedPolicyDocument(
            "The new key policy will not allow you to update the key policy in the future.".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid_and_exact() {
        let p = default_policy(AccountId::parse("111122223333").expect("acct"));
        assert!(parse_document(&p).is_ok());
        assert!(p.contains("\"AWS\" : \"arn:aws:iam::111122223333:root\""));
        assert!(p.starts_with("{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\","));
    }

    #[test]
    fn oversized_policy_is_limit_exceeded() {
        let big = format!(
            "{{\"Statement\":{{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Sid\":\"{}\"}}}}",
            "x".repeat(MAX_POLICY_BYTES)
        );
        assert!(matches!(parse_document(&big), Err(KmsError::LimitExceeded(_))));
    }
}
