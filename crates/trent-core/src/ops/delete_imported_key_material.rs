//! DeleteImportedKeyMaterial (reference §7): deletes imported material (the current one, or the
//! given version); the key becomes `PendingImport` unless it is pending deletion. The version and
//! its KeyMaterialId remain, so the same material can be imported again. Expiry (ValidTo) runs the
//! same deletion from the scheduler.

use trent_api::dto::{DeleteImportedKeyMaterialRequest, KeyMaterialResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use super::common::finish;
use crate::authz::facts::RequestFacts;
use crate::authz::{KeySpec, OneKey};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct DeleteImportedKeyMaterial;

pub(crate) struct Req {
    key: KeyRef,
    material_id: Option<String>,
}

impl RequestFacts for Req {}

impl KmsOp for DeleteImportedKeyMaterial {
    const OP: Operation = Operation::DeleteImportedKeyMaterial;
    const SERIAL: bool = true;
    type Input = DeleteImportedKeyMaterialRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = KeyMaterialResponse;

    fn validate(req: DeleteImportedKeyMaterialRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        if let Some(id) = &req.key_material_id {
            v.str_length("keyMaterialId", id, 64, 64);
        }
        Ok(Req {
            key: finish(v, raw, checks)?,
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
        let target = match &req.material_id {
            Some(id) => id.clone(),
            None => key.record.current_material_id.clone().unwrap_or_default(),
        };
        if !key.versions.iter().any(|v| v.material_id == target) {
            if req.material_id.is_some() {
                return Err(KmsError::NotFound(format!(
                    "Key material {target} of {} does not exist.",
                    key.arn
                )));
            }
            // Nothing was ever imported: no effect (reference §3, PendingImport column).
            return Ok(KeyMaterialResponse {
                key_id: key.arn.to_string(),
                key_material_id: target,
            });
        }
        cx.kms.delete_material(&cx.auth, key, &target, false).await?;
        Ok(KeyMaterialResponse {
            key_id: key.arn.to_string(),
            key_material_id: target,
        })
    }
}
