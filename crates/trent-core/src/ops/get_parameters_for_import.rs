//! GetParametersForImport (reference §7): a fresh RSA wrapping key pair and an import token valid
//! for 24 hours, for keys with `Origin=EXTERNAL`. The token carries the wrapping private key
//! sealed under the root key and bound to this key's ARN; nothing is stored.

use trent_api::dto::{GetParametersForImportRequest, GetParametersForImportResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};
use trent_crypto::import::{self, WrappingAlg};

use crate::clock::{epoch_seconds, DAY_MS};
use crate::credentials::Caller;
use crate::ids::Forms;
use crate::keys::LoadedKey;
use crate::{validate, Kms};

pub const WRAPPING_ALGORITHMS: &[&str] = &[
    "RSAES_PKCS1_V1_5",
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1",
    "RSA_AES_KEY_WRAP_SHA_256",
    "SM2PKE",
];
pub const WRAPPING_KEY_SPECS: &[&str] = &["RSA_2048", "RSA_3072", "RSA_4096", "SM2"];

/// `UnsupportedOperationException: <arn> origin is AWS_KMS which is not valid for this operation.`
pub(crate) fn require_external(key: &LoadedKey) -> Result<(), KmsError> {
    if key.record.origin == "EXTERNAL" {
        return Ok(());
    }
    Err(KmsError::UnsupportedOperation(format!(
        "{} origin is {} which is not valid for this operation.",
        key.arn, key.record.origin
    )))
}

/// Key states in which import operations are refused (reference §3 footnotes 8–9).
pub(crate) fn require_importable_state(key: &LoadedKey) -> Result<(), KmsError> {
    match key.record.key_state.as_str() {
        "PendingDeletion" | "PendingReplicaDeletion" => {
            Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn)))
        }
        _ => Ok(()),
    }
}

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    req: GetParametersForImportRequest,
) -> Result<GetParametersForImportResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.wrapping_algorithm {
        None => v.not_null("wrappingAlgorithm"),
        Some(a) => {
            v.one_of("wrappingAlgorithm", a, WRAPPING_ALGORITHMS);
        }
    }
    match &req.wrapping_key_spec {
        None => v.not_null("wrappingKeySpec"),
        Some(s) => {
            v.one_of("wrappingKeySpec", s, WRAPPING_KEY_SPECS);
        }
    }
    v.finish()?;
    let op = Operation::GetParametersForImport;
    let key = kms.resolve(caller, key_id.unwrap_or_default(), Forms::IdOrArn).await?;
    super::authorize(kms, caller, op, &key).await?;
    require_external(&key)?;
    require_importable_state(&key)?;
    let alg = match req.wrapping_algorithm.as_deref().unwrap_or_default() {
        "RSAES_OAEP_SHA_1" => WrappingAlg::OaepSha1,
        "RSAES_OAEP_SHA_256" => WrappingAlg::OaepSha256,
        "RSA_AES_KEY_WRAP_SHA_1" => WrappingAlg::RsaAesKeyWrapSha1,
        "RSA_AES_KEY_WRAP_SHA_256" => WrappingAlg::RsaAesKeyWrapSha256,
        other => {
            return Err(KmsError::UnsupportedOperation(format!(
                "Wrapping algorithm {other} is not supported in this Region."
            )))
        }
    };
    let bits = match req.wrapping_key_spec.as_deref().unwrap_or_default() {
        "RSA_2048" => 2048,
        "RSA_3072" => 3072,
        "RSA_4096" => 4096,
        other => {
            return Err(KmsError::UnsupportedOperation(format!(
                "Wrapping key spec {other} is not supported in this Region."
            )))
        }
    };
    let expires = kms.now_ms() + DAY_MS;
    let root = kms.root_copy();
    let arn = key.arn.clone();
    let params = tokio::task::spawn_blocking(move || import::parameters(&root, &arn, alg, bits, expires))
        .await
        .map_err(KmsError::internal)?
        .map_err(KmsError::internal)?;
    Ok(GetParametersForImportResponse {
        key_id: key.arn.clone(),
        import_token: Blob(params.token),
        public_key: Blob(params.public_key_der),
        parameters_valid_to: epoch_seconds(expires),
    })
}
