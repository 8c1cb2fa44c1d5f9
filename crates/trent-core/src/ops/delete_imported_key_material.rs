//! DeleteImportedKeyMaterial (reference §7): deletes imported material (the current one, or the
//! given version); the key becomes `PendingImport` unless it is pending deletion. The version and
//! its KeyMaterialId remain, so the same material can be imported again. Expiry (ValidTo) runs the
//! same deletion from the scheduler.

use trent_api::dto::{DeleteImportedKeyMaterialRequest, KeyMaterialResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_store::MaterialRecord;

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::keys::LoadedKey;
use crate::{validate, Kms};

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    req: DeleteImportedKeyMaterialRequest,
) -> Result<KeyMaterialResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    if let Some(id) = &req.key_material_id {
        v.str_length("keyMaterialId", id, 64, 64);
    }
    v.finish()?;
    let _guard = kms.write.lock().await;
    let key = kms.resolve(caller, key_id.unwrap_or_default(), Forms::IdOrArn).await?;
    super::authorize(kms, caller, Operation::DeleteImportedKeyMaterial, &key).await?;
    super::get_parameters_for_import::require_external(&key)?;
    let target = match &req.key_material_id {
        Some(id) => id.clone(),
        None => key.record.current_material_id.clone().unwrap_or_default(),
    };
    if !key.versions.iter().any(|v| v.material_id == target) {
        if req.key_material_id.is_some() {
            return Err(KmsError::NotFound(format!(
                "Key material {target} of {} does not exist.",
                key.arn
            )));
        }
        // Nothing was ever imported: no effect (reference §3, PendingImport column).
        return Ok(KeyMaterialResponse {
            key_id: key.arn.clone(),
            key_material_id: target,
        });
    }
    kms.delete_material(&key, &target).await?;
    Ok(KeyMaterialResponse {
        key_id: key.arn.clone(),
        key_material_id: target,
    })
}

impl Kms {
    /// Deletes the bytes of one imported material version (explicit deletion or expiry).
    pub(crate) async fn delete_material(&self, key: &LoadedKey, material_id: &str) -> Result<(), KmsError> {
        let Some(prev) = key.versions.iter().find(|v| v.material_id == material_id) else {
            return Ok(());
        };
        let version = MaterialRecord {
            sealed: Vec::new(),
            import_state: Some("PENDING_IMPORT".to_owned()),
            expiration_model: None,
            valid_to_ms: None,
            ..prev.clone()
        };
        let mut record = key.record.clone();
        if !prev.pending_rotation && !matches!(record.key_state.as_str(), "PendingDeletion" | "PendingReplicaDeletion")
        {
            record.key_state = "PendingImport".to_owned();
        }
        let (r, m) = (record, version);
        self.db(move |s| s.put_material(&r, &m)).await?;
        self.uncache(key.id());
        tracing::info!(key_arn = %key.arn, material_id, "imported key material deleted");
        Ok(())
    }

    /// Deletes imported material whose ValidTo has passed; returns how many.
    pub async fn run_material_expiry(&self) -> Result<usize, KmsError> {
        let now = self.now_ms();
        let expired = self.db(move |s| s.expired_materials(now)).await?;
        let _guard = self.write.lock().await;
        for m in &expired {
            self.uncache(&m.key_id);
            if let Some(key) = self.load_key(&m.key_id).await? {
                self.delete_material(&key, &m.material_id).await?;
            }
        }
        Ok(expired.len())
    }
}
