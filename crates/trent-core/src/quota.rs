//! Request quotas as AWS KMS applies them (reference §12.2; AWS KMS Developer Guide, "Request
//! quotas"): per account (and Region — a deployment serves one), a token bucket per quota, one
//! second of burst. The cryptographic operations share a quota by the kind of key they use —
//! symmetric and HMAC, RSA, ECC (and SM2), ML-DSA — and every other operation has its own. A
//! request over its quota is `ThrottlingException` (HTTP 400), which the AWS SDKs retry with
//! backoff. Off unless configured; `aws` gives AWS's documented defaults, and any quota can be set
//! by name. Cross-account requests count against the caller's account, as in AWS.

use std::collections::HashMap;
use std::sync::Mutex;

use trent_api::{KmsError, Operation};
use trent_types::{AccountId, KeySpec};

/// AWS's message for a throttled request.
const MESSAGE: &str = "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/// The shared cryptographic quotas, by name.
pub const SYMMETRIC: &str = "cryptographic-symmetric";
pub const RSA: &str = "cryptographic-rsa";
pub const ECC: &str = "cryptographic-ecc";
pub const ML_DSA: &str = "cryptographic-mldsa";

/// AWS's documented defaults (requests per second): the shared cryptographic quotas (the
/// symmetric one is the smallest Regions' 10,000) and the per-operation ones.
const AWS_DEFAULTS: &[(&str, f64)] = &[
    (SYMMETRIC, 10_000.0),
    (RSA, 1_000.0),
    (ECC, 1_000.0),
    (ML_DSA, 1_000.0),
    ("CancelKeyDeletion", 5.0),
    ("CreateAlias", 5.0),
    ("CreateGrant", 50.0),
    ("CreateKey", 5.0),
    ("DeleteAlias", 15.0),
    ("DeleteImportedKeyMaterial", 5.0),
    ("DescribeCustomKeyStores", 5.0),
    ("DescribeKey", 2_000.0),
    ("DisableKey", 5.0),
    ("DisableKeyRotation", 5.0),
    ("EnableKey", 5.0),
    ("EnableKeyRotation", 15.0),
    ("GenerateDataKeyPair", 25.0),
    ("GenerateDataKeyPairWithoutPlaintext", 25.0),
    ("GetKeyPolicy", 1_000.0),
    ("GetKeyRotationStatus", 1_000.0),
    ("GetParametersForImport", 0.25),
    ("GetPublicKey", 2_000.0),
    ("ImportKeyMaterial", 5.0),
    ("ListAliases", 500.0),
    ("ListGrants", 100.0),
    ("ListKeyPolicies", 100.0),
    ("ListKeys", 500.0),
    ("ListResourceTags", 2_000.0),
    ("ListRetirableGrants", 100.0),
    ("PutKeyPolicy", 15.0),
    ("RetireGrant", 30.0),
    ("RevokeGrant", 30.0),
    ("ScheduleKeyDeletion", 15.0),
    ("TagResource", 10.0),
    ("UntagResource", 5.0),
    ("UpdateAlias", 5.0),
    ("UpdateKeyDescription", 5.0),
];

/// Operations that count against the shared cryptographic quotas.
fn is_cryptographic(op: Operation) -> bool {
    use Operation as O;
    matches!(
        op,
        O::Encrypt
            | O::Decrypt
            | O::ReEncrypt
            | O::GenerateDataKey
            | O::GenerateDataKeyWithoutPlaintext
            | O::GenerateMac
            | O::VerifyMac
            | O::GenerateRandom
            | O::Sign
            | O::Verify
            | O::DeriveSharedSecret
    )
}

/// The quota a request counts against: the shared cryptographic quota of its key's kind, or its
/// operation's own.
pub(crate) fn class(op: Operation, spec: Option<KeySpec>) -> &'static str {
    if !is_cryptographic(op) {
        return op.name();
    }
    match spec {
        Some(KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096) => RSA,
        Some(KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87) => ML_DSA,
        Some(
            KeySpec::EccNistP256
            | KeySpec::EccNistP384
            | KeySpec::EccNistP521
            | KeySpec::EccSecgP256k1
            | KeySpec::EccNistEdwards25519
            | KeySpec::Sm2,
        ) => ECC,
        _ => SYMMETRIC,
    }
}

