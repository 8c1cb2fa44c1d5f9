//! Key policies as stored and returned: the default policy text AWS attaches to API-created keys
//! (reference §9.2, byte for byte), and the checks PutKeyPolicy/CreateKey apply to a new policy
//! (pattern, 32 KB quota, grammar). Enforcement arrives with the identities-and-policies issue.

use trent_api::validate::Violations;
use trent_api::KmsError;

/// The key policy quota: 32,768 bytes (reference §9.1).
pub const MAX_POLICY_BYTES: usize = 32 * 1024;

/// The default key policy, exactly as GetKeyPolicy returns it from AWS.
pub fn default_policy(account_id: &str) -> String {
    format!(
        "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{account_id}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}"
    )
}

/// `PolicyType` constraints (1–131072 characters of `[\u0009\u000A\u000D\u0020-\u00FF]+`).
pub fn validate_member(v: &mut Violations, policy: &str) {
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
pub fn check_document(policy: &str) -> Result<(), KmsError> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(KmsError::LimitExceeded(format!(
            "Policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes."
        )));
    }
    trent_policy::parse(policy)
        .map(|_| ())
        .map_err(|e| KmsError::MalformedPolicyDocument(e.0))
}

/// `PolicyName`: only `default` exists (reference §9.1).
pub fn check_policy_name(v: &mut Violations, name: &Option<String>) -> Result<(), KmsError> {
    if let Some(n) = name {
        v.str_length("policyName", n, 1, 128);
        if !n.is_empty() && !n.chars().all(|c| c.is_alphanumeric() || c == '_') {
            v.pattern("policyName", n, "[\\w]+");
        }
    }
    Ok(())
}

pub fn policy_name_not_found(name: &str) -> KmsError {
    KmsError::NotFound(format!("No such policy exists: {name}"))
}

/// The checks CreateKey and PutKeyPolicy apply to a new key policy, in AWS's order: quota and
/// grammar, the ForAllValues/EncryptionContext trap, principals that exist, and — unless
/// `BypassPolicyLockoutSafetyCheck` — the lockout safety check: the caller must still be allowed
/// `kms:PutKeyPolicy` under the new policy.
pub(crate) async fn check_key_policy(
    kms: &crate::Kms,
    caller: &crate::Caller,
    key: crate::authz::KeyFacts<'_>,
    text: &str,
    bypass: bool,
) -> Result<(), KmsError> {
    check_document(text)?;
    let doc = trent_policy::parse(text).map_err(|e| KmsError::MalformedPolicyDocument(e.0))?;
    for st in &doc.statements {
        for (op, keys) in &st.condition {
            if op.to_ascii_lowercase().starts_with("forallvalues:")
                && keys
                    .keys()
                    .any(|k| k.to_ascii_lowercase().starts_with("kms:encryptioncontext:"))
            {
                return Err(KmsError::MalformedPolicyDocument(
                    "OverlyPermissiveCondition:EncryptionContext: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified encryption context or with an unspecified encryption context. To fix, remove ForAllValues.".to_owned(),
                ));
            }
        }
    }
    kms.check_principals_exist(&doc).await?;
    if !bypass {
        let e = kms.evaluate_key(caller, "kms:PutKeyPolicy", key, &doc).await?;
        if !e.allowed {
            return Err(KmsError::MalformedPolicyDocument(
                "The new key policy will not allow you to update the key policy in the future.".to_owned(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid_and_exact() {
        let p = default_policy("111122223333");
        assert!(check_document(&p).is_ok());
        assert!(p.contains("\"AWS\" : \"arn:aws:iam::111122223333:root\""));
        assert!(p.starts_with("{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\","));
    }

    #[test]
    fn oversized_policy_is_limit_exceeded() {
        let big = format!(
            "{{\"Statement\":{{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Sid\":\"{}\"}}}}",
            "x".repeat(MAX_POLICY_BYTES)
        );
        assert!(matches!(check_document(&big), Err(KmsError::LimitExceeded(_))));
    }
}
