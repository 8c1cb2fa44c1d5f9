//! Decode → operation → encode, for every operation Trent serves. The one place a request body is
//! parsed (serde failures are `SerializationException`) and a response is serialised. Operations
//! not built yet answer `UnsupportedOperationException`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::{ops, Kms};

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, KmsError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| KmsError::Serialization("Start of structure or map found where not expected.".to_owned()))?;
    if !value.is_object() {
        return Err(KmsError::Serialization(
            "Start of structure or map found where not expected.".to_owned(),
        ));
    }
    serde_json::from_value(value).map_err(|e| KmsError::Serialization(serialization_message(&e)))
}

/// serde's message names the member and the expected type; keep that, drop positions.
fn serialization_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, KmsError> {
    serde_json::to_vec(v).map_err(KmsError::internal)
}

macro_rules! call {
    ($kms:expr, $caller:expr, $body:expr, $module:ident) => {{
        let req = decode($body)?;
        encode(&ops::$module::run($kms, $caller, req).await?)
    }};
}

pub(crate) async fn dispatch(kms: &Kms, caller: &Caller, op: Operation, body: &[u8]) -> Result<Vec<u8>, KmsError> {
    use Operation as O;
    match op {
        O::CreateKey => call!(kms, caller, body, create_key),
        O::DescribeKey => call!(kms, caller, body, describe_key),
        O::ListKeys => call!(kms, caller, body, list_keys),
        O::UpdateKeyDescription => call!(kms, caller, body, update_key_description),
        O::EnableKey => call!(kms, caller, body, enable_key),
        O::DisableKey => call!(kms, caller, body, disable_key),
        O::ScheduleKeyDeletion => call!(kms, caller, body, schedule_key_deletion),
        O::CancelKeyDeletion => call!(kms, caller, body, cancel_key_deletion),
        O::Encrypt => call!(kms, caller, body, encrypt),
        O::Decrypt => call!(kms, caller, body, decrypt),
        O::ReEncrypt => call!(kms, caller, body, re_encrypt),
        O::GenerateDataKey => call!(kms, caller, body, generate_data_key),
        O::GenerateDataKeyWithoutPlaintext => call!(kms, caller, body, generate_data_key_without_plaintext),
        O::GenerateRandom => call!(kms, caller, body, generate_random),
        O::CreateAlias => call!(kms, caller, body, create_alias),
        O::UpdateAlias => call!(kms, caller, body, update_alias),
        O::DeleteAlias => call!(kms, caller, body, delete_alias),
        O::ListAliases => call!(kms, caller, body, list_aliases),
        O::TagResource => call!(kms, caller, body, tag_resource),
        O::UntagResource => call!(kms, caller, body, untag_resource),
        O::ListResourceTags => call!(kms, caller, body, list_resource_tags),
        O::GetKeyPolicy => call!(kms, caller, body, get_key_policy),
        O::PutKeyPolicy => call!(kms, caller, body, put_key_policy),
        O::ListKeyPolicies => call!(kms, caller, body, list_key_policies),
        O::Sign => call!(kms, caller, body, sign),
        O::Verify => call!(kms, caller, body, verify),
        O::GetPublicKey => call!(kms, caller, body, get_public_key),
        O::GenerateMac => call!(kms, caller, body, generate_mac),
        O::VerifyMac => call!(kms, caller, body, verify_mac),
        O::DeriveSharedSecret => call!(kms, caller, body, derive_shared_secret),
        O::GenerateDataKeyPair => call!(kms, caller, body, generate_data_key_pair),
        O::GenerateDataKeyPairWithoutPlaintext => call!(kms, caller, body, generate_data_key_pair_without_plaintext),
        O::ConnectCustomKeyStore
        | O::CreateCustomKeyStore
        | O::CreateGrant
        | O::DeleteCustomKeyStore
        | O::DeleteImportedKeyMaterial
        | O::DescribeCustomKeyStores
        | O::DisableKeyRotation
        | O::DisconnectCustomKeyStore
        | O::EnableKeyRotation
        | O::GetKeyLastUsage
        | O::GetKeyRotationStatus
        | O::GetParametersForImport
        | O::ImportKeyMaterial
        | O::ListGrants
        | O::ListKeyRotations
        | O::ListRetirableGrants
        | O::ReplicateKey
        | O::RetireGrant
        | O::RevokeGrant
        | O::RotateKeyOnDemand
        | O::UpdateCustomKeyStore
        | O::UpdatePrimaryRegion => Err(KmsError::UnsupportedOperation(format!(
            "{} is not supported by this server yet.",
            op.name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_rejects_non_objects_and_wrong_types() {
        assert!(decode::<trent_api::dto::ListRequest>(b"").is_ok());
        assert!(matches!(
            decode::<trent_api::dto::ListRequest>(b"[1]"),
            Err(KmsError::Serialization(_))
        ));
        assert!(matches!(
            decode::<trent_api::dto::ListRequest>(b"{\"Limit\":\"x\"}"),
            Err(KmsError::Serialization(_))
        ));
        assert!(matches!(
            decode::<trent_api::dto::ListRequest>(b"{"),
            Err(KmsError::Serialization(_))
        ));
    }
}
