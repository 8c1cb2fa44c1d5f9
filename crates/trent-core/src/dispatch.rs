//! Decode → operation → encode, for every operation Trent serves. The one place a request body is
//! parsed (serde failures are `SerializationException`) and a response is serialised. Operations
//! not built yet answer `UnsupportedOperationException`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::{ops, Kms};

/// Parses the body as one JSON object (an empty body is `{}`).
fn parse_body(body: &[u8]) -> Result<serde_json::Value, KmsError> {
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
    Ok(value)
}

fn decode<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, KmsError> {
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

/// Like `call!`, and records the successful use of the keys `$keys` names (GetKeyLastUsage).
macro_rules! tracked {
    ($kms:expr, $caller:expr, $body:expr, $request_id:expr, $op:expr, $module:ident, |$r:ident| $keys:expr) => {{
        let req = decode($body)?;
        let $r = ops::$module::run($kms, $caller, req).await?;
        $kms.note_usage($op, &$keys, $request_id);
        encode(&$r)
    }};
}

macro_rules! call {
    ($kms:expr, $caller:expr, $body:expr, $module:ident) => {{
        let req = decode($body)?;
        encode(&ops::$module::run($kms, $caller, req).await?)
    }};
}

/// Runs one KMS request and records it in the audit trail, whatever its outcome.
pub(crate) async fn dispatch(
    kms: &Kms,
    caller: &Caller,
    op: Operation,
    body: &[u8],
    meta: &crate::RequestMeta,
) -> Result<Vec<u8>, KmsError> {
    let mut parameters = serde_json::Map::new();
    let result = run(kms, caller, op, body, meta, &mut parameters).await;
    kms.audit_kms(caller, op, meta, parameters, &result);
    result
}

async fn run(
    kms: &Kms,
    caller: &Caller,
    op: Operation,
    body: &[u8],
    meta: &crate::RequestMeta,
    parameters: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<u8>, KmsError> {
    let body = parse_body(body)?;
    *parameters = crate::audit::kms_parameters(&body);
    let (context, destination_context) = crate::facts::from_body(op, &body);
    let (encryption_context, destination_encryption_context) = crate::facts::encryption_contexts(op, &body);
    check_grant_tokens(kms, &body)?;
    let caller = &caller.with_request(crate::credentials::RequestInfo {
        request_id: meta.request_id.clone(),
        source_ip: meta.source_ip.clone(),
        context,
        destination_context,
        encryption_context,
        destination_encryption_context,
        authorized: Default::default(),
    });
    let request_id = meta.request_id.as_str();
    let out = route(kms, caller, op, body, request_id).await?;
    // No operation may succeed without an authorization decision (defence in depth).
    if !caller.request.authorized.load(std::sync::atomic::Ordering::Relaxed) {
        tracing::error!(
            operation = op.name(),
            "operation completed without an authorization decision"
        );
        return Err(KmsError::internal(format!("{} skipped authorization", op.name())));
    }
    Ok(out)
}

/// Every grant token a request carries must be genuine (`InvalidGrantTokenException`); lists
/// longer than the model allows are left to the operation's validation.
fn check_grant_tokens(kms: &Kms, body: &serde_json::Value) -> Result<(), KmsError> {
    let Some(serde_json::Value::Array(tokens)) = body.get("GrantTokens") else {
        return Ok(());
    };
    if tokens.len() > 10 {
        return Ok(());
    }
    for t in tokens {
        match t.as_str() {
            Some(s) if !s.is_empty() && s.len() <= 8192 => {
                crate::grants::verify_token(&kms.root, s)?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn route(
    kms: &Kms,
    caller: &Caller,
    op: Operation,
    body: serde_json::Value,
    request_id: &str,
) -> Result<Vec<u8>, KmsError> {
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
        O::Encrypt => tracked!(kms, caller, body, request_id, op, encrypt, |r| [r.key_id.as_str()]),
        O::Decrypt => tracked!(kms, caller, body, request_id, op, decrypt, |r| [r.key_id.as_str()]),
        O::ReEncrypt => tracked!(kms, caller, body, request_id, op, re_encrypt, |r| [
            r.source_key_id.as_str(),
            r.key_id.as_str()
        ]),
        O::GenerateDataKey => tracked!(kms, caller, body, request_id, op, generate_data_key, |r| [r
            .key_id
            .as_str()]),
        O::GenerateDataKeyWithoutPlaintext => tracked!(
            kms,
            caller,
            body,
            request_id,
            op,
            generate_data_key_without_plaintext,
            |r| [r.key_id.as_str()]
        ),
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
        O::Sign => tracked!(kms, caller, body, request_id, op, sign, |r| [r.key_id.as_str()]),
        O::Verify => tracked!(kms, caller, body, request_id, op, verify, |r| [r.key_id.as_str()]),
        O::GetPublicKey => call!(kms, caller, body, get_public_key),
        O::GenerateMac => tracked!(kms, caller, body, request_id, op, generate_mac, |r| [r.key_id.as_str()]),
        O::VerifyMac => tracked!(kms, caller, body, request_id, op, verify_mac, |r| [r.key_id.as_str()]),
        O::DeriveSharedSecret => tracked!(kms, caller, body, request_id, op, derive_shared_secret, |r| [r
            .key_id
            .as_str()]),
        O::GenerateDataKeyPair => tracked!(kms, caller, body, request_id, op, generate_data_key_pair, |r| [r
            .key_id
            .as_str()]),
        O::GenerateDataKeyPairWithoutPlaintext => tracked!(
            kms,
            caller,
            body,
            request_id,
            op,
            generate_data_key_pair_without_plaintext,
            |r| [r.key_id.as_str()]
        ),
        O::EnableKeyRotation => call!(kms, caller, body, enable_key_rotation),
        O::DisableKeyRotation => call!(kms, caller, body, disable_key_rotation),
        O::GetKeyRotationStatus => call!(kms, caller, body, get_key_rotation_status),
        O::RotateKeyOnDemand => call!(kms, caller, body, rotate_key_on_demand),
        O::ListKeyRotations => call!(kms, caller, body, list_key_rotations),
        O::GetParametersForImport => call!(kms, caller, body, get_parameters_for_import),
        O::ImportKeyMaterial => call!(kms, caller, body, import_key_material),
        O::DeleteImportedKeyMaterial => call!(kms, caller, body, delete_imported_key_material),
        O::GetKeyLastUsage => call!(kms, caller, body, get_key_last_usage),
        O::CreateGrant => call!(kms, caller, body, create_grant),
        O::ListGrants => call!(kms, caller, body, list_grants),
        O::ListRetirableGrants => call!(kms, caller, body, list_retirable_grants),
        O::RetireGrant => call!(kms, caller, body, retire_grant),
        O::RevokeGrant => call!(kms, caller, body, revoke_grant),
        O::DescribeCustomKeyStores => call!(kms, caller, body, describe_custom_key_stores),
        O::ConnectCustomKeyStore
        | O::CreateCustomKeyStore
        | O::DeleteCustomKeyStore
        | O::DisconnectCustomKeyStore
        | O::ReplicateKey
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
        let d = |b: &[u8]| parse_body(b).and_then(decode::<trent_api::dto::ListRequest>);
        assert!(d(b"").is_ok());
        assert!(matches!(d(b"[1]"), Err(KmsError::Serialization(_))));
        assert!(matches!(d(b"{\"Limit\":\"x\"}"), Err(KmsError::Serialization(_))));
        assert!(matches!(d(b"{"), Err(KmsError::Serialization(_))));
    }
}
