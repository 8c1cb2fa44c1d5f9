//! ListKeyRotations (reference §5): the material versions made by rotation (`ROTATIONS_ONLY`,
//! default) or all of them (`ALL_KEY_MATERIAL`), oldest first, with their state and, for imported
//! keys, import details. Symmetric keys only (`UnsupportedOperationException`).

use trent_api::dto::{ListKeyRotationsRequest, ListKeyRotationsResponse, RotationsListEntry};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_types::{ExpirationModel, ImportState, IncludeKeyMaterial, Origin, RotationType};

use super::common::{finish, IdReq};
use crate::authz::{KeySpec, OneKey};
use crate::clock::epoch_seconds;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct ListKeyRotations;

pub(crate) struct Req {
    id: IdReq,
    all: bool,
    limit: usize,
    after: Option<String>,
}

impl crate::authz::facts::RequestFacts for Req {}

impl KmsOp for ListKeyRotations {
    const OP: Operation = Operation::ListKeyRotations;
    type Input = ListKeyRotationsRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = ListKeyRotationsResponse;

    fn validate(req: ListKeyRotationsRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        let include = validate::enum_member(
            &mut v,
            "includeKeyMaterial",
            &req.include_key_material,
            IncludeKeyMaterial::NAMES,
            IncludeKeyMaterial::parse,
        );
        let limit = validate::limit(&mut v, req.limit, 1000, 100);
        validate::marker(&mut v, &req.marker);
        v.finish()?;
        let after = validate::decode_marker(&req.marker)?;
        Ok(Req {
            id: IdReq {
                key: finish(Violations::new(), raw, checks)?,
            },
            all: include == Some(IncludeKeyMaterial::AllKeyMaterial),
            limit,
            after,
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        req.id.spec()
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<ListKeyRotationsResponse, KmsError> {
        let key = &cx.auth.key;
        if !key.spec().is_symmetric() {
            return Err(KmsError::UnsupportedOperation(String::new()));
        }
        // Keys in custom key stores do not rotate (reference §13).
        if key.record.origin == Origin::ExternalKeyStore {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} origin is {} which is not valid for this operation.",
                key.arn, key.record.origin
            )));
        }
        let external = key.record.origin == Origin::External;
        let current = key.record.current_material_id.as_deref();
        let mut entries: Vec<(String, RotationsListEntry)> = key
            .versions
            .iter()
            .filter(|m| req.all || m.rotation_type.is_some())
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
                    key_id: key.id().to_string(),
                    key_material_id: m.material_id.clone(),
                    key_material_description: m.description.clone().filter(|_| external),
                    import_state: m
                        .import_state
                        .filter(|_| external)
                        .map(|s| ImportState::as_str(s).to_owned()),
                    key_material_state: Some(state.to_owned()),
                    expiration_model: m
                        .expiration_model
                        .filter(|_| external && m.is_present())
                        .map(|e| ExpirationModel::as_str(e).to_owned()),
                    valid_to: m.valid_to_ms.filter(|_| external && m.is_present()).map(epoch_seconds),
                    rotation_date: m.rotation_ms.map(epoch_seconds),
                    rotation_type: m.rotation_type.map(|t| RotationType::as_str(t).to_owned()),
                };
                (sort, entry)
            })
            .filter(|(sort, _)| req.after.as_deref().is_none_or(|a| sort.as_str() > a))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let (next_marker, truncated) = validate::cut_page(&mut entries, req.limit, |(s, _)| s);
        Ok(ListKeyRotationsResponse {
            rotations: entries.into_iter().map(|(_, e)| e).collect(),
            next_marker,
            truncated,
        })
    }
}
