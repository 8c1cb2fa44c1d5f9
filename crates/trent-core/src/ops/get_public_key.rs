//! GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key with its spec, usage and
//! algorithm lists (reference §1). Symmetric and HMAC keys have no public key.

use trent_api::dto::{GetPublicKeyResponse, KeyIdRequest};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{spec, validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: KeyIdRequest) -> Result<GetPublicKeyResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::Any,
        Operation::GetPublicKey,
    )
    .await?;
    let Some(pair) = &key.asymmetric else {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} key spec {} is not valid for GetPublicKey.",
            key.arn, key.record.key_spec
        )));
    };
    let algs = spec::algorithms(&key.record.key_spec, &key.record.key_usage);
    Ok(GetPublicKeyResponse {
        key_id: key.arn.clone(),
        public_key: Blob(pair.public_key_der().to_vec()),
        customer_master_key_spec: key.record.key_spec.clone(),
        key_spec: key.record.key_spec.clone(),
        key_usage: key.record.key_usage.clone(),
        encryption_algorithms: algs.encryption,
        signing_algorithms: algs.signing,
        key_agreement_algorithms: algs.key_agreement,
    })
}
