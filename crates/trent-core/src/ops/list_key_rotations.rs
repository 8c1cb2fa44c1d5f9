//! ListKeyRotations (reference §5): the material versions made by rotation (`ROTATIONS_ONLY`,
//! default) or all of them (`ALL_KEY_MATERIAL`), oldest first, with their state and, for imported
//! keys, import details.

use trent_api::dto::{ListKeyRotationsRequest, ListKeyRotationsResponse, RotationsListEntry};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::clock::epoch_seconds;
use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    req: ListKeyRotationsRequest,
) -> Result<ListKeyRotationsResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    if let Some(i) = &req.include_key_material {
        v.one_of("includeKeyMaterial", i, &["ALL_KEY_MATERIAL", "ROTATIONS_ONLY"]);
    }
    let limit = validate::limit(&mut v, req.limit, 1000, 100);
    validate::marker(&mut v, &req.marker);
    v.finish()?;
    let after = validate::decode_marker(&req.marker)?;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::ListKeyRotations,
    )
    .await?;
    if key.record.key_spec != "SYMMETRIC_DEFAULT" {
        return Err(KmsError::UnsupportedOperation(String::new()));
    }
    let all = req.include_key_material.as_deref() == Some("ALL_KEY_MATERIAL");
    let external = key.record.origin == "EXTERNAL";
    let current = key.record.current_material_id.as_deref();
    let mut entries: Vec<(String, RotationsListEntry)> = key
        .versions
        .iter()
        .filter(|m| all || m.rotation_type.is_some())
        .map(|m| {
            let state = if m.pending_rotation {
                "PENDING_ROTATION"
            } else if Some(m.material_id.as_str()) == current {
                "CURRENT"
            } else {
                "NON_CURRENT"
            };
            let sort = format!("{:020}{}", m.rotation_ms.unwrap_or(m.created_ms), m.material_id);
            let entry = RotationsListEntry {
                key_id: key.id().to_owned(),
                key_material_id: m.material_id.clone(),
                key_material_description: m.description.clone().filter(|_| external),
                import_state: m.import_state.clone().filter(|_| external),
                key_material_state: Some(state.to_owned()),
                expiration_model: m.expiration_model.clone().filter(|_| external && m.is_present()),
                valid_to: m.valid_to_ms.filter(|_| external && m.is_present()).map(epoch_seconds),
                rotation_date: m.rotation_ms.map(epoch_seconds),
                rotation_type: m.rotation_type.clone(),
            };
            (sort, entry)
        })
        .filter(|(sort, _)| after.as_deref().is_none_or(|a| sort.as_str() > a))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let (next_marker, truncated) = validate::cut_page(&mut entries, limit, |(s, _)| s);
    Ok(ListKeyRotationsResponse {
        rotations: entries.into_iter().map(|(_, e)| e).collect(),
        next_marker,
        truncated,
    })
}
