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

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use trent_api::dto::GrantConstraints;
use trent_api::KmsError;
use trent_crypto::RootKey;
use trent_policy::Principal;
use trent_store::GrantRecord;
use trent_types::{EncryptionContext, GrantOperation};

/// A loaded grant.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub record: GrantRecord,
    /// Constraints with lower-cased context keys (constraints compare keys case-insensitively).
    pub constraints: Option<GrantConstraints>,
}

/// `GrantConstraints` as stored: JSON of the wire shape (absent when there are none).
pub(crate) fn parse_constraints(record: &GrantRecord) -> Option<GrantConstraints> {
    record.constraints.as_deref().and_then(|c| serde_json::from_str(c).ok())
}

fn lower(m: &std::collections::BTreeMap<String, String>) -> std::collections::BTreeMap<String, &str> {
    m.iter().map(|(k, v)| (k.to_lowercase(), v.as_str())).collect()
}

impl Grant {
    pub fn from_record(record: GrantRecord) -> Grant {
        let constraints = parse_constraints(&record);
        Grant { record, constraints }
    }

    pub fn operations(&self) -> &[GrantOperation] {
        &self.record.operations
    }

    pub fn includes(&self, op: GrantOperation) -> bool {
        self.record.operations.contains(&op)
    }

    /// Whether the request's encryption context satisfies the constraints (reference §10).
    pub fn context_matches(&self, op: GrantOperation, ec: Option<&EncryptionContext>) -> bool {
        let Some(c) = &self.constraints else { return true };
        if op.is_context_free() {
            return true;
        }
        let empty = EncryptionContext::new();
        let req = ec.unwrap_or(&empty).lowercase_keys();
        if let Some(eq) = &c.encryption_context_equals {
            if lower(eq) != req {
                return false;
            }
        }
        if let Some(sub) = &c.encryption_context_subset {
            if !lower(sub).iter().all(|(k, v)| req.get(k) == Some(v)) {
                return false;
            }
        }
        true
    }

    /// Whether the grant allows `op` with this encryption context.
    pub fn allows(&self, op: GrantOperation, ec: Option<&EncryptionContext>) -> bool {
        self.includes(op) && self.context_matches(op, ec)
    }

    /// Whether `child` constraints are at least as strict as this grant's (child grants).
    pub fn constraints_cover(&self, child: &Option<GrantConstraints>) -> bool {
        let Some(parent) = &self.constraints else { return true };
        let Some(child) = child else { return false };
        if let Some(pe) = &parent.encryption_context_equals {
            return child
                .encryption_context_equals
                .as_ref()
                .is_some_and(|ce| lower(ce) == lower(pe));
        }
        if let Some(ps) = &parent.encryption_context_subset {
            let needed = lower(ps);
            let has = |m: &std::collections::BTreeMap<String, String>| {
                let m = lower(m);
                needed.iter().all(|(k, v)| m.get(k) == Some(v))
            };
            return child.encryption_context_equals.as_ref().is_some_and(has)
                || child.encryption_context_subset.as_ref().is_some_and(has);
        }
        true
    }

    /// Whether this grant, held by the caller, lets it create `child` (a subset of its
    /// operations, constraints at least as strict).
    pub fn covers_child(&self, operations: &[GrantOperation], constraints: &Option<GrantConstraints>) -> bool {
        self.includes(GrantOperation::CreateGrant)
            && operations.iter().all(|o| self.includes(*o))
            && self.constraints_cover(constraints)
    }
}

/// A key's grants, indexed by grantee principal.
#[derive(Debug, Default)]
pub(crate) struct KeyGrants {
    pub all: Vec<Arc<Grant>>,
    by_grantee: HashMap<String, Vec<Arc<Grant>>>,
}

impl KeyGrants {
    pub fn new(records: Vec<GrantRecord>) -> KeyGrants {
        let mut g = KeyGrants::default();
        for r in records {
            let grant = Arc::new(Grant::from_record(r));
            g.by_grantee
                .entry(grant.record.grantee_principal.clone())
                .or_default()
                .push(Arc::clone(&grant));
            g.all.push(grant);
        }
        g
    }

    /// Grants whose grantee is the principal (its ARN, or the role of its session).
    pub fn for_principal<'a>(&'a self, p: &'a Principal) -> impl Iterator<Item = &'a Arc<Grant>> + 'a {
        let direct = self.by_grantee.get(&p.arn).into_iter().flatten();
        let role = p
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
}