struct Bucket {
    tokens: f64,
    last_ms: i64,
}

/// Configured quotas and their buckets.
#[derive(Default)]
pub struct Quotas {
    limits: HashMap<String, f64>,
    buckets: Mutex<HashMap<(AccountId, &'static str), Bucket>>,
}

impl Quotas {
    /// No quota at all (then nothing is ever throttled).
    pub fn none() -> Quotas {
        Quotas::default()
    }

    /// AWS's documented defaults.
    pub fn aws_defaults() -> Quotas {
        let mut q = Quotas::default();
        for (name, rps) in AWS_DEFAULTS {
            q.limits.insert((*name).to_owned(), *rps);
        }
        q
    }

    /// Sets one quota from `NAME=RPS` (a shared cryptographic quota's name or an operation's).
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let (name, rps) = spec
            .split_once('=')
            .ok_or_else(|| format!("{spec}: expected NAME=REQUESTS_PER_SECOND"))?;
        let known = [SYMMETRIC, RSA, ECC, ML_DSA].contains(&name) || Operation::from_name(name).is_some();
        if !known {
            return Err(format!(
                "{name}: not a quota (one of {SYMMETRIC}, {RSA}, {ECC}, {ML_DSA}, or a KMS operation name)"
            ));
        }
        let rps: f64 = rps
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r > 0.0)
            .ok_or_else(|| format!("{spec}: the rate must be a positive number of requests per second"))?;
        self.limits.insert(name.to_owned(), rps);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    /// Takes one request from `account`'s bucket for `class`; `ThrottlingException` when empty.
    pub(crate) fn admit(&self, account: AccountId, class: &'static str, now_ms: i64) -> Result<(), KmsError> {
        let Some(&rps) = self.limits.get(class) else {
            return Ok(());
        };
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        // One second of burst (at least one request, for quotas under 1/s).
        let capacity = rps.max(1.0);
        let b = buckets.entry((account, class)).or_insert(Bucket {
            tokens: capacity,
            last_ms: now_ms,
        });
        let elapsed = (now_ms - b.last_ms).max(0) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed * rps).min(capacity);
        b.last_ms = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(KmsError::Throttling(MESSAGE.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_rate_with_one_second_of_burst() {
        let mut q = Quotas::none();
        q.set("cryptographic-symmetric=10").expect("set");
        let a = AccountId::parse("111122223333").expect("account");
        let b = AccountId::parse("444455556666").expect("account");
        for _ in 0..10 {
            q.admit(a, SYMMETRIC, 0).expect("within the burst");
        }
        assert!(matches!(q.admit(a, SYMMETRIC, 0), Err(KmsError::Throttling(_))));
        q.admit(b, SYMMETRIC, 0).expect("another account has its own");
        q.admit(a, RSA, 0).expect("another quota is not configured");
        q.admit(a, SYMMETRIC, 100).expect("a tenth of a second refills one");
        assert!(q.admit(a, SYMMETRIC, 100).is_err());
        assert!(q.set("Nope=1").is_err() && q.set("CreateKey=0").is_err() && q.set("CreateKey").is_err());
        assert_eq!(class(Operation::Sign, Some(KeySpec::Rsa2048)), RSA);
        assert_eq!(class(Operation::Encrypt, Some(KeySpec::SymmetricDefault)), SYMMETRIC);
        assert_eq!(class(Operation::GenerateMac, Some(KeySpec::Hmac256)), SYMMETRIC);
        assert_eq!(class(Operation::Verify, Some(KeySpec::MlDsa65)), ML_DSA);
        assert_eq!(class(Operation::CreateKey, None), "CreateKey");
    }
}
