//! Grants (reference §10): delegated, constrained, revocable permissions on one key.
//!
//! A grant lets its grantee (a principal ARN; for a role ARN, also the role's sessions) perform its
//! operations on its key when the request's encryption context satisfies its constraints (keys
//! compared case-insensitively, values case-sensitively). Grants are loaded with the key and
//! indexed by grantee, so the hot path looks them up in O(1); CreateGrant, RetireGrant and
//! RevokeGrant reload the key, so a retired or revoked grant stops authorizing at once.
//!
//! Grant tokens are `base64url(version ‖ grant id ‖ nonce ‖ HMAC-SHA-256)` under a key derived from
//! the root key: opaque, tamper-evident, different on every CreateGrant, all valid for their grant.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use trent_api::dto::GrantConstraints;
use trent_api::KmsError;
use trent_crypto::RootKey;
use trent_store::GrantRecord;

use crate::credentials::Caller;

/// `GrantOperation` values (reference §1.1), in model order.
pub const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
];

/// The grant operations a key of this spec and usage supports (no Sign on a symmetric key, no
/// GenerateDataKey on an asymmetric one).
pub fn operations_for(key_spec: &str, key_usage: &str) -> &'static [&'static str] {
    match (key_spec, key_usage) {
        ("SYMMETRIC_DEFAULT", _) => &[
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ],
        (_, "ENCRYPT_DECRYPT") => &[
            "Decrypt",
            "Encrypt",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GetPublicKey",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ],
        (_, "SIGN_VERIFY") => &[
            "Sign",
            "Verify",
            "GetPublicKey",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ],
        (_, "GENERATE_VERIFY_MAC") => &["GenerateMac", "VerifyMac", "CreateGrant", "RetireGrant", "DescribeKey"],
        (_, "KEY_AGREEMENT") => &[
            "DeriveSharedSecret",
            "GetPublicKey",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ],
        _ => &[],
    }
}

/// Operations whose requests carry no encryption context: constraints do not apply to them.
fn context_free(op: &str) -> bool {
    matches!(
        op,
        "DescribeKey"
            | "RetireGrant"
            | "CreateGrant"
            | "GetPublicKey"
            | "Sign"
            | "Verify"
            | "GenerateMac"
            | "VerifyMac"
            | "DeriveSharedSecret"
    )
}

fn lower_keys(m: &BTreeMap<String, String>) -> BTreeMap<String, &str> {
    m.iter().map(|(k, v)| (k.to_lowercase(), v.as_str())).collect()
}

/// A loaded grant.
#[derive(Debug, Clone)]
pub struct Grant {
    pub record: GrantRecord,
    pub operations: Vec<String>,
    pub constraints: Option<GrantConstraints>,
}

impl Grant {
    pub fn from_record(record: GrantRecord) -> Result<Grant, KmsError> {
        let operations: Vec<String> = serde_json::from_str(&record.operations).map_err(KmsError::internal)?;
        let constraints = match &record.constraints {
            Some(c) => Some(serde_json::from_str(c).map_err(KmsError::internal)?),
            None => None,
        };
        Ok(Grant {
            record,
            operations,
            constraints,
        })
    }

    /// Whether the request's encryption context satisfies the constraints (reference §10).
    pub fn context_matches(&self, op: &str, ec: &BTreeMap<String, String>) -> bool {
        let Some(c) = &self.constraints else { return true };
        if context_free(op) {
            return true;
        }
        let req = lower_keys(ec);
        if let Some(eq) = &c.encryption_context_equals {
            if lower_keys(eq) != req {
                return false;
            }
        }
        if let Some(sub) = &c.encryption_context_subset {
            if !lower_keys(sub).iter().all(|(k, v)| req.get(k) == Some(v)) {
                return false;
            }
        }
        true
    }

    pub fn allows(&self, op: &str, ec: &BTreeMap<String, String>) -> bool {
        self.operations.iter().any(|o| o == op) && self.context_matches(op, ec)
    }

    /// Whether `child` constraints are at least as strict as this grant's (child grants).
    pub fn constraints_cover(&self, child: &Option<GrantConstraints>) -> bool {
        let Some(parent) = &self.constraints else { return true };
        let Some(child) = child else { return false };
        if let Some(pe) = &parent.encryption_context_equals {
            return child
                .encryption_context_equals
                .as_ref()
                .is_some_and(|ce| lower_keys(ce) == lower_keys(pe));
        }
        if let Some(ps) = &parent.encryption_context_subset {
            let needed = lower_keys(ps);
            let has = |m: &BTreeMap<String, String>| {
                let m = lower_keys(m);
                needed.iter().all(|(k, v)| m.get(k) == Some(v))
            };
            return child.encryption_context_equals.as_ref().is_some_and(has)
                || child.encryption_context_subset.as_ref().is_some_and(has);
        }
        true
    }
}

/// A key's grants, indexed by grantee principal.
#[derive(Debug, Default)]
pub struct KeyGrants {
    pub all: Vec<Arc<Grant>>,
    by_grantee: HashMap<String, Vec<Arc<Grant>>>,
}

impl KeyGrants {
    pub fn new(records: Vec<GrantRecord>) -> Result<KeyGrants, KmsError> {
        let mut g = KeyGrants::default();
        for r in records {
            let grant = Arc::new(Grant::from_record(r)?);
            g.by_grantee
                .entry(grant.record.grantee_principal.clone())
                .or_default()
                .push(Arc::clone(&grant));
            g.all.push(grant);
        }
        Ok(g)
    }

    /// Grants whose grantee is the caller (its ARN, or the role of its session).
    pub fn for_caller<'a>(&'a self, caller: &'a Caller) -> impl Iterator<Item = &'a Arc<Grant>> + 'a {
        let direct = self.by_grantee.get(&caller.principal_arn).into_iter().flatten();
        let role = caller
            .principal
            .role_arn
            .as_ref()
            .and_then(|r| self.by_grantee.get(r))
            .into_iter()
            .flatten();
        direct.chain(role)
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

const TOKEN_VERSION: u8 = 1;

fn token_key(root: &RootKey) -> Result<aws_lc_rs::hmac::Key, KmsError> {
    let k = trent_crypto::symmetric::hkdf_sha256(root.expose(), b"trent", b"trent-grant-token-v1")
        .map_err(KmsError::internal)?;
    Ok(aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, k.expose()))
}

/// A new token for `grant_id` (64 hex digits).
pub fn issue_token(root: &RootKey, grant_id: &str) -> Result<String, KmsError> {
    let id = hex::decode(grant_id).map_err(KmsError::internal)?;
    let nonce = trent_crypto::random::array::<16>().map_err(KmsError::internal)?;
    let mut body = Vec::with_capacity(1 + id.len() + 16 + 32);
    body.push(TOKEN_VERSION);
    body.extend_from_slice(&id);
    body.extend_from_slice(&nonce);
    let tag = aws_lc_rs::hmac::sign(&token_key(root)?, &body);
    body.extend_from_slice(tag.as_ref());
    Ok(URL_SAFE_NO_PAD.encode(body))
}

/// The grant id a token names, if the token is genuine.
pub fn verify_token(root: &RootKey, token: &str) -> Result<String, KmsError> {
    let invalid = || KmsError::InvalidGrantToken("Invalid grant token.".to_owned());
    let raw = URL_SAFE_NO_PAD.decode(token.as_bytes()).map_err(|_| invalid())?;
    if raw.len() != 1 + 32 + 16 + 32 || raw[0] != TOKEN_VERSION {
        return Err(invalid());
    }
    let (body, tag) = raw.split_at(1 + 32 + 16);
    aws_lc_rs::hmac::verify(&token_key(root)?, body, tag).map_err(|_| invalid())?;
    Ok(hex::encode(&body[1..33]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(ops: &[&str], c: Option<GrantConstraints>) -> Grant {
        Grant {
            record: GrantRecord {
                grant_id: "0".repeat(64),
                key_id: "k".into(),
                account_id: "a".into(),
                name: None,
                grantee_principal: "p".into(),
                retiring_principal: None,
                operations: "[]".into(),
                constraints: None,
                created_ms: 0,
            },
            operations: ops.iter().map(|s| (*s).to_owned()).collect(),
            constraints: c,
        }
    }

    fn ec(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn constraints_match_keys_case_insensitively_and_values_exactly() {
        let subset = grant(
            &["Decrypt"],
            Some(GrantConstraints {
                encryption_context_subset: Some(ec(&[("Dept", "IT")])),
                ..Default::default()
            }),
        );
        assert!(subset.allows("Decrypt", &ec(&[("dept", "IT"), ("extra", "1")])));
        assert!(!subset.allows("Decrypt", &ec(&[("Dept", "it")])));
        assert!(!subset.allows("Encrypt", &ec(&[("Dept", "IT")])));
        let equals = grant(
            &["Decrypt", "DescribeKey"],
            Some(GrantConstraints {
                encryption_context_equals: Some(ec(&[("Dept", "IT")])),
                ..Default::default()
            }),
        );
        assert!(equals.allows("Decrypt", &ec(&[("DEPT", "IT")])));
        assert!(!equals.allows("Decrypt", &ec(&[("Dept", "IT"), ("x", "y")])));
        assert!(
            equals.allows("DescribeKey", &ec(&[])),
            "constraints do not apply to DescribeKey"
        );
    }

    #[test]
    fn child_constraints_must_be_at_least_as_strict() {
        let parent = grant(
            &["Decrypt", "CreateGrant"],
            Some(GrantConstraints {
                encryption_context_subset: Some(ec(&[("a", "1")])),
                ..Default::default()
            }),
        );
        assert!(parent.constraints_cover(&Some(GrantConstraints {
            encryption_context_subset: Some(ec(&[("a", "1"), ("b", "2")])),
            ..Default::default()
        })));
        assert!(parent.constraints_cover(&Some(GrantConstraints {
            encryption_context_equals: Some(ec(&[("A", "1")])),
            ..Default::default()
        })));
        assert!(!parent.constraints_cover(&None));
        assert!(!parent.constraints_cover(&Some(GrantConstraints {
            encryption_context_subset: Some(ec(&[("b", "2")])),
            ..Default::default()
        })));
        let eq = grant(
            &["Decrypt"],
            Some(GrantConstraints {
                encryption_context_equals: Some(ec(&[("a", "1")])),
                ..Default::default()
            }),
        );
        assert!(!eq.constraints_cover(&Some(GrantConstraints {
            encryption_context_subset: Some(ec(&[("a", "1")])),
            ..Default::default()
        })));
    }

    #[test]
    fn tokens_are_unique_and_tamper_evident() {
        let root = RootKey::generate().expect("rng");
        let id = "ab".repeat(32);
        let t1 = issue_token(&root, &id).expect("token");
        let t2 = issue_token(&root, &id).expect("token");
        assert_ne!(t1, t2);
        assert_eq!(verify_token(&root, &t1).expect("valid"), id);
        assert_eq!(verify_token(&root, &t2).expect("valid"), id);
        let mut bad = t1.clone().into_bytes();
        bad[10] = if bad[10] == b'A' { b'B' } else { b'A' };
        assert!(verify_token(&root, &String::from_utf8(bad).expect("utf8")).is_err());
        assert!(verify_token(&RootKey::generate().expect("rng"), &t1).is_err());
        assert!(verify_token(&root, "garbage").is_err());
    }
}
