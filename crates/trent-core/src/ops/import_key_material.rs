//! ImportKeyMaterial (reference §7): unwraps material with the wrapping key carried by an import
//! token, checks it fits the key spec, and stores it sealed. First import → `Enabled`; re-import
//! of the same material (same deterministic KeyMaterialId) refreshes expiry; new material for a
//! symmetric key waits in `PENDING_ROTATION` for RotateKeyOnDemand.

use trent_api::dto::{ImportKeyMaterialRequest, KeyMaterialResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};
use trent_crypto::hmac::MacAlg;
use trent_crypto::import::{self, TokenError};
use trent_crypto::seal::{self, Purpose};
use trent_crypto::SecretBytes;
use trent_policy::Values;
use trent_store::MaterialRecord;
use trent_types::{ExpirationModel, ImportState, ImportType, KeyState};

use super::common::finish;
use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::clock::DAY_MS;
use crate::ids::KeyRef;
use crate::keys::{material_record_id, LoadedKey};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::{spec, validate};

pub(crate) struct ImportKeyMaterial;

pub(crate) struct Req {
    key: KeyRef,
    token: Blob,
    wrapped: Blob,
    model: ExpirationModel,
    valid_to_ms: Option<i64>,
    valid_to: Option<f64>,
    import_type: Option<ImportType>,
    description: Option<String>,
    material_id: Option<String>,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:expirationmodel" => facts::one(self.model.as_str()),
            "kms:validto" => self.valid_to.map(|t| t.to_string()).and_then(facts::owned),
            _ => None,
        }
    }
}

fn incorrect(text: &str) -> KmsError {
    KmsError::IncorrectKeyMaterial(text.to_owned())
}

/// The material must be what the key spec needs (reference §7 "Key material format").
fn check_material(key: &LoadedKey, material: &SecretBytes) -> Result<(), KmsError> {
    let spec_ = key.spec();
    let fits = if spec_.is_symmetric() {
        material.len() == 32
    } else if let Some(mac) = spec::mac_of_spec(spec_) {
        // HMAC key lengths AWS accepts: hash length up to the hash's block size.
        let (min, max) = match mac {
            MacAlg::Sha224 => (28, 64),
            MacAlg::Sha256 => (32, 64),
            MacAlg::Sha384 => (48, 128),
            MacAlg::Sha512 => (64, 128),
        };
        (min..=max).contains(&material.len())
    } else if let Some(kind) = spec::key_kind(spec_) {
        let purpose = spec::purpose(key.usage());
        trent_crypto::asymmetric::AsymmetricKey::from_pkcs8(kind, purpose, material.expose()).is_ok()
    } else {
        false
    };
    if fits {
        Ok(())
    } else {
        Err(incorrect(&format!(
            "The key material is not valid for key spec {spec_}."
        )))
    }
}

impl KmsOp for ImportKeyMaterial {
    const OP: Operation = Operation::ImportKeyMaterial;
    const SERIAL: bool = true;
    type Input = ImportKeyMaterialRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = KeyMaterialResponse;

