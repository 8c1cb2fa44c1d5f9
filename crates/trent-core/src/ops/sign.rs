//! Sign (reference §2.2–§2.3): RAW messages are hashed by Trent, DIGEST messages are signed as
//! given (never hashed again; length must match the algorithm: "Digest is invalid length for
//! algorithm …"), EXTERNAL_MU is the 64-byte μ of ML-DSA. Ed25519: ED25519_SHA_512 takes RAW,
//! ED25519_PH_SHA_512 takes DIGEST.

use trent_api::dto::{SignRequest, SignResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};
use trent_crypto::asymmetric::{MessageKind, SigningAlg};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::keys::LoadedKey;
use crate::{spec, validate, Kms};

/// Member validation shared by Sign and Verify; returns (key id, algorithm name).
pub(crate) fn validate_request<'a>(v: &mut Violations, req: &'a SignRequest) -> (Option<&'a str>, Option<&'a str>) {
    let key_id = validate::key_id(v, "keyId", &req.key_id);
    match &req.message {
        None => v.not_null("message"),
        Some(m) => v.length("message", None, m.len(), 1, 4096),
    }
    if let Some(t) = &req.message_type {
        v.one_of("messageType", t, spec::MESSAGE_TYPES);
    }
    let alg = match &req.signing_algorithm {
        None => {
            v.not_null("signingAlgorithm");
            None
        }
        Some(a) => v
            .one_of("signingAlgorithm", a, spec::SIGNING_ALGORITHMS)
            .then_some(a.as_str()),
    };
    validate::grant_tokens(v, &req.grant_tokens);
    (key_id, alg)
}

/// Checks the algorithm against the key and the message against the algorithm.
pub(crate) fn check_signing(
    key: &LoadedKey,
    alg_name: &str,
    message_type: &Option<String>,
    message: &[u8],
) -> Result<(SigningAlg, MessageKind), KmsError> {
    let listed = spec::algorithms(&key.record.key_spec, &key.record.key_usage)
        .signing
        .unwrap_or_default();
    let alg = match spec::signing_alg(alg_name) {
        Some(a) if listed.iter().any(|l| l == alg_name) => a,
        _ => return Err(super::asymmetric::incompatible(alg_name, key)),
    };
    let type_name = message_type.as_deref().unwrap_or("RAW");
    let kind = spec::message_kind(type_name);
    let unsupported = || {
        KmsError::Validation(format!(
            "MessageType {type_name} is not supported for signing algorithm {alg_name}."
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
    if kind != MessageKind::Raw && message.len() != alg.digest_len() {
        return Err(KmsError::Validation(format!(
            "Digest is invalid length for algorithm {alg_name}."
        )));
    }
    Ok((alg, kind))
}

pub async fn run(kms: &Kms, caller: &Caller, req: SignRequest) -> Result<SignResponse, KmsError> {
    let mut v = Violations::new();
    let (key_id, alg_name) = validate_request(&mut v, &req);
    v.finish()?;
    let op = Operation::Sign;
    let key = super::key_for(kms, caller, key_id.unwrap_or_default(), Forms::Any, op).await?;
    super::require_usage(&key, "SIGN_VERIFY", op)?;
    let alg_name = alg_name.unwrap_or_default().to_owned();
    let message = req.message.unwrap_or_default();
    let (alg, kind) = check_signing(&key, &alg_name, &req.message_type, message.expose())?;
    super::finish_dry_run(req.dry_run)?;
    let signature = super::asymmetric::private_op(&key, move |k| {
        k.sign(alg, kind, message.expose()).map_err(KmsError::internal)
    })
    .await?;
    Ok(SignResponse {
        key_id: key.arn.clone(),
        signature: Blob(signature),
        signing_algorithm: alg_name,
    })
}
