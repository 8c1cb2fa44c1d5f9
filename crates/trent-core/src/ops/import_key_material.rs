//! ImportKeyMaterial (reference §7): unwraps material with the wrapping key carried by an import
//! token, checks it fits the key spec, and stores it sealed. First import → `Enabled`; re-import
//! of the same material (same deterministic KeyMaterialId) refreshes expiry; new material for a
//! symmetric key waits in `PENDING_ROTATION` for RotateKeyOnDemand.

use trent_api::dto::{ImportKeyMaterialRequest, KeyMaterialResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_crypto::import::{self, TokenError};
use trent_crypto::seal::{self, Purpose};
use trent_crypto::SecretBytes;
use trent_store::MaterialRecord;

use crate::clock::DAY_MS;
use crate::credentials::Caller;
use crate::ids::Forms;
use crate::keys::{material_record_id, LoadedKey};
use crate::{spec, validate, Kms};

const EXPIRES: &str = "KEY_MATERIAL_EXPIRES";
const NEW: &str = "NEW_KEY_MATERIAL";
const EXISTING: &str = "EXISTING_KEY_MATERIAL";

fn incorrect(text: &str) -> KmsError {
    KmsError::IncorrectKeyMaterial(text.to_owned())
}

/// The material must be what the key spec needs (reference §7 "Key material format").
fn check_material(key: &LoadedKey, material: &SecretBytes) -> Result<(), KmsError> {
    let spec_name = key.record.key_spec.as_str();
    let fits = if spec_name == "SYMMETRIC_DEFAULT" {
        material.len() == 32
    } else if let Some(mac) = spec::mac_of_spec(spec_name) {
        // HMAC key lengths AWS accepts: hash length up to the hash's block size.
        let (min, max) = match mac {
            trent_crypto::hmac::MacAlg::Sha224 => (28, 64),
            trent_crypto::hmac::MacAlg::Sha256 => (32, 64),
            trent_crypto::hmac::MacAlg::Sha384 => (48, 128),
            trent_crypto::hmac::MacAlg::Sha512 => (64, 128),
        };
        (min..=max).contains(&material.len())
    } else if let Some(kind) = spec::key_kind(spec_name) {
        let purpose = spec::purpose(&key.record.key_usage);
        trent_crypto::asymmetric::AsymmetricKey::from_pkcs8(kind, purpose, material.expose()).is_ok()
    } else {
        false
    };
    if fits {
        Ok(())
    } else {
        Err(incorrect(&format!(
            "The key material is not valid for key spec {spec_name}."
        )))
    }
}

pub async fn run(kms: &Kms, caller: &Caller, req: ImportKeyMaterialRequest) -> Result<KeyMaterialResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.import_token {
        None => v.not_null("importToken"),
        Some(t) => validate::blob_length(&mut v, "importToken", t.0.len(), 1, 6144),
    }
    match &req.encrypted_key_material {
        None => v.not_null("encryptedKeyMaterial"),
        Some(m) => validate::blob_length(&mut v, "encryptedKeyMaterial", m.0.len(), 1, 6144),
    }
    if let Some(e) = &req.expiration_model {
        v.one_of("expirationModel", e, &[EXPIRES, "KEY_MATERIAL_DOES_NOT_EXPIRE"]);
    }
    if let Some(t) = &req.import_type {
        v.one_of("importType", t, &[NEW, EXISTING]);
    }
    if let Some(d) = &req.key_material_description {
        v.str_length("keyMaterialDescription", d, 0, 256);
        if !d
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || matches!(c, ':' | '/' | '_' | '.' | '-'))
        {
            v.pattern("keyMaterialDescription", d, "^[a-zA-Z0-9:/_\\s.-]+$");
        }
    }
    if let Some(id) = &req.key_material_id {
        if id.len() != 64 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            v.str_length("keyMaterialId", id, 64, 64);
            v.pattern("keyMaterialId", id, "^[a-f0-9]+$");
        }
    }
    v.finish()?;
    let model = req.expiration_model.clone().unwrap_or_else(|| EXPIRES.to_owned());
    let now = kms.now_ms();
    let valid_to_ms = match (model.as_str(), req.valid_to) {
        (EXPIRES, None) => {
            return Err(KmsError::Validation(
                "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".to_owned(),
            ))
        }
        (EXPIRES, Some(t)) => {
            let ms = (t * 1000.0) as i64;
            if ms <= now || ms > now + 365 * DAY_MS {
                return Err(KmsError::Validation(
                    "The validTo date must be in the future and no more than 365 days from the current date."
                        .to_owned(),
                ));
            }
            Some(ms)
        }
        (_, Some(_)) => {
            return Err(KmsError::Validation(
                "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE".to_owned(),
            ))
        }
        (_, None) => None,
    };
    let op = Operation::ImportKeyMaterial;
    let _guard = kms.write.lock().await;
    let key = kms.resolve(caller, key_id.unwrap_or_default(), Forms::IdOrArn).await?;
    super::authorize(kms, caller, op, &key).await?;
    super::get_parameters_for_import::require_external(&key)?;
    super::get_parameters_for_import::require_importable_state(&key)?;

    let root = kms.root_copy();
    let (arn, token) = (key.arn.clone(), req.import_token.unwrap_or_default());
    let wrapped = req.encrypted_key_material.unwrap_or_default();
    let unwrapped = tokio::task::spawn_blocking(move || import::unwrap(&root, &arn, &token.0, now, &wrapped.0))
        .await
        .map_err(KmsError::internal)?;
    let material = match unwrapped {
        Err(TokenError::Expired) => {
            return Err(KmsError::ExpiredImportToken("The import token has expired.".to_owned()))
        }
        Err(TokenError::Invalid) => {
            return Err(KmsError::InvalidImportToken(
                "The import token is invalid or was issued for a different KMS key.".to_owned(),
            ))
        }
        Ok(Err(_)) => return Err(KmsError::InvalidCiphertext),
        Ok(Ok(m)) => m,
    };
    check_material(&key, &material)?;
    let material_id = import::material_id(&kms.root, key.id(), &material).map_err(KmsError::internal)?;
    let has_versions = !key.versions.is_empty();
    let import_type = req
        .import_type
        .clone()
        .unwrap_or_else(|| if has_versions { EXISTING } else { NEW }.to_owned());
    if let Some(given) = &req.key_material_id {
        if import_type != EXISTING {
            return Err(KmsError::Validation(
                "KeyMaterialId can be specified only with ImportType EXISTING_KEY_MATERIAL.".to_owned(),
            ));
        }
        if given != &material_id {
            return Err(incorrect(
                "The key material does not match the specified KeyMaterialId.",
            ));
        }
    }
    let sealed = seal::seal(
        &kms.root,
        Purpose::KeyMaterial,
        &material_record_id(&key.arn, &material_id),
        &material,
    )
    .map_err(KmsError::internal)?;
    let existing = key.versions.iter().find(|v| v.material_id == material_id);
    let mut record = key.record.clone();
    let version = match (import_type.as_str(), existing) {
        (EXISTING, Some(prev)) => MaterialRecord {
            sealed,
            import_state: Some("IMPORTED".to_owned()),
            expiration_model: Some(model),
            valid_to_ms,
            description: req
                .key_material_description
                .clone()
                .or_else(|| prev.description.clone()),
            ..prev.clone()
        },
        (EXISTING, None) if has_versions => {
            return Err(incorrect(
                "The key material is not the key material previously imported into this KMS key.",
            ))
        }
        (_, Some(_)) => return Err(incorrect("This key material is already associated with the KMS key.")),
        (_, None) => {
            if has_versions && key.record.key_spec != "SYMMETRIC_DEFAULT" {
                return Err(incorrect(
                    "The key material of an asymmetric or HMAC KMS key cannot be changed.",
                ));
            }
            if let Some(pending) = key.versions.iter().find(|v| v.pending_rotation) {
                return Err(KmsError::InvalidState(format!(
                    "New key material (id: {material_id}) cannot be imported into KMS key {}, because another key material (id: {}) is pending rotation.",
                    key.arn, pending.material_id
                )));
            }
            if !has_versions {
                record.current_material_id = Some(material_id.clone());
            }
            MaterialRecord {
                pending_rotation: has_versions,
                import_state: Some("IMPORTED".to_owned()),
                expiration_model: Some(model),
                valid_to_ms,
                description: req.key_material_description.clone(),
                ..MaterialRecord::generated(key.id(), &material_id, sealed, now)
            }
        }
    };
    // Enabled once every non-pending material version is present (reference §7).
    let all_present = key
        .versions
        .iter()
        .filter(|v| v.material_id != version.material_id && !v.pending_rotation)
        .all(|v| v.is_present());
    if record.key_state == "PendingImport" && all_present {
        record.key_state = "Enabled".to_owned();
    }
    let (r, m) = (record, version);
    kms.db(move |s| s.put_material(&r, &m)).await?;
    kms.uncache(key.id());
    Ok(KeyMaterialResponse {
        key_id: key.arn.clone(),
        key_material_id: material_id,
    })
}