    fn validate(req: ImportKeyMaterialRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        match &req.import_token {
            None => v.not_null("importToken"),
            Some(t) => validate::blob_length(&mut v, "importToken", t.0.len(), 1, 6144),
        }
        match &req.encrypted_key_material {
            None => v.not_null("encryptedKeyMaterial"),
            Some(m) => validate::blob_length(&mut v, "encryptedKeyMaterial", m.0.len(), 1, 6144),
        }
        let model = validate::enum_member(
            &mut v,
            "expirationModel",
            &req.expiration_model,
            ExpirationModel::NAMES,
            ExpirationModel::parse,
        );
        let import_type = validate::enum_member(
            &mut v,
            "importType",
            &req.import_type,
            ImportType::NAMES,
            ImportType::parse,
        );
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
        let model = model.unwrap_or(ExpirationModel::KeyMaterialExpires);
        let valid_to_ms = match (model, req.valid_to) {
            (ExpirationModel::KeyMaterialExpires, None) => {
                return Err(KmsError::Validation(
                    "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".to_owned(),
                ))
            }
            (ExpirationModel::KeyMaterialExpires, Some(t)) => {
                let ms = (t * 1000.0) as i64;
                if ms <= checks.now_ms || ms > checks.now_ms + 365 * DAY_MS {
                    return Err(KmsError::Validation(
                        "The validTo date must be in the future and no more than 365 days from the current date."
                            .to_owned(),
                    ));
                }
                Some(ms)
            }
            (ExpirationModel::KeyMaterialDoesNotExpire, Some(_)) => {
                return Err(KmsError::Validation(
                    "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE".to_owned(),
                ))
            }
            (ExpirationModel::KeyMaterialDoesNotExpire, None) => None,
        };
        Ok(Req {
            key: finish(Violations::new(), raw, checks)?,
            token: req.import_token.unwrap_or_default(),
            wrapped: req.encrypted_key_material.unwrap_or_default(),
            model,
            valid_to_ms,
            valid_to: req.valid_to,
            import_type,
            description: req.key_material_description,
            material_id: req.key_material_id,
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<KeyMaterialResponse, KmsError> {
        let key = &cx.auth.key;
        let kms = cx.kms;
        let now = kms.now_ms();
        let root = kms.root();
        let (arn, token, wrapped) = (key.arn.to_string(), req.token, req.wrapped);
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
        check_material(key, &material)?;
        let material_id =
            import::material_id(kms.derivation(), key.id().as_str(), &material).map_err(KmsError::internal)?;
        let has_versions = !key.versions.is_empty();
        let import_type = req.import_type.unwrap_or(if has_versions {
            ImportType::ExistingKeyMaterial
        } else {
            ImportType::NewKeyMaterial
        });
        if let Some(given) = &req.material_id {
            if import_type != ImportType::ExistingKeyMaterial {
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
            kms.root().current(),
            Purpose::KeyMaterial,
            // Related multi-Region keys share the record: sealed to the ARN they all read it by.
            &material_record_id(&key.material_arn, &material_id),
            &material,
        )
        .map_err(KmsError::internal)?;
        let existing = key.versions.iter().find(|v| v.material_id == material_id);
        let mut record = key.record.clone();
        let version = match (import_type, existing) {
            (ImportType::ExistingKeyMaterial, Some(prev)) => {
                // A multi-Region replica imports the material its primary already has: it
                // becomes the replica's current material too.
                if record.current_material_id.is_none() && !prev.pending_rotation {
                    record.current_material_id = Some(material_id.clone());
                }
                MaterialRecord {
                    sealed,
                    import_state: Some(ImportState::Imported),
                    expiration_model: Some(req.model),
                    valid_to_ms: req.valid_to_ms,
                    description: req.description.clone().or_else(|| prev.description.clone()),
                    ..prev.clone()
                }
            }
            (ImportType::ExistingKeyMaterial, None) if has_versions => {
                return Err(incorrect(
                    "The key material is not the key material previously imported into this KMS key.",
                ))
            }
            (_, Some(_)) => return Err(incorrect("This key material is already associated with the KMS key.")),
            (_, None) => {
                if has_versions && !key.spec().is_symmetric() {
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
                    import_state: Some(ImportState::Imported),
                    expiration_model: Some(req.model),
                    valid_to_ms: req.valid_to_ms,
                    description: req.description.clone(),
                    ..MaterialRecord::generated(*key.id(), &material_id, sealed, now)
                }
            }
        };
        // Enabled once every non-pending material version is present (reference §7).
        let all_present = key
            .versions
            .iter()
            .filter(|v| v.material_id != version.material_id && !v.pending_rotation)
            .all(|v| v.is_present());
        if record.key_state == KeyState::PendingImport && all_present {
            record.key_state = KeyState::Enabled;
        }
        let (r, m) = (record, version);
        kms.write(&cx.auth, move |s| s.put_material(&r, &m)).await?;
        kms.uncache(key.id());
        Ok(KeyMaterialResponse {
            key_id: key.arn.to_string(),
            key_material_id: material_id,
        })
    }
}
