//! GenerateDataKey (reference §4.4): a fresh data key (KeySpec AES_128/AES_256 or NumberOfBytes
//! 1–1024, exactly one), returned in plaintext and encrypted under a symmetric KMS key. Trent
//! never stores data keys.

use trent_api::dto::{GenerateDataKeyRequest, GenerateDataKeyResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation, SensitiveBlob};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{spec, validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: GenerateDataKeyRequest) -> Result<GenerateDataKeyResponse, KmsError> {
    generate(kms, caller, req, Operation::GenerateDataKey).await
}

/// Shared by GenerateDataKey and GenerateDataKeyWithoutPlaintext (which drops the plaintext).
pub(crate) async fn generate(
    kms: &Kms,
    caller: &Caller,
    req: GenerateDataKeyRequest,
    op: Operation,
) -> Result<GenerateDataKeyResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    if let Some(n) = req.number_of_bytes {
        v.range("numberOfBytes", n, 1, 1024);
    }
    if let Some(s) = &req.key_spec {
        v.one_of("keySpec", s, spec::DATA_KEY_SPECS);
    }
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    let len = match (req.number_of_bytes, req.key_spec.as_deref()) {
        (Some(n), None) => n as usize,
        (None, Some("AES_128")) => 16,
        (None, Some(_)) => 32,
        _ => {
            return Err(KmsError::Validation(
                "Please specify either number of bytes or key spec.".to_owned(),
            ))
        }
    };
    if req.recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Recipient (attested environments) is not supported by this server.".to_owned(),
        ));
    }
    let key = super::key_for(kms, caller, key_id.unwrap_or_default(), Forms::Any, op).await?;
    super::require_symmetric(&key, op)?;
    super::finish_dry_run(req.dry_run)?;
    let data_key = trent_crypto::random::secret(len).map_err(KmsError::internal)?;
    let (blob, material_id) = super::seal_symmetric(&key, &req.encryption_context, data_key.expose())?;
    Ok(GenerateDataKeyResponse {
        ciphertext_blob: Blob(blob),
        plaintext: Some(SensitiveBlob::new(data_key.into_zeroizing())),
        key_id: key.arn.clone(),
        key_material_id: material_id,
    })
}
