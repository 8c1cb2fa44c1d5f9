//! DeriveSharedSecret (reference §2.3): ECC CDH between a KEY_AGREEMENT key and the peer's DER
//! SubjectPublicKeyInfo; the raw shared secret, no KDF. An unusable peer key (unparsable, other
//! curve, not on the curve) is a `ValidationException` with no message (AWS-recorded).

use trent_api::dto::{DeriveSharedSecretRequest, DeriveSharedSecretResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation, SensitiveBlob};
use trent_policy::Values;
use trent_types::{KeyAgreementAlgorithm, KeyUsage};

use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::{Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct DeriveSharedSecret;

pub(crate) struct Req {
    key_id: String,
    key: KeyRef,
    algorithm: KeyAgreementAlgorithm,
    public_key: Blob,
    grant_tokens: Vec<String>,
    dry_run: bool,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:keyagreementalgorithm" => facts::one(self.algorithm.as_str()),
            _ => facts::request_alias(&self.key_id, key),
        }
    }
}

impl KmsOp for DeriveSharedSecret {
    const OP: Operation = Operation::DeriveSharedSecret;
    const TRACK_USAGE: bool = true;
    type Input = DeriveSharedSecretRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = DeriveSharedSecretResponse;

    fn validate(req: DeriveSharedSecretRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
        let algorithm = validate::required_enum(
            &mut v,
            "keyAgreementAlgorithm",
            &req.key_agreement_algorithm,
            KeyAgreementAlgorithm::NAMES,
            KeyAgreementAlgorithm::parse,
        );
        match &req.public_key {
            None => v.not_null("publicKey"),
            Some(p) => validate::blob_length(&mut v, "publicKey", p.0.len(), 1, 8192),
        }
        validate::grant_tokens(&mut v, &req.grant_tokens);
        v.finish()?;
        super::no_recipient(&req.recipient)?;
        let key = validate::key_ref(key_id, Forms::Any, checks.region)?;
        Ok(Req {
            key,
            key_id: req.key_id.unwrap_or_default(),
            algorithm: algorithm.ok_or_else(|| KmsError::internal("validated algorithm"))?,
            public_key: req.public_key.unwrap_or_default(),
            grant_tokens: req.grant_tokens.unwrap_or_default(),
            dry_run: req.dry_run == Some(true),
        })
    }

    fn grant_tokens(req: &Req) -> &[String] {
        &req.grant_tokens
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<DeriveSharedSecretResponse, KmsError> {
        let key = &cx.auth.key;
        super::require_usage(key, KeyUsage::KeyAgreement, Self::OP)?;
        super::finish_dry_run(req.dry_run)?;
        let secret = key
            .key_pair()?
            .agree(&req.public_key.0)
            .map_err(|_| KmsError::Validation(String::new()))?;
        Ok(DeriveSharedSecretResponse {
            key_id: key.arn.to_string(),
            shared_secret: SensitiveBlob::new(secret.into_zeroizing()),
            key_agreement_algorithm: KeyAgreementAlgorithm::Ecdh,
            key_origin: key.record.origin,
        })
    }
}
