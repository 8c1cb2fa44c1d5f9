//! Sign and Verify (reference §2.2–§2.3): RAW messages are hashed by Trent, DIGEST messages are
//! signed as given (never hashed again; length must match the algorithm: "Digest is invalid length
//! for algorithm …"), EXTERNAL_MU is the 64-byte μ of ML-DSA. Ed25519: ED25519_SHA_512 takes RAW,
//! ED25519_PH_SHA_512 takes DIGEST. A signature that does not verify is
//! `KMSInvalidSignatureException` with no message.

use trent_api::dto::{SignRequest, SignResponse, VerifyResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation, SensitiveBlob};
use trent_crypto::asymmetric::{MessageKind, SigningAlg};
use trent_policy::Values;
use trent_types::{KeyUsage, MessageType, SigningAlgorithm};

use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::{Forms, KeyRef};
use crate::keys::LoadedKey;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::{spec, validate};

pub(crate) struct Req {
    key_id: String,
    key: KeyRef,
    message: SensitiveBlob,
    message_type: MessageType,
    algorithm: SigningAlgorithm,
    signature: Blob,
    grant_tokens: Vec<String>,
    dry_run: bool,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:signingalgorithm" => facts::one(self.algorithm.as_str()),
            "kms:messagetype" => facts::one(self.message_type.as_str()),
            _ => facts::request_alias(&self.key_id, key),
        }
    }
}

fn validate_request(req: SignRequest, checks: &Checks<'_>, verify: bool) -> Result<Req, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.message {
        None => v.not_null("message"),
        Some(m) => v.length("message", None, m.len(), 1, 4096),
    }
    let message_type = validate::enum_member(
        &mut v,
        "messageType",
        &req.message_type,
        MessageType::NAMES,
        MessageType::parse,
    );
    let algorithm = validate::required_enum(
        &mut v,
        "signingAlgorithm",
        &req.signing_algorithm,
        SigningAlgorithm::NAMES,
        SigningAlgorithm::parse,
    );
    validate::grant_tokens(&mut v, &req.grant_tokens);
    if verify {
        match &req.signature {
            None => v.not_null("signature"),
            Some(s) => validate::blob_length(&mut v, "signature", s.0.len(), 1, 6144),
        }
    }
    v.finish()?;
    let key = validate::key_ref(key_id, Forms::Any, checks.region)?;
    Ok(Req {
        key,
        key_id: req.key_id.unwrap_or_default(),
        message: req.message.unwrap_or_default(),
        message_type: message_type.unwrap_or(MessageType::Raw),
        algorithm: algorithm.ok_or_else(|| KmsError::internal("validated signing algorithm"))?,
        signature: req.signature.unwrap_or_default(),
        grant_tokens: req.grant_tokens.unwrap_or_default(),
        dry_run: req.dry_run == Some(true),
    })
}

/// Checks the algorithm against the key and the message against the algorithm.
fn check_signing(key: &LoadedKey, req: &Req) -> Result<(SigningAlg, MessageKind), KmsError> {
    let name = req.algorithm;
    let listed = key.algorithms().signing.unwrap_or_default();
    let alg = match spec::signing_alg(name) {
        Some(a) if listed.contains(&name) => a,
        _ => return Err(super::asymmetric::incompatible(name.as_str(), key)),
    };
    let kind = spec::message_kind(req.message_type);
    if trent_crypto::fips::enabled() {
        if let Some(why) = trent_crypto::fips::refused_signing(name.as_str(), req.message_type.as_str()) {
            return Err(KmsError::UnsupportedOperation(format!(
                "SigningAlgorithm {name} with MessageType {} is not available in FIPS mode: {why}.",
                req.message_type
            )));
        }
    }
    let unsupported = || {
        KmsError::Validation(format!(
            "MessageType {} is not supported for signing algorithm {name}.",
            req.message_type
        ))
    };
    match (alg, kind) {
        (SigningAlg::Ed25519Sha512, MessageKind::Digest)
        | (SigningAlg::Ed25519PhSha512, MessageKind::Raw)
        | (SigningAlg::MlDsaShake256, MessageKind::Digest) => return Err(unsupported()),
        (SigningAlg::MlDsaShake256, _) | (_, MessageKind::Raw) => {}
        (_, MessageKind::ExternalMu) => return Err(unsupported()),
        (_, MessageKind::Digest) => {}
    }
    if kind != MessageKind::Raw && req.message.len() != alg.digest_len() {
        return Err(KmsError::Validation(format!(
            "Digest is invalid length for algorithm {name}."
        )));
    }
    Ok((alg, kind))
}

pub(crate) struct Sign;

impl KmsOp for Sign {
    const OP: Operation = Operation::Sign;
    const TRACK_USAGE: bool = true;
    type Input = SignRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = SignResponse;

    fn validate(req: SignRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        validate_request(req, checks, false)
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

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<SignResponse, KmsError> {
        let key = &cx.auth.key;
        super::require_usage(key, KeyUsage::SignVerify, Self::OP)?;
        let (alg, kind) = check_signing(key, &req)?;
        super::finish_dry_run(req.dry_run)?;
        let name = req.algorithm;
        let message = req.message;
        let signature = super::asymmetric::private_op(key, move |k| {
            k.sign(alg, kind, message.expose()).map_err(KmsError::internal)
        })
        .await?;
        Ok(SignResponse {
            key_id: key.arn.to_string(),
            signature: Blob(signature),
            signing_algorithm: name.as_str().to_owned(),
        })
    }
}

pub(crate) struct Verify;

impl KmsOp for Verify {
    const OP: Operation = Operation::Verify;
    const TRACK_USAGE: bool = true;
    type Input = SignRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = VerifyResponse;

    fn validate(req: SignRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        validate_request(req, checks, true)
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

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<VerifyResponse, KmsError> {
        let key = &cx.auth.key;
        super::require_usage(key, KeyUsage::SignVerify, Self::OP)?;
        let (alg, kind) = check_signing(key, &req)?;
        super::finish_dry_run(req.dry_run)?;
        let name = req.algorithm;
        let (message, signature) = (req.message, req.signature);
        let valid = super::asymmetric::private_op(key, move |k| {
            Ok(k.verify(alg, kind, message.expose(), &signature.0).unwrap_or(false))
        })
        .await?;
        if !valid {
            return Err(KmsError::InvalidSignatureValue);
        }
        Ok(VerifyResponse {
            key_id: key.arn.to_string(),
            signature_valid: true,
            signing_algorithm: name.as_str().to_owned(),
        })
    }
}