const TOKEN_VERSION: u8 = 1;
const TOKEN_LEN: usize = 1 + 32 + 16 + 32;

/// The HMAC key of grant tokens, derived from the root key once.
pub(crate) struct TokenKey(aws_lc_rs::hmac::Key);

impl TokenKey {
    pub fn derive(root: &RootKey) -> Result<TokenKey, KmsError> {
        let k = trent_crypto::symmetric::hkdf_sha256(root.expose(), b"trent", b"trent-grant-token-v1")
            .map_err(KmsError::internal)?;
        Ok(TokenKey(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            k.expose(),
        )))
    }

    /// A new token for `grant_id` (64 hex digits).
    pub fn issue(&self, grant_id: &str) -> Result<String, KmsError> {
        let id = hex::decode(grant_id).map_err(KmsError::internal)?;
        let nonce = trent_crypto::random::array::<16>().map_err(KmsError::internal)?;
        let mut body = Vec::with_capacity(TOKEN_LEN);
        body.push(TOKEN_VERSION);
        body.extend_from_slice(&id);
        body.extend_from_slice(&nonce);
        let tag = aws_lc_rs::hmac::sign(&self.0, &body);
        body.extend_from_slice(tag.as_ref());
        Ok(URL_SAFE_NO_PAD.encode(body))
    }

    /// The grant id a token names, if the token is genuine.
    pub fn verify(&self, token: &str) -> Result<String, KmsError> {
        let invalid = || KmsError::InvalidGrantToken("Invalid grant token.".to_owned());
        let raw = URL_SAFE_NO_PAD.decode(token.as_bytes()).map_err(|_| invalid())?;
        if raw.len() != TOKEN_LEN || raw.first() != Some(&TOKEN_VERSION) {
            return Err(invalid());
        }
        let (body, tag) = raw.split_at(TOKEN_LEN - 32);
        aws_lc_rs::hmac::verify(&self.0, body, tag).map_err(|_| invalid())?;
        let id = body.get(1..33).ok_or_else(invalid)?;
        Ok(hex::encode(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_tampering_is_detected() {
        let key = TokenKey::derive(&RootKey::from_bytes([3; 32])).expect("key");
        let id = "ab".repeat(32);
        let t = key.issue(&id).expect("issue");
        assert_eq!(key.verify(&t).expect("valid"), id);
        assert_ne!(key.issue(&id).expect("again"), t, "every token is new");
        let mut bad = t.into_bytes();
        if let Some(b) = bad.get_mut(10) {
            *b = if *b == b'A' { b'B' } else { b'A' };
        }
        let bad = String::from_utf8(bad).expect("ascii");
        assert!(key.verify(&bad).is_err());
        assert!(key.verify("").is_err());
        assert!(key.verify("日本語キー").is_err());
        let other = TokenKey::derive(&RootKey::from_bytes([4; 32])).expect("key");
        assert!(other.verify(&key.issue(&id).expect("issue")).is_err());
    }

    #[test]
    fn constraints_compare_keys_ignoring_case() {
        let mut record = GrantRecord {
            grant_id: "g".into(),
            key_id: trent_types::KeyId::parse("1234abcd-12ab-34cd-56ef-1234567890ab").expect("id"),
            region: trent_types::Region::parse("us-east-1").expect("region"),
            account_id: trent_types::AccountId::parse("111122223333").expect("acct"),
            name: None,
            grantee_principal: "p".into(),
            retiring_principal: None,
            operations: vec![GrantOperation::Decrypt],
            constraints: Some(r#"{"EncryptionContextSubset":{"Dept":"IT"}}"#.into()),
            created_ms: 0,
        };
        let g = Grant::from_record(record.clone());
        let ec: EncryptionContext = [("dept".to_owned(), "IT".to_owned())].into_iter().collect();
        assert!(g.allows(GrantOperation::Decrypt, Some(&ec)));
        let wrong: EncryptionContext = [("dept".to_owned(), "it".to_owned())].into_iter().collect();
        assert!(!g.allows(GrantOperation::Decrypt, Some(&wrong)));
        assert!(!g.allows(GrantOperation::Encrypt, Some(&ec)));
        record.constraints = None;
        assert!(Grant::from_record(record).allows(GrantOperation::Decrypt, None));
    }
}
